"""``flask tasks``: create labelling tasks."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.models import QueueOrder, Reco
from app.services.certification.tasks import create_task


def _run_range(value: str | None) -> tuple[int, int | None] | None:
    """FIRST-LAST, FIRST (one run) or FIRST- (FIRST and every run above it, imported now or later)."""
    if value is None:
        return None
    first, sep, last = value.strip().partition("-")
    if not (first.isdigit() and (not last or last.isdigit())):
        raise click.BadParameter(
            "write a run range as FIRST-LAST, for example 315257-315270, or FIRST- for every run from FIRST on"
        )
    if sep and not last:
        return int(first), None
    if last and int(last) < int(first):
        raise click.BadParameter(f"the range {value} ends before it starts")
    return int(first), int(last or first)


@click.group("tasks")
def tasks() -> None:
    """Manage labelling tasks."""


@tasks.command("create")
@click.argument("name")
@click.option("--reco", required=True, type=click.Choice([r.value for r in Reco]))
@click.option(
    "--runs",
    "run_range",
    help="Imported runs FIRST-LAST to include (default: all imported runs); FIRST- also gains every run "
    "numbered FIRST or above imported later.",
)
@click.option("--dataset", help="The dataset name the runs were recorded in.")
@click.option("--double", is_flag=True, help="Two shifters certify each run, blind to each other.")
@click.option(
    "--order",
    type=click.Choice([o.value for o in QueueOrder]),
    default=QueueOrder.RUN.value,
    show_default=True,
    help="Queue order of the next run: by run number, uncertainty of the models, or their disagreement.",
)
@click.option(
    "--blind-fraction",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Share of runs certified blind: no suggestion shown before the shifter certified.",
)
@with_appcontext
@on_refusal()
def create(
    name: str,
    reco: str,
    run_range: str | None,
    dataset: str | None,
    double: bool,
    order: str,
    blind_fraction: float,
) -> None:
    """Create a labelling task over imported runs; prints the task id as the last line."""
    task = create_task(
        name,
        reco,
        runs=_run_range(run_range),
        dataset=dataset,
        double=double,
        order=order,
        blind_fraction=blind_fraction,
    )
    following = f", gaining every run from {task.runs_from} imported later" if task.runs_from is not None else ""
    click.echo(f"created task {task.name!r} with {len(task.runs)} runs{following}", err=True)
    click.echo(task.id)
