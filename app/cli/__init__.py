"""Server commands, ``flask --app wsgi <group> <command>``, one module per group."""

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from app.services.errors import Refused


def on_refusal(heading: str | None = None, *, listed: bool = False) -> Callable[[Callable], Callable]:
    """Make a command answer a service's Refused as its error: exit status 1 and the message on standard error,
    no traceback. The message follows the heading when there is one; ``listed`` puts each problem on a line of
    its own under the heading instead."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def refusing(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except Refused as refused:
                if listed:
                    message = f"{heading}:\n" + "\n".join(f"  - {problem}" for problem in refused.problems)
                else:
                    message = f"{heading}: {refused.message}" if heading else refused.message
                raise click.ClickException(message) from None

        return refusing

    return decorate


def register(app: Flask) -> None:
    """Add every command group to the app's CLI."""
    from app.cli import publishing, run_registry, suggestions  # noqa: F401  (`tasks publish`, `push-rr`, `suggest`)
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
