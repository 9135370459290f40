"""Checking the ``phases:`` of a bundle: names, dates in order, files and solutions present and valid.

Each phase may override the competition's files, solution, metric, limits and dates; a phase built from a
labelling task (``from_task``, ``approved_after``) gets its files and solution when the bundle is imported
(``final_phase``). Every problem is listed at once, each naming its phase, with the rest of the bundle's.
A phase's solution is checked exactly as the competition's is, and its sample submission against it.
"""

from __future__ import annotations

import re
from typing import Any

import scorers
from app.extensions import db
from app.models import LabellingTask
from app.services.competitions import phases
from app.services.competitions.bundle_checks import (
    FILE_NAME_PATTERN,
    _integer,
    _timestamp,
    check_solution,
    split_clashes,
)
from app.services.competitions.bundle_reader import Bundle

PHASE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
PHASE_KEYS = {
    "name",
    "opens_at",
    "closes_at",
    "files",
    "solution",
    "metric",
    "metric_params",
    "daily_limit",
    "total_limit",
    "final_selections",
    "from_task",  # built from the task's runs approved after approved_after, none of them in the other phases' data
    "approved_after",
}
LIMITS = ("daily_limit", "total_limit", "final_selections")


def phase_settings(bundle: Bundle, settings: dict[str, Any], problems: list[str]) -> list[dict[str, Any]]:
    """The checked phases of the bundle's spec in order ([] without ``phases:``); their problems join problems.

    settings are the competition's, checked already; with phases, its opens_at and closes_at become the first
    phase's opening and the last one's close.
    """
    declared = bundle.spec.get("phases")
    if declared is None:
        return []
    if not isinstance(declared, list) or not declared or not all(isinstance(p, dict) for p in declared):
        problems.append("phases must list the phases in order, each a mapping such as {name: final, opens_at: ...}.")
        return []
    checked = [_phase(bundle, entry, position, settings, problems) for position, entry in enumerate(declared)]
    names = [p["name"] for p in checked]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"Two phases are named {name!r}: a phase's name is its tab and its ?phase=, so names differ.")
    _check_dates(checked, settings, problems)
    inheriting = [p["name"] for p in checked if p["solution"] is None and p["from_task"] is None]
    if len(inheriting) > 1:
        problems.append(
            f"The phases {', '.join(map(repr, inheriting))} would all be scored against {settings['solution']!r}: the "
            "private board of the first, revealed when it closes, would reveal the private scores of the others. "
            "Give each phase its own solution."
        )
    if not problems:
        _check_solutions(bundle, checked, settings, problems)
    return checked


def _phase(bundle: Bundle, entry: dict, position: int, settings: dict[str, Any], problems: list[str]) -> dict:
    """One phase's settings, checked on their own; its problems are named after it."""
    mine: list[str] = []
    name = entry.get("name")
    if not isinstance(name, str) or not PHASE_NAME.match(name):
        mine.append(f"name {name!r} must be 1 to 50 lowercase letters, digits, dashes and underscores, like final.")
    unknown = sorted(set(entry) - PHASE_KEYS)
    if unknown:
        mine.append(f"unknown settings {', '.join(map(str, unknown))} (known: {', '.join(sorted(PHASE_KEYS))}).")
    files = entry.get("files")
    if files is not None and (not isinstance(files, list) or not files):
        mine.append("files must list the phase's public files, e.g. [test_final.csv].")
        files = None
    solution = entry.get("solution")
    for file_name in [*(files or []), *([solution] if solution is not None else [])]:
        if not isinstance(file_name, str) or not FILE_NAME_PATTERN.match(file_name):
            mine.append(f"file name {file_name!r} must be a plain file name without folders.")
        elif file_name not in bundle.names:
            mine.append(f"the bundle has no file {file_name!r}.")
    public = files if files is not None else settings["files"]
    if solution is not None and solution in public:
        mine.append(f"the solution {solution!r} must not also be a public file.")
    metric = entry.get("metric")
    if metric is not None or entry.get("metric_params") is not None:
        try:
            scorers.get(str(metric or settings["metric"]), **(entry.get("metric_params") or {}))
        except (KeyError, ValueError, TypeError) as error:
            mine.append(f"metric: {error}")
    result = {
        "name": name if isinstance(name, str) else str(name),
        "position": position,
        "opens_at": _timestamp(entry.get("opens_at"), "opens_at", mine),
        "closes_at": _timestamp(entry.get("closes_at"), "closes_at", mine),
        "files": public,
        "solution": solution,
        "metric": metric,
        "metric_params": entry.get("metric_params"),
        **{key: _integer(entry, key, None, 1, mine) for key in LIMITS},
        **_from_task(entry, mine),
    }
    if result["from_task"] is not None:
        result["files"] = None  # the phase's own version's files, published when the bundle is imported
        if files is not None or solution is not None:
            mine.append("a phase built from a task gets its files and solution from the task's runs: give neither.")
    label = f"Phase {name!r}" if isinstance(name, str) and name else f"Phase {position + 1}"
    problems.extend(f"{label}: {problem}" for problem in mine)
    return result


