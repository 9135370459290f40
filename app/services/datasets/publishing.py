"""Publishing a labelling task's approved labels as a dataset version.

A published version holds one row per lumisection of every run with an approved certification in the
task, labelled by the task's golden JSON and split by run (``splitting``), written as the files of
``version_files``. Everything is checked and built before anything is written, and a failure while
storing leaves nothing behind. Competitions on a published version are built by
``competitions.on_datasets``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func

import scorers
from app.extensions import db
from app.models import (
    Certification,
    Dataset,
    DatasetFile,
    DatasetVersion,
    FileKind,
    LabellingTask,
    Lumisection,
    ReviewState,
    User,
)
from app.models.runs import CONDITIONS
from app.services.certification.workflow import audit, golden_mask
from app.services.datasets.splitting import Row, label_rows, split_runs
from app.services.datasets.version_files import FILES, ID, NO_FEATURES, TARGET, Features, Summary, build_files
from app.services.errors import Refused, refused_if_taken
from app.services.storage import staged_files

# A dataset's slug; a competition's too, as a bundle gives its slug to the dataset it brings.
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$")
DEFAULT_TEST_FRACTION = 0.3
DEFAULT_PUBLIC_SHARE = 0.3


def default_slug(name: str) -> str:
    """A dataset slug from a task name: 'Express 2018/A' gives 'express-2018-a'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].strip("-")


def approved_runs(task: LabellingTask) -> list[int]:
    """Runs with an approved certification in the task: the ones a publication holds."""
    return list(
        db.session.execute(
            db.select(Certification.run_number)
            .where(Certification.task_id == task.id, Certification.review_state == ReviewState.APPROVED)
            .distinct()
            .order_by(Certification.run_number)
        ).scalars()
    )


def task_rows(task: LabellingTask) -> list[Row]:
    """Every lumisection of the task's approved runs, labelled by the task's golden JSON."""
    runs = approved_runs(task)
    if not runs:
        return []
    query = (
        db.select(Lumisection.run_number, Lumisection.number, *(getattr(Lumisection, c) for c in CONDITIONS))
        .where(Lumisection.run_number.in_(runs))
        .order_by(Lumisection.run_number, Lumisection.number)
    )
    return label_rows(db.session.execute(query), golden_mask(task))


def _check_settings(slug: str, title: str | None, test_fraction: float, public_share: float, seed: int) -> list[str]:
    problems = []
    if not SLUG_PATTERN.match(slug):
        problems.append(f"Dataset slug {slug!r} must be 3 to 100 lowercase letters, digits and dashes.")
    if title is not None and len(title) > 200:
        problems.append("The title is longer than 200 characters.")
    for name, value in (("test fraction", test_fraction), ("public share", public_share)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            problems.append(f"The {name} must be a number strictly between 0 and 1, not {value!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"The seed must be a whole number of at least 0, not {seed!r}.")
    return problems


@dataclass(frozen=True)
class Published:
    """A new dataset version and what it holds."""

    version: DatasetVersion
    summary: Summary


def publish(
    task: LabellingTask,
    *,
    slug: str | None = None,
    title: str | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    public_share: float = DEFAULT_PUBLIC_SHARE,
    seed: int = 0,
    created_by: User | None = None,
    features: Features = NO_FEATURES,
    extra_files: Mapping[str, bytes] | None = None,
) -> Published:
    """Publish the task's approved labels as a new version of the dataset slug (created if new); committed.

    Refused, with nothing written, for bad settings, without approved labels or with fewer than two runs.
    features are published as columns of train.csv and test.csv; extra_files are stored as further public
    files (monitoring elements of the published lumisections, say).
    """
    slug = slug or default_slug(task.name)
    problems = _check_settings(slug, title, test_fraction, public_share, seed)
    if problems:
        raise Refused(problems)
    rows = task_rows(task)
    if not rows:
        reason = "approved certification" if not approved_runs(task) else "imported lumisection in its approved runs"
        raise Refused([f"Task {task.name!r} has no {reason}: there is nothing to publish."], 409)
    counts: dict[int, list[int]] = {}
    for row in rows:
        counts.setdefault(row.run, [0, 0])
        counts[row.run][0] += 1
        counts[row.run][1] += row.label
    if len(counts) < 2:
        raise Refused(
            [f"Only run {next(iter(counts))} has approved labels; a split by run needs at least two runs."], 409
        )
    test_runs = split_runs({run: (n, b) for run, (n, b) in counts.items()}, test_fraction, seed)
    files, summary = build_files(rows, test_runs, public_share, seed, features)
    clashes = sorted(set(extra_files or {}) & {name for name, _ in FILES})
    if clashes:
        raise Refused([f"Extra files cannot replace {', '.join(clashes)}."])
    files |= dict(extra_files or {})
    # The scorers must read the solution as the workers will, before it is stored.
    scorers.Solution.load(io.BytesIO(files["solution.csv"]), id_column=ID, target_column=TARGET)
    notes = (
        f"Approved labels of task {task.name!r} (#{task.id}): runs split by run with test fraction "
        f"{test_fraction:g} and seed {seed}. Train: {summary.train.runs} runs, {summary.train.lumisections} "
        f"lumisections, {summary.train.bad_share:.1%} bad. Test: {summary.test.runs} runs, "
        f"{summary.test.lumisections} lumisections, {summary.test.bad_share:.1%} bad, "
        f"{summary.public} public and {summary.private} private rows, "
        + (
            "weighted by recorded luminosity (pb⁻¹, columns delivered_lumi and recorded_lumi in pb⁻¹ too)."
            if summary.weighted
            else "unweighted (recorded luminosity missing)."
        )
    )
    version = _store(slug, title or task.name, notes, files, created_by, task)
    return Published(version, summary)


def _store(
    slug: str, title: str, notes: str, files: dict[str, bytes], created_by: User | None, task: LabellingTask
) -> DatasetVersion:
    """Reserve the version's number, store its files, then commit; on any failure delete what was stored."""
    dataset = db.session.execute(db.select(Dataset).where(Dataset.slug == slug)).scalar_one_or_none()
    if dataset is None:
        dataset = Dataset(slug=slug, title=title, created_by_id=created_by and created_by.id)
        db.session.add(dataset)
        number = 1
    else:
        latest = db.session.execute(
            db.select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == dataset.id)
        ).scalar_one()
        number = (latest or 0) + 1
    version = DatasetVersion(
        dataset=dataset, number=number, notes=notes, task_id=task.id, published_by_id=created_by and created_by.id
    )
    db.session.add(version)
    # The unique slug and number make a concurrent publication wait here and fail before it stores
    # anything, so it never overwrites, or deletes, this version's files.
    with refused_if_taken(db.session, f"Dataset {slug!r} was published by someone else at the same moment; try again."):
        db.session.flush()
    with staged_files(db.session) as staged:
        extra = [(name, FileKind.PUBLIC) for name in files if name not in dict(FILES)]
        for position, (name, kind) in enumerate([*FILES, *extra]):
            key = f"{version.storage_prefix}/{kind.value}/{name}"
            result = staged.put(key, io.BytesIO(files[name]))
            version.files.append(
                DatasetFile(
                    kind=kind, name=name, position=position, storage_key=key, size=result.size, sha256=result.sha256
                )
            )
        after = {"dataset": slug, "version": number, "notes": notes}
        audit(created_by, "publish", "dataset_version", version.id, None, after)
        db.session.commit()
    return version
