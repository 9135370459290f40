"""``flask competitions``: import bundles, create competitions on published dataset versions."""

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from app.cli import on_refusal
from app.extensions import db
from app.models import DatasetVersion
from app.services.competitions import on_datasets
from app.services.competitions.bundles import import_bundle


@click.group("competitions")
def competitions() -> None:
    """Manage competitions."""


@competitions.command("import")
@click.argument("path", type=click.Path(exists=True))
@with_appcontext
@on_refusal("the bundle was refused", listed=True)
def import_command(path: str) -> None:
    """Import a competition bundle (a folder or a .zip); prints the slug as the last line."""
    competition = import_bundle(path)
    click.echo(f"imported {competition.title!r} with {len(competition.dataset_version.files)} files", err=True)
    click.echo(competition.slug)


def _utc_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2026-12-31 or 2026-12-31T23:59:59Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@competitions.command("create")
@click.option("--dataset-version", "version_id", type=int, required=True, help="A published dataset version's id.")
@click.option("--slug", required=True, help="The competition's slug (3 to 100 lowercase letters, digits, dashes).")
@click.option("--title", help="Its title (default: the dataset's).")
@click.option("--metric", default="roc_auc", show_default=True, help="A name from the scorers registry.")
@click.option("--closes-at", help="When it closes, UTC (e.g. 2026-12-31T23:59:59Z); default: never.")
@click.option(
    "--live", is_flag=True, help="Serve pending.csv of the task's runs still to certify; take live predictions."
)
@with_appcontext
@on_refusal("the competition was refused", listed=True)
def create_command(
    version_id: int, slug: str, title: str | None, metric: str, closes_at: str | None, live: bool
) -> None:
    """A competition on a published dataset version, as the page does; prints the slug as the last line."""
    version = db.session.get(DatasetVersion, version_id)
    if version is None:
        raise click.ClickException(f"no dataset version {version_id}")
    settings = on_datasets.CompetitionSettings(
        slug=slug.strip(),
        title=title or version.dataset.title,
        overview=on_datasets.overview_for(version),
        metric=metric,
        closes_at=_utc_date(closes_at),
        live=live,
    )
    competition = on_datasets.create_competition(version, settings)
    where = f"{version.dataset.slug} v{version.number}"
    pending = competition.pending_file
    if competition.live:
        rows = f"{pending.lumisections} lumisections of {pending.runs} runs" if pending else "not written yet"
        click.echo(f"created live competition {competition.title!r} on {where}; pending.csv: {rows}", err=True)
    else:
        click.echo(f"created competition {competition.title!r} on {where}", err=True)
    click.echo(competition.slug)