def _from_task(entry: dict, problems: list[str]) -> dict[str, Any]:
    """from_task and approved_after: the labelling task whose later runs make the phase, and the cutoff."""
    task_id = _integer(entry, "from_task", None, 1, problems)
    approved_after = _timestamp(entry.get("approved_after"), "approved_after", problems)
    if task_id is not None and db.session.get(LabellingTask, task_id) is None:
        problems.append(f"there is no labelling task {task_id}.")
    if ("from_task" in entry) != ("approved_after" in entry):
        problems.append("from_task and approved_after go together: the task, and the date its runs were approved after")
    return {"from_task": task_id, "approved_after": approved_after}


def _check_dates(checked: list[dict], settings: dict[str, Any], problems: list[str]) -> None:
    """Phases follow one another; the competition's opens_at and closes_at are the first opening and last close."""
    first, last = checked[0], checked[-1]
    for key, phase, end in (("opens_at", first, "first"), ("closes_at", last, "last")):
        if settings[key] is not None and phase[key] is not None and settings[key] != phase[key]:
            problems.append(f"{key} of the competition and of its {end} phase {phase['name']!r} differ: give it once.")
    windows = phases.windows(
        settings["opens_at"], settings["closes_at"], [(p["name"], p["opens_at"], p["closes_at"]) for p in checked]
    )
    problems.extend(phases.date_problems(windows))
    settings["opens_at"], settings["closes_at"] = windows[0].opens_at, windows[-1].closes_at
    for index, (phase, window) in enumerate(zip(checked, windows, strict=True)):
        # Stored: the inner boundaries; the ends stay the competition's, so that moving its dates moves them.
        phase["opens_at"] = window.opens_at if index > 0 else None
        phase["closes_at"] = window.closes_at if index < len(checked) - 1 else None


def _check_solutions(bundle: Bundle, checked: list[dict], settings: dict[str, Any], problems: list[str]) -> None:
    """Each phase's solution loads as the scorer will load it, and its sample submission passes against it; no
    two phases, nor another competition, score the same solution with the same split."""
    seen: dict[str, str] = {}
    if "solution_sha256" in settings:
        seen[settings["solution_sha256"]] = settings["solution"]
    for phase in checked:
        if phase["from_task"] is not None or (phase["solution"] is None and phase["metric"] is None):
            continue
        scorer = scorers.get(str(phase["metric"] or settings["metric"]), **(phase["metric_params"] or {}))
        own = {
            key: settings[key] for key in ("id_column", "target_column", "public_fraction", "split_seed", "solution")
        }
        own |= {"solution": phase["solution"] or settings["solution"], "files": phase["files"]}
        mine: list[str] = []
        check_solution(bundle, own, scorer, mine)
        problems.extend(f"Phase {phase['name']!r}: {problem}" for problem in mine)
        if phase["solution"] is None or "solution_sha256" not in own:
            continue
        if own["solution_sha256"] in seen:
            problems.append(
                f"Phase {phase['name']!r}: its solution {phase['solution']!r} is the same file as "
                f"{seen[own['solution_sha256']]!r}: each phase needs a solution of its own."
            )
        seen[own["solution_sha256"]] = phase["solution"]
        phase["solution_sha256"] = own["solution_sha256"]
        problems.extend(f"Phase {phase['name']!r}: {p}" for p in split_clashes(own, "use another solution file"))
