"""``flask users``: create accounts and API tokens."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.extensions import db
from app.models import ApiToken, Role
from app.services import accounts

ROLE_CHOICE = click.Choice([role.value for role in Role])


@click.group("users")
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("name")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Role to grant (repeatable).")
@click.option("--password", help="Password; prompted for when absent.")
@click.option("--email", help="E-mail address.")
@with_appcontext
@on_refusal()
def create(name: str, roles: tuple[str, ...], password: str | None, email: str | None) -> None:
    """Create user NAME with the given roles."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = accounts.create_user(name, password, email=email, roles={Role(r) for r in roles})
    db.session.commit()
    held = ", ".join(sorted(r.value for r in user.roles)) or "no roles"
    click.echo(f"created user {user.username} ({held})")


@users.command("token")
@click.argument("name")
@click.option("--label", default="cli", show_default=True, help="A name to recognise the token by.")
@with_appcontext
def token(name: str, label: str) -> None:
    """Create an API token for user NAME and print it as the last line (it is shown only once)."""
    user = accounts.find_user(name)
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    row, secret = ApiToken.issue(user, label)
    db.session.add(row)
    db.session.commit()
    click.echo(f"API token {row.prefix}... for {user.username}; store it now, it is not shown again:", err=True)
    click.echo(secret)


@users.command("list")
@with_appcontext
def list_users() -> None:
    """List users and their roles."""
    for user in accounts.all_users():
        roles = ",".join(sorted(r.value for r in user.roles)) or "-"
        click.echo(f"{user.username}\t{roles}\t{user.email or ''}")
