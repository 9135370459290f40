"""Checking a competition bundle whole: its settings, file names, solution and sample submission.

Every problem found is reported at once, so an organiser fixes a bundle in one round. A competition on a
dataset version (``on_datasets``) goes through the same solution and split checks.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app

import scorers
from app.extensions import db
from app.models import Competition, Dataset, DatasetFile, LabellingTask
from app.models.competitions import DEFAULT_TEAM_SIZE
from app.services.competitions.bundle_reader import SPEC_NAME, Bundle, BundleFile
from app.services.datasets.publishing import SLUG_PATTERN
from app.services.errors import Refused

USAGE = "Usage"
FILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
LARGEST_SETTING = 2**31 - 1  # the integer settings live in Integer columns, 32 bits on PostgreSQL
KNOWN_KEYS = {
    "slug",
    "title",
    "overview",
    "metric",
    "metric_params",
    "id_column",
    "target_column",
    "files",
    "solution",
    "public_fraction",
    "split_seed",
    "opens_at",
    "closes_at",
    "daily_limit",
    "total_limit",
    "final_selections",
    "live",  # live competition: serves pending.csv of the labelling task `task` and takes live predictions
    "live_daily_limit",
    "task",
    "phases",  # in order, each may override files, solution, metric, limits and dates (bundle_phases)
    "teams",  # {max_size, merge_deadline}; without it, teams of up to DEFAULT_TEAM_SIZE merging until the close
}
TEAM_KEYS = {"max_size", "merge_deadline"}


def _timestamp(value: Any, key: str, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{key} {value!r} is not a date and time such as 2026-12-31T23:59:59Z.")
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _integer(spec: dict, key: str, default: int | None, minimum: int, problems: list[str]) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= LARGEST_SETTING:
        problems.append(f"{key} must be a whole number from {minimum} to {LARGEST_SETTING}, not {value!r}.")
        return None
    return value


def validate(bundle: Bundle) -> dict[str, Any]:
    """Check the whole bundle; returns the competition settings, or Refused listing every problem."""
    spec, problems = bundle.spec, []
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        problems.append(
            f"Unknown settings in {SPEC_NAME}: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})."
        )
    slug = str(spec.get("slug", ""))
    if not SLUG_PATTERN.match(slug):
        problems.append(f"slug {slug!r} must be 3 to 100 lowercase letters, digits and dashes, like ls-anomaly-2018.")
    elif db.session.execute(db.select(Competition.id).where(Competition.slug == slug)).first():
        problems.append(f"A competition with the slug {slug!r} already exists.")
    elif db.session.execute(db.select(Dataset.id).where(Dataset.slug == slug)).first():
        problems.append(f"A dataset with the slug {slug!r} already exists: choose another slug.")
    title = str(spec.get("title") or "").strip()
    if not title:
        problems.append("title is missing.")
    elif len(title) > 200:
        problems.append(f"title has {len(title)} characters; a title has at most 200.")
    for key in ("id_column", "target_column"):
        if spec.get(key) is not None and (not isinstance(spec[key], str) or not 0 < len(spec[key]) <= 100):
            problems.append(f"{key} must be a column name of 1 to 100 characters, not {str(spec[key])[:120]!r}.")
    metric_name = spec.get("metric")
    scorer = None
    try:
        scorer = scorers.get(str(metric_name), **(spec.get("metric_params") or {}))
    except (KeyError, ValueError, TypeError) as error:
        problems.append(f"metric: {error}")

    files = spec.get("files") or []
    if not isinstance(files, list) or not files:
        problems.append("files must list the public files researchers download, e.g. [train.csv, test.csv].")
        files = []
    solution = spec.get("solution")
    if not solution:
        problems.append("solution is missing: name the hidden file with the true targets.")
    for name in [*files, *([solution] if solution else [])]:
        if not isinstance(name, str) or not FILE_NAME_PATTERN.match(name):
            problems.append(f"File name {name!r} must be a plain file name without folders.")
        elif name not in bundle.names:
            problems.append(f"The bundle has no file {name!r}.")
    if solution in files:
        problems.append(f"The solution {solution!r} must not also be a public file.")
    overview = spec.get("overview")
    if overview is not None and overview not in bundle.names:
        problems.append(f"The bundle has no overview file {overview!r}.")

    opens_at = _timestamp(spec.get("opens_at"), "opens_at", problems)
    closes_at = _timestamp(spec.get("closes_at"), "closes_at", problems)
    if opens_at and closes_at and closes_at <= opens_at:
        problems.append("closes_at must come after opens_at.")
    fraction = spec.get("public_fraction", 0.3)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        problems.append(f"public_fraction must be a number between 0 and 1, not {fraction!r}.")
    settings = {
        "slug": slug,
        "title": title,
        "metric": metric_name,
        "metric_params": spec.get("metric_params") or {},
        "id_column": str(spec.get("id_column") or "id"),
        "target_column": spec.get("target_column"),
        "files": files,
        "solution": solution,
        "overview_file": overview,
        "public_fraction": float(fraction) if isinstance(fraction, (int, float)) else 0.3,
        "split_seed": _integer(spec, "split_seed", 0, 0, problems),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "daily_limit": _integer(spec, "daily_limit", 5, 1, problems),
        "total_limit": _integer(spec, "total_limit", None, 1, problems),
        "final_selections": _integer(spec, "final_selections", 2, 1, problems),
        **_live_settings(spec, problems),
        **_team_settings(spec, opens_at, closes_at, problems),
    }
    if scorer is not None and solution in bundle.names and not problems:
        check_solution(bundle, settings, scorer, problems)
    # Imported here: bundle_phases checks each phase with this module's checks.
    from app.services.competitions.bundle_phases import phase_settings

    settings["phases"] = phase_settings(bundle, settings, problems)
    if not problems:
        problems += split_clashes(settings, "use another solution file, or drop its Usage column")
    if problems:
        raise Refused(problems)
    return settings


def _live_settings(spec: dict, problems: list[str]) -> dict[str, Any]:
    """live, live_daily_limit and the labelling task whose runs still to certify a live competition serves."""
    live = spec.get("live", False)
    if not isinstance(live, bool):
        problems.append(f"live must be true or false, not {live!r}.")
    task_id = _integer(spec, "task", None, 1, problems)
    if live is True and task_id is None and "task" not in spec:
        problems.append("A live competition serves a labelling task's runs still to certify: name it with task.")
    elif task_id is not None and db.session.get(LabellingTask, task_id) is None:
        problems.append(f"There is no labelling task {task_id}.")
    return {
        "live": live is True,
        "live_daily_limit": _integer(spec, "live_daily_limit", 1, 1, problems),
        "task": task_id,
    }


def _team_settings(
    spec: dict, opens_at: datetime | None, closes_at: datetime | None, problems: list[str]
) -> dict[str, Any]:
    """teams: {max_size, merge_deadline}: how many people a team holds, and until when teams may merge."""
    teams = spec.get("teams")
    if teams is None:
        return {"team_max_size": DEFAULT_TEAM_SIZE, "merge_deadline": None}
    if not isinstance(teams, dict):
        problems.append(f"teams must be a mapping such as {{max_size: 3, merge_deadline: 2026-12-20}}, not {teams!r}.")
        return {"team_max_size": DEFAULT_TEAM_SIZE, "merge_deadline": None}
    unknown = sorted(set(map(str, teams)) - TEAM_KEYS)
    if unknown:
        problems.append(f"Unknown settings in teams: {', '.join(unknown)} (known: {', '.join(sorted(TEAM_KEYS))}).")
    max_size = teams.get("max_size", DEFAULT_TEAM_SIZE)
    if isinstance(max_size, bool) or not isinstance(max_size, int) or not 1 <= max_size <= LARGEST_SETTING:
        problems.append(
            f"teams.max_size must be a whole number from 1 (no teams) to {LARGEST_SETTING}, not {max_size!r}."
        )
        max_size = DEFAULT_TEAM_SIZE
    deadline = _timestamp(teams.get("merge_deadline"), "teams.merge_deadline", problems)
    if deadline is not None and closes_at is not None and deadline > closes_at:
        problems.append("teams.merge_deadline must not come after closes_at: teams are fixed at the close anyway.")
    if deadline is not None and opens_at is not None and deadline <= opens_at:
        problems.append("teams.merge_deadline must come after opens_at, or no team could ever merge.")
    return {"team_max_size": max_size, "merge_deadline": deadline}


def check_solution(bundle: Bundle, settings: dict, scorer: scorers.Scorer, problems: list[str]) -> None:
    """The solution must load as the scorer will load it, and the sample submission must pass against it."""
    max_bytes = current_app.config["MAX_DECOMPRESSED_BYTES"]
    try:
        with bundle.open(settings["solution"]) as handle:
            hashing = _Hashing(handle)
            table = scorers.read_table(
                hashing, what="solution", text_columns=[settings["id_column"]], max_bytes=max_bytes
            )
        solution = scorers.Solution.from_table(
            table,
            id_column=settings["id_column"],
            target_column=settings["target_column"],
            public_fraction=settings["public_fraction"],
            split_seed=settings["split_seed"],
        )
        scorer.check_solution(solution)
    except scorers.ValidationError as error:
        problems.append(f"solution {settings['solution']!r}: {error}")
        return
    settings["solution_sha256"] = hashing.hexdigest()
    settings["solution_usage"] = USAGE in table.column_names
    settings["target_column"] = solution.target_column
    sample = next((n for n in settings["files"] if n.startswith("sample_submission")), None)
    settings["sample_submission"] = sample
    if sample:
        try:
            with bundle.open(sample) as handle:
                scorer.score(solution, scorers.read_submission(handle, solution, max_bytes=max_bytes))
        except scorers.ValidationError as error:
            problems.append(f"{sample!r} would be refused as a submission: {error}")


class _Hashing:
    """A reader that hashes what is read through it: the solution's sha256 without a second pass."""

    def __init__(self, stream: BundleFile) -> None:
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        """The sha256 of everything read so far."""
        return self.digest.hexdigest()


