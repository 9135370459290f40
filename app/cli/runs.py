"""``flask runs``: import runs and lumisections."""

import click
from flask.cli import with_appcontext

from app.services.run_import import RunImportError, import_file


@click.group("runs")
def runs() -> None:
    """Manage runs and lumisections."""


@runs.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_format", type=click.Choice(["oms", "dcs", "golden"]), help="The file's format.")
@with_appcontext
def import_command(path: str, as_format: str | None) -> None:
    """Import an OMS per-lumisection JSON, or a golden or DCS-only JSON."""
    try:
        report = import_file(path, as_format)
    except RunImportError as error:
        raise click.ClickException(f"nothing was imported: {error}") from None
    click.echo(f"imported {report.lumisections} lumisections of {report.runs} runs ({report.format})")
