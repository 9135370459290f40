"""Which lumisection a shifter compares a selected lumisection of a run with, and how the page says why.

The rule, for one monitoring element of the run and one selected lumisection; the first that applies wins:

1. **the chosen reference run**: the ``reference_run`` of the certification (as the form holds it while the
   shifter works, else as the run's current certification recorded it), when it is a reference run of the
   task's reconstruction (the form refuses any other);
2. **the task's latest reference run of the run's class**: the reference run of the task's reconstruction and
   of the same run class (collisions, cosmics) that shift leaders promoted last;
3. **the nearest good lumisection of the run itself**: the nearest other lumisection of this run that is not in
   a bad range of the run's current certification (ties go to the earlier one), as the dataset pages pick a
   good lumisection to compare with (``datasets.queries.good_reference``).

In a reference run the compared lumisection is the same number when the run holds the monitoring element for
it, else the nearest lumisection it holds (ties go to the earlier one). A reference run that does not hold the
monitoring element at all is passed over for the next rule, as is the run itself. Without any candidate (a run
whose every other lumisection is bad, and no reference run) there is nothing to compare with: None.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from app.extensions import db
from app.models import LabellingTask, ReferenceRun, Run

CHOSEN = "chosen"
LATEST = "latest"
NEAREST_GOOD = "nearest good"

# The lumisections a run holds of a monitoring element, sorted; empty when it does not hold the element.
Holdings = Callable[[int, str], Sequence[int]]


@dataclass(frozen=True)
class Reference:
    """What a selected lumisection is compared with: a lumisection of a run, and which rule chose it."""

    run_number: int
    lumisection: int
    reason: str  # CHOSEN, LATEST or NEAREST_GOOD
    run_class: str | None = None  # of a LATEST reference run, to name it

    def describe(self, selected: int) -> str:
        """What the page says it shows: "reference run 123 (chosen)", "LS 40 of this run (nearest good)"."""
        if self.reason == NEAREST_GOOD:
            return f"LS {self.lumisection} of this run (nearest good)"
        why = "chosen" if self.reason == CHOSEN else f"task's latest {self.run_class or 'unclassified'} reference"
        text = f"reference run {self.run_number} ({why})"
        if self.lumisection != selected:
            text += f", LS {self.lumisection}: the nearest it holds"
        return text

    def as_json(self, selected: int) -> dict:
        """The reference as the page's script reads it."""
        return {
            "run_number": self.run_number,
            "lumisection": self.lumisection,
            "reason": self.reason,
            "description": self.describe(selected),
        }


def nearest(numbers: Sequence[int], wanted: int) -> int | None:
    """The number of the sorted sequence closest to wanted (the earlier of two as close); None when empty."""
    if not numbers:
        return None
    at = bisect.bisect_left(numbers, wanted)
    if at < len(numbers) and numbers[at] == wanted:
        return wanted
    candidates = [numbers[i] for i in (at - 1, at) if 0 <= i < len(numbers)]
    return min(candidates, key=lambda n: (abs(n - wanted), n))


def nearest_good(numbers: Sequence[int], wanted: int, bad_ranges: Iterable[tuple[int, int]]) -> int | None:
    """The lumisection of the sorted sequence closest to wanted, other than wanted, outside every bad range
    (inclusive); the earlier of two as close; None when there is none."""
    bad = list(bad_ranges)
    good = [n for n in numbers if n != wanted and not any(first <= n <= last for first, last in bad)]
    return nearest(good, wanted)


def reference_runs(task: LabellingTask, run: Run, chosen: int | None) -> list[tuple[int, str, str | None]]:
    """The reference runs to try, in order: (run number, reason, run class).

    The chosen run when it is a reference run of the task's reconstruction, then the latest reference run of
    the task's reconstruction and the run's class; never the run itself.
    """
    candidates: list[tuple[int, str, str | None]] = []
    if chosen is not None and chosen != run.run_number:
        promoted = db.session.execute(
            db.select(ReferenceRun.run_number).where(ReferenceRun.run_number == chosen, ReferenceRun.reco == task.reco)
        ).scalar_one_or_none()
        if promoted is not None:
            candidates.append((chosen, CHOSEN, None))
    same_class = ReferenceRun.run_class.is_(None) if run.run_class is None else ReferenceRun.run_class == run.run_class
    latest = db.session.execute(
        db.select(ReferenceRun.run_number)
        .where(ReferenceRun.reco == task.reco, same_class, ReferenceRun.run_number != run.run_number)
        .order_by(ReferenceRun.created_at.desc(), ReferenceRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if latest is not None:
        candidates.append((latest, LATEST, run.run_class.value if run.run_class else None))
    return candidates


def reference_for(
    task: LabellingTask,
    run: Run,
    name: str,
    lumisection: int,
    *,
    chosen: int | None,
    bad_ranges: Iterable[tuple[int, int]],
    holdings: Holdings,
) -> Reference | None:
    """What to compare the monitoring element ``name`` of the run at ``lumisection`` with, by the module's rule.

    ``chosen`` is the certification's reference run, ``bad_ranges`` the bad lumisections of the run's current
    certification, ``holdings`` the lumisections a run holds of a monitoring element.
    """
    for run_number, reason, run_class in reference_runs(task, run, chosen):
        number = nearest(holdings(run_number, name), lumisection)
        if number is not None:
            return Reference(run_number, number, reason, run_class)
    number = nearest_good(holdings(run.run_number, name), lumisection, bad_ranges)
    return None if number is None else Reference(run.run_number, number, NEAREST_GOOD)
