"""``flask worker``: run an RQ worker on REDIS_URL."""

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queue to listen on (repeatable); default RQ_QUEUE.")
@click.option("--fork/--no-fork", default=False, help="Run each job in a forked child (isolated, slower).")
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...], fork: bool) -> None:
    """Run a background worker that scores submissions and runs other jobs."""
    from workers.worker import run_worker  # the one place the web package starts a worker

    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
        run_worker(app, burst=burst, queues=list(queues) or None, fork=fork)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
