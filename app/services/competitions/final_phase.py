"""A final phase on the future: a phase whose test set is made of runs certified after a cutoff.

For a competition on labels of a labelling task, the runs of the task approved after ``approved_after`` (a run's
approval time: the latest approving review of its approved certifications) that are in none of the data of the
competition's other phases are published as a dataset version of their own, every one of them on the test side
(``datasets.publishing.publish_test_runs``): the training data is what the development phase gave, and whole
runs on one side keep the rule that no run straddles a split. The dataset is named after the competition's and
the phase (``tracker-2024-final``), so that the development dataset's latest version stays the one to model.
That version's test file and hidden solution (``test_{phase}.csv``, ``solution_{phase}.csv``, with
``sample_submission_{phase}.csv``) become the phase's, scored by the competition's metric unless the phase names
another. Nobody could tune on it: its labels did not exist during development. Refused, with nothing written,
when no run qualifies.
"""

from __future__ import annotations

import io
from datetime import datetime

import scorers
from app.extensions import db
from app.models import DEFAULT_PHASE, Competition, CompetitionPhase, LabellingTask, User
from app.services.certification.queries import approval_times
from app.services.competitions import leaderboards, phases
from app.services.competitions.bundle_phases import PHASE_NAME
from app.services.datasets import publishing
from app.services.datasets.version_files import ID, TARGET, Features, runs_of
from app.services.errors import Refused
from app.services.storage import StagedFiles, get_storage, staged_files
from app.services.suggestions.pending import feature_names

DEVELOPMENT = "development"  # what a competition's one phase is called once a later phase follows it


def development_runs(competition: Competition) -> set[int]:
    """Every run in the data of the competition's phases so far: its own version's and its phases'."""
    versions = {competition.dataset_version.id: competition.dataset_version}
    versions |= {p.dataset_version.id: p.dataset_version for p in competition.phases if p.dataset_version}
    return set().union(*(runs_of(version, competition.id_column) for version in versions.values()))


def qualifying_runs(competition: Competition, task: LabellingTask, approved_after: datetime) -> list[int]:
    """The task's runs approved after the cutoff that no phase's data holds; Refused (409) when there are none."""
    later = {run for run, at in approval_times(task.id).items() if at > approved_after}
    seen = later & development_runs(competition)
    runs = sorted(later - seen)
    if not runs:
        raise Refused(
            f"No run of the labelling task {task.name!r} was approved after {approved_after:%Y-%m-%d %H:%M} UTC "
            f"outside the competition's development data ({len(later)} approved after it, {len(seen)} of them "
            "already in the competition's data): there is nothing to build the phase from yet.",
            409,
        )
    return runs


def build_phase(
    competition: Competition,
    staged: StagedFiles,
    *,
    name: str,
    position: int,
    task: LabellingTask,
    approved_after: datetime,
    opens_at: datetime | None,
    closes_at: datetime | None = None,
    metric: str | None = None,
    metric_params: dict | None = None,
    created_by: User | None = None,
) -> CompetitionPhase:
    """The phase built from the task's qualifying runs, its version stored through staged; the caller adds it to
    the competition and commits."""
    if (competition.id_column, competition.target_column) != (ID, TARGET):
        raise Refused(
            f"A phase built from a task has the columns {ID} and {TARGET} of published datasets; this competition "
            f"predicts {competition.target_column} by {competition.id_column}."
        )
    runs = qualifying_runs(competition, task, approved_after)
    # The runs' stored monitoring elements, in the columns the development phase's test file has.
    features = publishing.stored_features(set(runs))
    names = feature_names(competition.dataset_version)
    aligned = Features(names, {key: _aligned(features, values, names) for key, values in features.values.items()})
    notes = (
        f"The test set of the phase {name!r} of the competition {competition.slug!r}: the runs of task {task.name!r} "
        f"(#{task.id}) approved after {approved_after:%Y-%m-%d %H:%M} UTC that are in none of the competition's "
        f"earlier data ({len(runs)} runs: {', '.join(map(str, runs))}), all on the test side."
    )
    published = publishing.publish_test_runs(
        task,
        runs,
        staged,
        slug=f"{competition.dataset_version.dataset.slug[: 99 - len(name)]}-{name}",
        suffix=name,
        notes=notes,
        seed=competition.split_seed,
        created_by=created_by,
        features=aligned,
    )
    phase = CompetitionPhase(
        name=name,
        position=position,
        opens_at=opens_at,
        closes_at=closes_at,
        dataset_version=published.version,
        metric=metric,
        metric_params=metric_params,
        source_task_id=task.id,
        approved_after=approved_after,
    )
    _check_scorable(competition, phase)
    return phase


