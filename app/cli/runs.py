"""``flask runs``: import runs and lumisections, from files or from the OMS API; the Run Registry's ranges; and
runs' monitoring elements from DQMIO or ML4DQM dumps."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.services.runs.documents import Format
from app.services.runs.element_store import import_dump
from app.services.runs.importer import import_conditions, import_file
from app.services.runs.run_registry import DEFAULT_DATASET, RunRegistryClient, import_from_rr
from app.services.runs.sources import oms_api


@click.group("runs")
def runs() -> None:
    """Manage runs and lumisections."""


@runs.command("import")
@click.argument("sources", nargs=-1, required=True, metavar="PATH | RUN...")
@click.option("--as", "as_format", type=click.Choice(["oms", "dcs", "golden"]), help="The file's format.")
@click.option("--from-oms", is_flag=True, help="Fetch the runs numbered RUN... from the OMS API at OMS_API_URL.")
@click.option(
    "--from-rr",
    is_flag=True,
    help="Read the tracker's lumisection ranges of RUN... from the Run Registry at RR_API_URL.",
)
@click.option("--dataset", help=f"The Run Registry dataset of --from-rr (default {DEFAULT_DATASET}).")
@with_appcontext
@on_refusal("nothing was imported")
def import_command(
    sources: tuple[str, ...], as_format: Format | None, from_oms: bool, from_rr: bool, dataset: str | None
) -> None:
    """Import an OMS per-lumisection JSON, or a golden or DCS-only JSON; or, with --from-oms, runs from OMS;
    or, with --from-rr, the Run Registry's tracker ranges of runs.

    \b
    flask runs import PATH [--as oms|dcs|golden]
    flask runs import --from-oms RUN [RUN ...]
    flask runs import --from-rr RUN [RUN ...] [--dataset NAME]
    """
    if dataset is not None and not from_rr:
        raise click.UsageError("--dataset names a Run Registry dataset: it goes with --from-rr")
    if from_rr:
        if as_format or from_oms:
            raise click.UsageError("--from-rr reads the Run Registry alone: no --as, no --from-oms")
        _import_from_rr(_run_numbers(sources), dataset or DEFAULT_DATASET)
        return
    if from_oms:
        if as_format:
            raise click.UsageError("--as names the format of a file; OMS needs none")
        report = import_conditions(oms_api(current_app.config, _run_numbers(sources)).read())
    else:
        if len(sources) != 1:
            raise click.UsageError("give one PATH, or --from-oms and run numbers")
        path = click.Path(exists=True, dir_okay=False).convert(sources[0], None, click.get_current_context())
        report = import_file(Path(os.fsdecode(path)), as_format)
    click.echo(f"imported {report.lumisections} lumisections of {report.runs} runs ({report.format})")
    if report.format == "oms":
        click.echo(f"{report.clamped} negative luminosity values clamped to 0")


@runs.command("import-mes")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "as_format",
    type=click.Choice(["dqmio", "ml4dqm"]),
    help="The dump's layout (default: from the extension, .parquet DQMIO, .csv ML4DQM).",
)
@with_appcontext
@on_refusal("nothing was imported")
def import_mes_command(path: str, as_format: str | None) -> None:
    """Store the per-lumisection monitoring elements of a DQMIO Parquet or ML4DQM CSV dump, by run.

    Read a batch at a time, so a dump larger than memory imports; stored in one transaction, so a bad dump
    stores nothing. An element a run already has is replaced; a run not imported yet is created.
    """
    report = import_dump(Path(os.fsdecode(path)), as_format)
    click.echo(f"{report.runs} runs, {report.lumisections} lumisections, {report.elements} monitoring elements")


def _import_from_rr(run_numbers: list[int], dataset: str) -> None:
    """Fetch every run's ranges from RR, then store them in one transaction, and say what was stored."""
    if not dataset.strip():
        raise click.UsageError("--dataset must name a dataset")
    client = RunRegistryClient.from_config(current_app.config)
    try:
        report = import_from_rr(client, run_numbers, dataset)
    finally:
        client.close()
    for run, count in report.runs.items():
        click.echo(f"run {run}: {count} tracker ranges")
    click.echo(f"imported the Run Registry ranges of {len(report.runs)} runs (dataset {report.dataset_name})")


def _run_numbers(sources: tuple[str, ...]) -> list[int]:
    """The run numbers given on the command line, each a positive whole number."""
    bad = [source for source in sources if not (source.isdigit() and int(source) > 0)]
    if bad:
        raise click.UsageError(f"run numbers are positive whole numbers, not {', '.join(map(repr, bad))}")
    return [int(source) for source in sources]
