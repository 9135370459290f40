"""Server commands, ``flask --app wsgi <group> <command>``, one module per group."""

from flask import Flask


def register(app: Flask) -> None:
    """Add every command group to the app's CLI."""
    from app.cli import publishing, suggestions  # noqa: F401  (add `tasks publish`, `tasks suggest`)
    from app.cli.competitions import competitions
    from app.cli.demo import demo_command
    from app.cli.runs import runs
    from app.cli.tasks import tasks
    from app.cli.users import users
    from app.cli.worker import worker_command

    app.cli.add_command(users)
    app.cli.add_command(competitions)
    app.cli.add_command(runs)
    app.cli.add_command(tasks)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)