def _aligned(features: Features, values: tuple, names: tuple[str, ...]) -> tuple:
    """A lumisection's features in the columns of the development test file (empty where not given)."""
    given = dict(zip(features.names, values, strict=True))
    return tuple(given.get(name) for name in names)


def _check_scorable(competition: Competition, phase: CompetitionPhase) -> None:
    """The phase's metric must be able to score its solution (a ROC AUC needs both labels on each side)."""
    solution_file = next(f for f in phase.version.files if f.name == f"solution_{phase.name}.csv")
    params = (phase.metric_params if phase.metric else competition.metric_params) or {}
    scorer = scorers.get(phase.metric or competition.metric, **params)
    with get_storage().open(solution_file.storage_key) as handle:
        content = handle.read()
    try:
        scorer.check_solution(scorers.Solution.load(io.BytesIO(content), id_column=ID, target_column=TARGET))
    except scorers.ValidationError as error:
        raise Refused(f"The runs approved since cannot score the phase {phase.name!r} yet: {error}", 409) from None


def add_final_phase(
    competition: Competition,
    *,
    name: str,
    task: LabellingTask,
    approved_after: datetime,
    opens_at: datetime,
    closes_at: datetime | None = None,
    created_by: User | None = None,
) -> CompetitionPhase:
    """Append a phase built from the task's runs approved after approved_after, opening at opens_at; committed.

    The phase before it closes when it opens (or earlier, if it already did), and the competition then closes
    when the new phase does (closes_at; None: never). A competition's one phase, ``main`` until then, becomes
    ``development``.
    """
    _check_new_phase(competition, name, opens_at, closes_at)
    previous = competition.phases[-1]
    before = phases.window_of(previous)
    with staged_files(db.session) as staged:
        phase = build_phase(
            competition,
            staged,
            name=name,
            position=previous.position + 1,
            task=task,
            approved_after=approved_after,
            opens_at=opens_at,
            created_by=created_by,
        )
        # The previous phase keeps the close it had if that comes first; the new one's close is the competition's.
        kept = before.closes_at is not None and before.closes_at < opens_at
        previous.closes_at = before.closes_at if kept else opens_at
        if len(competition.phases) == 1 and previous.name == DEFAULT_PHASE and name != DEVELOPMENT:
            previous.name = DEVELOPMENT
        competition.phases.append(phase)
        competition.closes_at = closes_at
        db.session.commit()
    leaderboards.invalidate(competition)
    return phase


def _check_new_phase(competition: Competition, name: str, opens_at: datetime, closes_at: datetime | None) -> None:
    """A new last phase needs a fresh name and dates after the phases before it; Refused listing what is wrong."""
    problems = []
    if not PHASE_NAME.match(name):
        problems.append(f"The name {name!r} must be 1 to 50 lowercase letters, digits, dashes and underscores.")
    elif any(p.name == name for p in competition.phases):
        problems.append(f"The competition already has a phase named {name!r}.")
    last = phases.window_of(competition.phases[-1])
    if last.opens_at is not None and opens_at <= last.opens_at:
        problems.append(
            f"The new phase must open after the phase {last.name!r} opened ({last.opens_at:%Y-%m-%d %H:%M} UTC)."
        )
    if closes_at is not None and closes_at <= opens_at:
        problems.append("The new phase must close after it opens.")
    if problems:
        raise Refused(problems)