def split_clashes(settings: dict, change: str) -> list[str]:
    """Competitions already scoring the same solution file (by sha256) with the same public/private split.

    Every private board is revealed some day, so a second competition on the same split would reveal the
    private scores of the first, or the first those of the second. A solution with a Usage column fixes its
    split itself, whatever the fraction and seed; otherwise the fraction and the seed make the split.
    """
    if "solution_sha256" not in settings:
        return []
    same_file = db.session.execute(
        db.select(Competition)
        .join(DatasetFile, DatasetFile.id == Competition.solution_file_id)
        .where(DatasetFile.sha256 == settings["solution_sha256"])
        .order_by(Competition.id)
    ).scalars()
    problems = []
    for other in same_file:
        if settings["solution_usage"]:
            problems.append(
                f"The competition {other.slug!r} already scores this solution, whose Usage column fixes the "
                f"public and private split: its private board would reveal this one's, and the other way "
                f"round. To build another competition, {change}."
            )
        elif other.public_fraction == settings["public_fraction"] and other.split_seed == settings["split_seed"]:
            problems.append(
                f"The competition {other.slug!r} already scores this solution with public_fraction "
                f"{other.public_fraction:g} and split_seed {other.split_seed}: its private board would reveal "
                "this one's. Choose another split_seed (or public_fraction)."
            )
    return problems
