"""``flask tasks push-rr``: a task's approved certifications written to the Run Registry."""

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.cli.tasks import tasks
from app.extensions import db
from app.models import LabellingTask
from app.services.runs.rr_push import RunPush, check_write_allowed, push_task
from app.services.runs.run_registry import DEFAULT_DATASET, RunRegistryClient, serialised


def _show(push: RunPush) -> None:
    """Print a run's edits exactly as they are sent, one JSON body a line."""
    if not push.edits:
        click.echo(f"run {push.run_number}: matches the Run Registry, nothing to send")
        return
    click.echo(f"run {push.run_number}: {len(push.edits)} edits")
    for body in push.edits:
        click.echo(serialised(body))


@tasks.command("push-rr")
@click.argument("task_id", type=int)
@click.option("--dry-run", is_flag=True, help="Print the edits that would be sent, and send nothing.")
@click.option(
    "--dataset", default=DEFAULT_DATASET, show_default=True, metavar="NAME", help="The Run Registry dataset written."
)
@with_appcontext
@on_refusal()
def push_rr(task_id: int, dry_run: bool, dataset: str) -> None:
    """Write the task's approved certifications to the Run Registry as lumisection edits; refuses unless
    RR_WRITE=1; prints what it sends.

    \b
    flask tasks push-rr TASK_ID [--dry-run] [--dataset NAME]

    For each run, RR's current ranges (RR_API_URL, RR_TOKEN) are read first and only the lumisections whose
    status differs are sent, one PUT lumisections/edit_rr_lumisections per span of a tracker component: a run
    that already matches sends nothing. RR's STANDBY and EXCLUDED are left as they are. Each run pushed is
    audited with RR's answers; an RR error stops the push and names the run and what was already sent.
    """
    if not dry_run:
        check_write_allowed(current_app.config)
    if not dataset.strip():
        raise click.UsageError("--dataset must name a dataset")
    task = db.session.get(LabellingTask, task_id)
    if task is None:
        raise click.ClickException(f"no labelling task {task_id}")
    client = RunRegistryClient.from_config(current_app.config)
    try:
        report = push_task(task, client, dataset, dry_run=dry_run, show=_show)
    finally:
        client.close()
    edits, runs = sum(report.edits.values()), len(report.edits)
    matched = f"; {len(report.unchanged)} runs already matched" if report.unchanged else ""
    if dry_run:
        click.echo(f"dry run: would send {edits} edits for {runs} runs (dataset {dataset}){matched}; nothing was sent")
    else:
        click.echo(f"sent {edits} edits for {runs} runs to the Run Registry (dataset {dataset}){matched}")
