"""The ``playground`` command."""

from __future__ import annotations

import click

from playground_client import config
from playground_client.api import ApiError, Client


def _client() -> Client:
    login = config.load()
    if not login.url or not login.token:
        raise click.ClickException("not logged in: run `playground login --url URL --token TOKEN` first")
    return Client(login.url, login.token)


@click.group()
def main() -> None:
    """Take part in DQM Playground competitions from the command line."""


@main.command()
@click.option("--url", envvar="PLAYGROUND_URL", required=True, help="Address of the platform.")
@click.option("--token", envvar="PLAYGROUND_TOKEN", required=True, help="API token from your account page.")
def login(url: str, token: str) -> None:
    """Check the token against the platform and save it."""
    try:
        me = Client(url, token).me()
    except ApiError as error:
        raise click.ClickException(error.message) from None
    path = config.save(url, token)
    click.echo(f"logged in to {url} as {me['username']} (saved in {path})")


@main.command()
def whoami() -> None:
    """Print the user the saved token belongs to."""
    try:
        me = _client().me()
    except ApiError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{me['username']} ({', '.join(me['roles']) or 'no roles'})")
