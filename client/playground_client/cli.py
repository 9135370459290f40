"""The ``playground`` command: take part in competitions from a terminal.

Every refusal is printed as the server's message on standard error, with exit
status 1; nothing here prints a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from playground_client import config
from playground_client.api import Client
from playground_client.connection import ApiError


class _Commands(click.Group):
    """Turns every ApiError and file error into a one-line message and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as error:
            raise click.ClickException(error.message) from None
        except (OSError, ValueError) as error:
            raise click.ClickException(str(error)) from None


def _say(message: str) -> None:
    click.echo(message, err=True)


def _client() -> Client:
    login = config.load()
    if not login.url or not login.token:
        raise click.ClickException(
            "not logged in: run `playground login --url URL --token TOKEN`, or set PLAYGROUND_URL and PLAYGROUND_TOKEN"
        )
    return Client(login.url, login.token, on_wait=_say)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows as aligned columns."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.group(cls=_Commands)
@click.version_option(package_name="dqm-playground-client")
def main() -> None:
    """Take part in DQM Playground competitions from the command line.

    Log in once with `playground login`; PLAYGROUND_URL and PLAYGROUND_TOKEN override the saved login.
    """


@main.command()
@click.option("--url", envvar="PLAYGROUND_URL", required=True, help="Address of the platform.")
@click.option("--token", envvar="PLAYGROUND_TOKEN", required=True, help="API token from your account page.")
def login(url: str, token: str) -> None:
    """Check the token against the platform and save it (readable by you only)."""
    me = Client(url, token, on_wait=_say).me()
    path = config.save(url, token)
    click.echo(f"logged in to {url} as {me['username']} (saved in {path})")


@main.command()
def whoami() -> None:
    """Print the user the token belongs to."""
    me = _client().me()
    click.echo(f"{me['username']} ({', '.join(me['roles']) or 'no roles'})")


@main.command()
def competitions() -> None:
    """List the competitions."""
    rows = [(c.slug, c.phase, c.metric, _when(c.closes_at), c.participants, c.title) for c in _client().competitions()]
    _table(("slug", "phase", "metric", "closes (UTC)", "participants", "title"), rows)


@main.command()
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Accept the rules without asking.")
def join(slug: str, yes: bool) -> None:
    """Join a competition, accepting its rules."""
    client = _client()
    title = client.competition(slug).title
    if not yes:
        click.confirm(f"Join {title!r} and accept its rules (read them on its page)?", abort=True)
    client.join(slug)
    click.echo(f"joined {slug}")


@main.command()
@click.argument("slug")
@click.option("-d", "--directory", default=".", show_default=True, help="Folder to write the files to.")
@click.option("-f", "--file", "names", multiple=True, help="Only this file (repeatable).")
def download(slug: str, directory: str, names: tuple[str, ...]) -> None:
    """Download a competition's public files, resuming partial ones and checking each sha256."""
    for path in _client().download(slug, directory, list(names) or None):
        click.echo(f"{path}  sha256 ok")


@main.command()
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("-m", "--message", default="", help="A description of this submission.")
@click.option("--wait", is_flag=True, help="Wait for the score; exit non-zero if scoring fails.")
@click.option("--timeout", default=3600, show_default=True, help="Seconds to wait with --wait.")
@click.option(
    "--baseline", is_flag=True, help="Organisers: a baseline, listed under the -m message, never ranked, no joining."
)
def submit(slug: str, file: str, message: str, wait: bool, timeout: int, baseline: bool) -> None:
    """Submit a prediction file."""
    client = _client()
    submission = client.submit(slug, file, description=message, baseline=baseline)
    click.echo(f"submission {submission.id} {submission.status}")
    if not wait:
        return
    if not submission.finished:
        submission = client.wait(submission.id, timeout=timeout)
    if submission.status == "failed":
        raise click.ClickException(f"submission {submission.id} failed: {submission.error}")
    scores = f"public score {_score(submission.public_score)}"
    if submission.private_score is not None:
        scores += f", private score {_score(submission.private_score)}"
    click.echo(f"submission {submission.id} scored: {scores}")


@main.command()
@click.argument("task_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", "-n", required=True, help="The model's name, as shifters see it.")
@click.option("--version", "model_version", default="", help="The model's version.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Scores at or above it are suggested bad (0.5).")
def suggest(task_id: int, file: str, name: str, model_version: str, threshold: float | None) -> None:
    """Upload a model's scores (CSV run,lumisection,score) as suggestions for a labelling task's shifters
    (organisers and shift leaders); prints the source id last."""
    added = _client().suggest(task_id, file, name, version=model_version, threshold=threshold)
    _say(f"added {added['rows']} scores to task {task_id}")
    click.echo(added["source_id"])


