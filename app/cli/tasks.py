"""``flask tasks``: create labelling tasks."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.models import Reco
from app.services.certification.tasks import create_task


def _run_range(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    first, sep, last = value.partition("-")
    if not (first.isdigit() and (not sep or last.isdigit())):
        raise click.BadParameter("write a run range as FIRST-LAST, for example 315257-315270")
    return int(first), int(last or first)


@click.group("tasks")
def tasks() -> None:
    """Manage labelling tasks."""


@tasks.command("create")
@click.argument("name")
@click.option("--reco", required=True, type=click.Choice([r.value for r in Reco]))
@click.option("--runs", "run_range", help="Imported runs FIRST-LAST to include (default: all imported runs).")
@click.option("--dataset", help="The dataset name the runs were recorded in.")
@click.option("--double", is_flag=True, help="Two shifters certify each run, blind to each other.")
@with_appcontext
@on_refusal()
def create(name: str, reco: str, run_range: str | None, dataset: str | None, double: bool) -> None:
    """Create a labelling task over imported runs; prints the task id as the last line."""
    task = create_task(name, reco, runs=_run_range(run_range), dataset=dataset, double=double)
    click.echo(f"created task {task.name!r} with {len(task.runs)} runs", err=True)
    click.echo(task.id)
