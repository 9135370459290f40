"""Competitions on a published dataset version: no bundle to upload, the same checks as one.

An organiser picks a version and the competition's settings; the version's solution
and public files are checked exactly as an imported bundle's are, and nothing is
written unless everything holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import scorers
from app.extensions import db
from app.models import Competition, DatasetFile, DatasetVersion, FileKind, User
from app.services.competitions.bundle_checks import check_solution, split_clashes
from app.services.competitions.bundle_reader import Bundle
from app.services.datasets.publishing import SLUG_PATTERN
from app.services.datasets.version_files import ID, TARGET
from app.services.errors import Refused, refused_if_taken
from app.services.storage import get_storage
from app.services.suggestions import pending


@dataclass
class CompetitionSettings:
    """What an organiser chooses for a competition on an existing dataset version."""

    slug: str
    title: str
    overview: str = ""
    metric: str = "roc_auc"
    id_column: str = ID
    target_column: str = TARGET
    public_fraction: float = 0.3
    split_seed: int = 0
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    daily_limit: int = 5
    total_limit: int | None = None
    final_selections: int = 2
    live: bool = False  # serve pending.csv and take live predictions: needs a version published from a task
    live_daily_limit: int = 1


def overview_for(version: DatasetVersion) -> str:
    """A starting overview in Markdown for a competition on the version."""
    return (
        f"# {version.dataset.title}\n\n"
        "Find the lumisections certified bad. Each row of `train.csv` and `test.csv` is one lumisection with its "
        "run, number and conditions; `label` is 1 when the lumisection is bad. Runs are never split between "
        "train and test. Submit one `label` score per id of `test.csv`, as `sample_submission.csv` shows.\n\n"
        f"Dataset `{version.dataset.slug}`, version {version.number}. {version.notes}\n"
    )


def _check_competition(version: DatasetVersion, settings: CompetitionSettings) -> tuple[DatasetFile, dict[str, Any]]:
    """The version's solution file and the checked target column and sample submission, or Refused."""
    problems = []
    if not SLUG_PATTERN.match(settings.slug):
        problems.append(f"slug {settings.slug!r} must be 3 to 100 lowercase letters, digits and dashes.")
    elif db.session.execute(db.select(Competition.id).where(Competition.slug == settings.slug)).first():
        problems.append(f"A competition with the slug {settings.slug!r} already exists.")
    if not settings.title.strip():
        problems.append("title is missing.")
    scorer = None
    try:
        scorer = scorers.get(settings.metric)
    except (KeyError, ValueError, TypeError) as error:
        problems.append(f"metric: {error}")
    if not 0 <= settings.public_fraction <= 1:
        problems.append(f"public_fraction must be a number between 0 and 1, not {settings.public_fraction!r}.")
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        problems.append("closes_at must come after opens_at.")
    if not settings.id_column.strip() or not settings.target_column.strip():
        problems.append("Name the id column and the target column.")
    limits = {
        "daily_limit": settings.daily_limit,
        "final_selections": settings.final_selections,
        "live_daily_limit": settings.live_daily_limit,
    }
    if settings.total_limit is not None:
        limits["total_limit"] = settings.total_limit
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{name} must be a whole number of at least 1, not {value!r}.")
    if settings.live and version.task_id is None:
        problems.append(
            f"Dataset version {version.id} was not published from a labelling task: a live competition serves "
            "the task's runs still to certify, so it needs a version published from one."
        )
    solution = next((f for f in version.files if f.kind is FileKind.SOLUTION), None)
    if solution is None:
        problems.append(f"Dataset version {version.id} has no solution file to score against.")
    checked: dict[str, Any] = {}
    if scorer is not None and solution is not None and not problems:
        public = {f.name: f.storage_key for f in version.public_files}
        storage = get_storage()
        bundle = Bundle(
            spec={},
            opener=lambda name: storage.open(solution.storage_key if name == solution.name else public[name]),
            names={solution.name, *public},
        )
        checked = {
            "solution": solution.name,
            "files": list(public),
            "id_column": settings.id_column,
            "target_column": settings.target_column,
            "public_fraction": settings.public_fraction,
            "split_seed": settings.split_seed,
        }
        check_solution(bundle, checked, scorer, problems)
    if not problems:
        problems += split_clashes(checked, "build it on another version of the dataset, or with another solution")
    if problems or solution is None:  # a missing solution is among the problems
        raise Refused(problems)
    return solution, checked


def create_competition(
    version: DatasetVersion, settings: CompetitionSettings, *, created_by: User | None = None
) -> Competition:
    """A competition on an existing dataset version, checked whole as a bundle is; committed.

    A live one gets its pending.csv written before it is returned (if the store fails then, the next run
    import or approval writes it).
    """
    solution, checked = _check_competition(version, settings)
    competition = Competition(
        slug=settings.slug,
        title=settings.title.strip(),
        overview=settings.overview,
        dataset_version=version,
        solution_file=solution,
        sample_submission=checked.get("sample_submission"),
        metric=settings.metric,
        metric_params={},
        id_column=settings.id_column,
        target_column=checked["target_column"],
        public_fraction=settings.public_fraction,
        split_seed=settings.split_seed,
        opens_at=settings.opens_at,
        closes_at=settings.closes_at,
        daily_limit=settings.daily_limit,
        total_limit=settings.total_limit,
        final_selections=settings.final_selections,
        live=settings.live,
        live_daily_limit=settings.live_daily_limit,
        created_by_id=created_by and created_by.id,
    )
    db.session.add(competition)
    with refused_if_taken(db.session, f"A competition with the slug {settings.slug!r} already exists."):
        db.session.commit()
    if competition.live:
        write_first_pending(competition)
    return competition


def write_first_pending(competition: Competition) -> None:
    """A new live competition's pending.csv, at once, so that participants download it as soon as it is listed.

    The competition stands without it if the store fails now: the next run import or approval writes it.
    """
    try:
        pending.refresh(competition.id)
    except Exception:
        logging.getLogger(__name__).exception("pending.csv of %s not written yet", competition.slug)
