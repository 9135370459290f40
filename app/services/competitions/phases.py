"""The phases of a competition in time: which one is open, which board a page shows, who may submit to which.

The core is plain data: each phase's window (``windows``, kept beside the model in ``app.models.phases``: the
first phase opens when the competition does, the last closes when it does, and a boundary given on one side
only holds for both), its state at an instant (``Window.state``), the one open now (``current``), the one a
board shows by default (``shown``: the open one, else the latest that opened, else the first), and what is
wrong with a bundle's dates (``date_problems``). Around it, the lookups the pages and the API make: a phase by
name (404 naming the phases), the phase a submission goes to (only the open one), and the phases as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from app.models import Competition, CompetitionPhase, Phase
from app.models.phases import Window, windows
from app.models.types import utcnow
from app.services.errors import Refused

__all__ = [  # Window and windows live beside the model; the pages and bundle checks find them here too
    "Window",
    "current",
    "current_phase",
    "date_problems",
    "phase_named",
    "phase_to_submit",
    "phases_as_json",
    "revealed",
    "shown",
    "shown_phase",
    "window_of",
    "windows",
    "windows_of",
]


def current(phases: Sequence[Window], now: datetime) -> int | None:
    """The index of the phase open at now, or None when none is (before, after, or between phases)."""
    return next((index for index, window in enumerate(phases) if window.state(now) is Phase.OPEN), None)


def shown(phases: Sequence[Window], now: datetime) -> int:
    """The phase a board shows when none is asked for: the open one, else the latest that opened, else the first."""
    index = current(phases, now)
    if index is not None:
        return index
    opened = [index for index, window in enumerate(phases) if window.opened(now)]
    return opened[-1] if opened else 0


def date_problems(phases: Sequence[Window]) -> list[str]:
    """What is wrong with the phases' dates: a phase that closes before it opens, or phases out of order."""
    problems = []
    for window in phases:
        if window.opens_at is not None and window.closes_at is not None and window.closes_at <= window.opens_at:
            problems.append(f"Phase {window.name!r} must close after it opens ({_at(window.opens_at)}).")
    for before, after in pairwise(phases):
        if before.closes_at is None or after.opens_at is None:
            problems.append(
                f"Say when phase {before.name!r} ends and phase {after.name!r} begins: give the closes_at of the "
                "one or the opens_at of the other."
            )
        elif after.opens_at < before.closes_at:
            problems.append(
                f"Phase {after.name!r} opens at {_at(after.opens_at)}, before phase {before.name!r} closes at "
                f"{_at(before.closes_at)}: phases follow one another."
            )
    return problems


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "no date"


# Lookups on a competition's phases.


def windows_of(competition: Competition) -> list[Window]:
    """The windows of the competition's phases, in order."""
    return competition.phase_windows()


def window_of(phase: CompetitionPhase) -> Window:
    """The phase's window."""
    return windows_of(phase.competition)[phase.competition.phases.index(phase)]


def current_phase(competition: Competition, now: datetime | None = None) -> CompetitionPhase | None:
    """The phase open now, the only one that accepts submissions; None when none is."""
    index = current(windows_of(competition), now or utcnow())
    return None if index is None else competition.phases[index]


def shown_phase(competition: Competition, now: datetime | None = None) -> CompetitionPhase:
    """The phase a board or page shows when none is named."""
    return competition.phases[shown(windows_of(competition), now or utcnow())]


def revealed(phase: CompetitionPhase, now: datetime | None = None) -> bool:
    """Whether the phase's private board and private scores are public: once the phase closed."""
    return window_of(phase).state(now or utcnow()) is Phase.CLOSED


def phase_named(competition: Competition, name: str | None, now: datetime | None = None) -> CompetitionPhase:
    """The phase a request names (the shown one when it names none); Refused (404) naming the phases otherwise."""
    if not name:
        return shown_phase(competition, now)
    found = next((p for p in competition.phases if p.name == name), None)
    if found is None:
        names = ", ".join(p.name for p in competition.phases)
        raise Refused(f"The competition {competition.slug!r} has no phase {name!r}; its phases: {names}.", 404)
    return found


def phase_to_submit(competition: Competition, name: str | None = None, now: datetime | None = None) -> CompetitionPhase:
    """The phase a submission made now goes to: the open one, which must be the one named if any; else Refused."""
    now = now or utcnow()
    all_windows = windows_of(competition)
    asked = phase_named(competition, name) if name else None
    index = current(all_windows, now)
    if index is not None and (asked is None or asked is competition.phases[index]):
        return competition.phases[index]
    if len(all_windows) == 1:
        raise Refused(_competition_not_open(all_windows[0], now), 403)
    if asked is not None:
        window = all_windows[competition.phases.index(asked)]
        open_now = "none does now" if index is None else f"only the current phase, {all_windows[index].name!r}, does"
        raise Refused(f"{_phase_dates(window, now)}: it does not accept submissions; {open_now}.", 403)
    raise Refused(_none_open(all_windows, now), 403)


def _competition_not_open(window: Window, now: datetime) -> str:
    if window.state(now) is Phase.UPCOMING:
        return f"The competition opens at {window.opens_at:%Y-%m-%d %H:%M} UTC; submissions are not accepted yet."
    return f"The competition closed at {window.closes_at:%Y-%m-%d %H:%M} UTC; submissions are no longer accepted."


def _phase_dates(window: Window, now: datetime) -> str:
    """The phase, named with its dates, as a refusal names it."""
    if window.state(now) is Phase.UPCOMING:
        return f"The phase {window.name!r} opens at {_at(window.opens_at)}"
    since = f" (it opened at {_at(window.opens_at)})" if window.opens_at is not None else ""
    return f"The phase {window.name!r} closed at {_at(window.closes_at)}{since}"


def _none_open(all_windows: Sequence[Window], now: datetime) -> str:
    upcoming = [w for w in all_windows if w.state(now) is Phase.UPCOMING]
    if len(upcoming) == len(all_windows):
        return f"{_phase_dates(upcoming[0], now)}; submissions are not accepted yet."
    if not upcoming:
        return f"{_phase_dates(all_windows[-1], now)}; submissions are no longer accepted."
    before = all_windows[all_windows.index(upcoming[0]) - 1]
    return (
        f"{_phase_dates(before, now)} and the phase {upcoming[0].name!r} opens at {_at(upcoming[0].opens_at)}; "
        "submissions are not accepted in between."
    )


def phase_as_json(phase: CompetitionPhase, window: Window, now: datetime, *, is_current: bool) -> dict:
    """A phase as the API gives it: its dates, state, and what it is scored and limited by."""
    return {
        "name": phase.name,
        "position": phase.position,
        "opens_at": window.opens_at.isoformat() if window.opens_at else None,
        "closes_at": window.closes_at.isoformat() if window.closes_at else None,
        "state": window.state(now).value,
        "current": is_current,
        "metric": phase.effective_metric,
        "daily_limit": phase.effective_daily_limit,
        "total_limit": phase.effective_total_limit,
        "final_selections": phase.effective_final_selections,
        "files": [f.name for f in phase.public_files],
        "test_file": phase.test_file,
    }


def phases_as_json(competition: Competition, now: datetime | None = None) -> list[dict]:
    """Every phase of the competition, in order, the current one flagged."""
    now = now or utcnow()
    all_windows = windows_of(competition)
    index = current(all_windows, now)
    return [
        phase_as_json(phase, window, now, is_current=position == index)
        for position, (phase, window) in enumerate(zip(competition.phases, all_windows, strict=True))
    ]
