"""``flask competitions``: import bundles."""

import click
from flask.cli import with_appcontext

from app.services.competitions.bundles import BundleError, import_bundle


@click.group("competitions")
def competitions() -> None:
    """Manage competitions."""


@competitions.command("import")
@click.argument("path", type=click.Path(exists=True))
@with_appcontext
def import_command(path: str) -> None:
    """Import a competition bundle (a folder or a .zip); prints the slug as the last line."""
    try:
        competition = import_bundle(path)
    except BundleError as error:
        raise click.ClickException(
            "the bundle was refused:\n" + "\n".join(f"  - {problem}" for problem in error.problems)
        ) from None
    click.echo(f"imported {competition.title!r} with {len(competition.dataset_version.files)} files", err=True)
    click.echo(competition.slug)
