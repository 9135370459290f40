"""``flask tasks publish``: a task's approved labels as a dataset version."""

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.cli.tasks import tasks
from app.extensions import db
from app.models import LabellingTask
from app.services.datasets import publishing


@tasks.command("publish")
@click.argument("task_id", type=int)
@click.option("--slug", help="Dataset slug; an existing dataset gets a new version (default: from the task's name).")
@click.option("--title", help="Title of a new dataset (default: the task's name).")
@click.option("--test-fraction", type=float, default=publishing.DEFAULT_TEST_FRACTION, show_default=True)
@click.option("--public-share", type=float, default=publishing.DEFAULT_PUBLIC_SHARE, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@with_appcontext
@on_refusal("nothing was published", listed=True)
def publish(
    task_id: int, slug: str | None, title: str | None, test_fraction: float, public_share: float, seed: int
) -> None:
    """Publish a task's approved labels split by run; prints the dataset version id as the last line."""
    task = db.session.get(LabellingTask, task_id)
    if task is None:
        raise click.ClickException(f"no labelling task {task_id}")
    published = publishing.publish(
        task, slug=slug, title=title, test_fraction=test_fraction, public_share=public_share, seed=seed
    )
    version, summary = published.version, published.summary
    click.echo(f"published {version.dataset.slug} version {version.number}", err=True)
    for name, side in (("train", summary.train), ("test", summary.test)):
        click.echo(f"  {name}: {side.runs} runs, {side.lumisections} lumisections, {side.bad_share:.1%} bad", err=True)
    click.echo(version.id)
