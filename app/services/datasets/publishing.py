"""Publishing a labelling task's approved labels as a dataset version.

A published version holds one row per lumisection of every run with an approved certification in the
task, labelled by the task's golden JSON and split by run (``splitting``), written as the files of
``version_files``; with the monitoring elements stored for its runs (``runs.element_store``), their
features as columns and the histograms themselves as ``monitoring_elements.parquet``. Everything is
checked and built before anything is written, and a failure while storing leaves nothing behind.
Competitions on a published version are built by ``competitions.on_datasets``. ``publish_test_runs``
publishes chosen runs only, all on the test side: the test set of a competition's final phase
(``competitions.final_phase``).
"""

from __future__ import annotations

import io
import re
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
from app.services.datasets.version_files import (
    FILES,
    ID,
    MONITORING_ELEMENTS,
    NO_FEATURES,
    TARGET,
    Features,
    Summary,
    build_files,
    phase_files,
)
from app.services.errors import Refused, refused_if_taken
from app.services.runs import element_store, monitoring_elements
from app.services.storage import StagedFiles, staged_files

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


def task_rows(task: LabellingTask, runs: list[int] | None = None) -> list[Row]:
    """Every lumisection of the task's approved runs (or of those of them listed), labelled by the task's golden
    JSON."""
    approved = approved_runs(task)
    runs = approved if runs is None else sorted(set(runs) & set(approved))
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
) -> Published:
    """Publish the task's approved labels as a new version of the dataset slug (created if new); committed.

    Refused, with nothing written, for bad settings, without approved labels or with fewer than two runs.
    The monitoring elements stored for the task's approved runs, when there are any, are published as features
    (columns of train.csv and test.csv) and as the public file monitoring_elements.parquet.
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
    features, extra_files = _monitoring_elements(set(counts))
    files, summary = build_files(rows, test_runs, public_share, seed, features)
    files |= extra_files
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
    version = new_version(slug, title or task.name, notes, task, created_by)
    extra = [(name, FileKind.PUBLIC) for name in files if name not in dict(FILES)]
    with staged_files(db.session) as staged:
        store_files(staged, version, [(name, kind, files[name]) for name, kind in [*FILES, *extra]], created_by)
        db.session.commit()
    return Published(version, summary)


def stored_features(runs: set[int]) -> Features:
    """The features of the runs' stored monitoring elements, by lumisection; none without."""
    return _monitoring_elements(runs)[0]


def _monitoring_elements(runs: set[int]) -> tuple[Features, dict[str, bytes]]:
    """The features of the runs' stored monitoring elements, and the elements as a public file; none without."""
    long = element_store.read_long(runs)
    if long.empty:
        return NO_FEATURES, {}
    parquet = io.BytesIO()
    long.to_parquet(parquet, index=False)
    return Features.from_frame(monitoring_elements.features(long)), {MONITORING_ELEMENTS: parquet.getvalue()}


def publish_test_runs(
    task: LabellingTask,
    runs: list[int],
    staged: StagedFiles,
    *,
    slug: str,
    suffix: str,
    notes: str,
    public_share: float = DEFAULT_PUBLIC_SHARE,
    seed: int = 0,
    created_by: User | None = None,
    features: Features = NO_FEATURES,
) -> Published:
    """Publish the task's approved labels of these runs only, every one on the test side, as a new version of the
    dataset slug, through staged (the caller commits): a competition's later phase, whose test set nobody saw.

    Its files are test_{suffix}.csv, sample_submission_{suffix}.csv and solution_{suffix}.csv; whole runs, so
    that no run is on both sides of any split. Refused (409) when the runs have no labelled lumisection.
    """
    rows = task_rows(task, runs)
    if not rows:
        raise Refused([f"Runs {', '.join(map(str, runs))} have no labelled lumisection to publish."], 409)
    layout, summary = phase_files(rows, suffix, public_share, seed, features)
    solution = next(content for _, kind, content in layout if kind is FileKind.SOLUTION)
    scorers.Solution.load(io.BytesIO(solution), id_column=ID, target_column=TARGET)
    version = new_version(slug, slug, notes, task, created_by)
    store_files(staged, version, layout, created_by)
    return Published(version, summary)


def new_version(slug: str, title: str, notes: str, task: LabellingTask, created_by: User | None) -> DatasetVersion:
    """The next version of the dataset slug (created if new), its number reserved; nothing committed."""
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
    return version


def store_files(
    staged: StagedFiles, version: DatasetVersion, files: list[tuple[str, FileKind, bytes]], created_by: User | None
) -> None:
    """Store the version's files in order through staged and record its publication in the audit log; the caller
    commits (and a failure deletes what was stored)."""
    for position, (name, kind, content) in enumerate(files):
        key = f"{version.storage_prefix}/{kind.value}/{name}"
        result = staged.put(key, io.BytesIO(content))
        version.files.append(
            DatasetFile(
                kind=kind, name=name, position=position, storage_key=key, size=result.size, sha256=result.sha256
            )
        )
    after = {"dataset": version.dataset.slug, "version": version.number, "notes": version.notes}
    audit(created_by, "publish", "dataset_version", version.id, None, after)
