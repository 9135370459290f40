"""``flask demo``: seed the demo data set."""

import time

import click
from flask.cli import with_appcontext


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no account yet.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Seed the demo data (idempotent) and print the demo logins."""
    import demo  # outside the application: loaded only to seed

    if if_empty and not demo.database_is_empty():
        click.echo("The database is not empty; the demo was not seeded again.")
    else:
        started = time.monotonic()
        demo.seed(say=lambda message: click.echo(f"  {message}"))
        click.echo(f"Demo ready in {time.monotonic() - started:.0f} s.")
    click.echo("Demo logins (username / password: roles):")
    for login in demo.DEMO_USERS:
        roles = ", ".join(role.value for role in login.roles)
        click.echo(f"  {login.username:6} / {login.password}: {roles}")