@main.command()
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--description", default="", help="A note on the model that made these predictions.")
def live(slug: str, file: str, description: str) -> None:
    """Post live predictions for a live competition's current pending.csv; prints the live source id last."""
    source_id = _client().post_live(slug, file, description=description)
    click.echo(f"live source {source_id} accepted; it is scored as the pending runs' certifications are approved")
    click.echo(source_id)


@main.command("live-leaderboard")
@click.argument("slug")
def live_leaderboard(slug: str) -> None:
    """Show a live competition's live leaderboard."""
    rows = [
        (
            "-" if r["rank"] is None else r["rank"],
            r["participant"],
            r["source_id"],
            _score(r["score"]),
            r["runs"],
            r["lumisections"],
        )
        for r in _client().live_leaderboard(slug)
    ]
    _table(("rank", "participant", "source", "score", "runs", "lumisections"), rows)


@main.command()
@click.argument("slug")
def submissions(slug: str) -> None:
    """List your submissions to a competition."""
    rows = [
        (
            s.id,
            _when(s.submitted_at),
            s.status,
            _score(s.public_score),
            _score(s.private_score),
            "*" if s.selected else "",
            s.error or s.description,
        )
        for s in _client().submissions(slug)
    ]
    _table(("id", "submitted (UTC)", "status", "public", "private", "final", "description / error"), rows)


@main.command()
@click.argument("slug")
@click.option("--private", is_flag=True, help="The private leaderboard (once revealed).")
def leaderboard(slug: str, private: bool) -> None:
    """Show a competition's leaderboard."""
    rows = [
        (
            "-" if r.rank is None else r.rank,
            r.participant + (" (baseline)" if r.baseline else ""),
            _score(r.score),
            r.submissions,
            _when(r.last_submitted_at),
            ", ".join(r.members or []) if r.team else "",
        )
        for r in _client().leaderboard(slug, private=private)
    ]
    _table(("rank", "participant", "score", "entries", "last (UTC)", "team members"), rows)


@main.group()
def team() -> None:
    """Compete as a team: create one, join one by its invite, leave it."""


@team.command("create")
@click.argument("slug")
@click.argument("name")
def team_create(slug: str, name: str) -> None:
    """Create a team of a competition and lead it; prints the invite token others join with."""
    created = _client().create_team(slug, name)
    click.echo(f"team {created.name!r} created (id {created.id}); others join with:")
    click.echo(f"playground team join {slug} {created.invite_token}")


@team.command("join")
@click.argument("slug")
@click.argument("token")
def team_join(slug: str, token: str) -> None:
    """Join a team by its invite token (or its invite link); your submissions count for it from then on."""
    joined = _client().join_team(slug, token)
    click.echo(f"joined team {joined.name!r}: {', '.join(joined.members)}")


@team.command("leave")
@click.argument("slug")
def team_leave(slug: str) -> None:
    """Leave your team of a competition (while it has not submitted, or before the merge deadline)."""
    left = _client().leave_team(slug)
    click.echo(f"left team {left.name!r}")


@team.command("show")
@click.argument("slug")
def team_show(slug: str) -> None:
    """Show your team of a competition: members, leader, submissions and invite token."""
    mine = _client().my_team(slug)
    if mine is None:
        click.echo(f"you compete alone in {slug}")
        return
    click.echo(f"team {mine.name!r} (id {mine.id}), led by {mine.leader}: {', '.join(mine.members)}")
    click.echo(f"{mine.submissions} submissions; invite token {mine.invite_token}")


@main.command()
@click.argument("submission_id", type=int)
@click.option("--off", is_flag=True, help="Unpick instead.")
def select(submission_id: int, off: bool) -> None:
    """Pick a scored submission for the private leaderboard (or unpick it with --off)."""
    client = _client()
    if off:
        client.unselect(submission_id)
        click.echo(f"submission {submission_id} unpicked")
    else:
        client.select(submission_id)
        click.echo(f"submission {submission_id} picked for the private leaderboard")


@main.command()
@click.argument("slug")
@click.option("-d", "--directory", default=".", show_default=True, help="Folder to write the zip to.")
@click.option("--timeout", default=3600, show_default=True, help="Seconds to wait for the zip to be built.")
def export(slug: str, directory: str, timeout: int) -> None:
    """Organisers: download every submission file of a competition, and scores.csv, as one zip."""
    path = _client().export(slug, directory, timeout=timeout)
    click.echo(f"{path}  sha256 ok")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
