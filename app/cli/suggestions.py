"""``flask tasks suggest``: an external model's scores as a source of suggestions for a task's shifters."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.cli.tasks import tasks
from app.extensions import db
from app.models import LabellingTask
from app.services.suggestions import sources


@tasks.command("suggest")
@click.argument("task_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The model's name, as shifters see it.")
@click.option("--version", default="", help="The model's version.")
@click.option(
    "--threshold",
    type=float,
    default=0.5,
    show_default=True,
    help="Lumisections scored at or above it are suggested bad.",
)
@with_appcontext
@on_refusal("nothing was imported", listed=True)
def suggest(task_id: int, file: str, name: str, version: str, threshold: float) -> None:
    """Import an external model's scores (CSV run,lumisection,score, each in [0, 1]) as an active source of the
    task; all or nothing. Prints the source id as the last line."""
    task = db.session.get(LabellingTask, task_id)
    if task is None:
        raise click.ClickException(f"no labelling task {task_id}")
    with open(file, "rb") as stream:
        source = sources.import_upload(task, stream, name=name, version=version, threshold=threshold, file_name=file)
    click.echo(f"added source {source.name!r} with {source.rows} scores to task {task.id}", err=True)
    click.echo(source.id)
