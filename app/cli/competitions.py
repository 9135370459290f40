"""``flask competitions``: import bundles."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.services.competitions.bundles import import_bundle


@click.group("competitions")
def competitions() -> None:
    """Manage competitions."""


@competitions.command("import")
@click.argument("path", type=click.Path(exists=True))
@with_appcontext
@on_refusal("the bundle was refused", listed=True)
def import_command(path: str) -> None:
    """Import a competition bundle (a folder or a .zip); prints the slug as the last line."""
    competition = import_bundle(path)
    click.echo(f"imported {competition.title!r} with {len(competition.dataset_version.files)} files", err=True)
    click.echo(competition.slug)
