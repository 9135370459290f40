"""This platform's certification of a run beside the Run Registry's flags of its tracker components.

Components pair up as pixel <-> ``tracker-pixel``, strip <-> ``tracker-strip``, tracking <-> ``tracker-track``.
This platform's verdict on one lumisection of a component is ``bad`` when the certification says the component
is bad for the run or one of its bad ranges naming the component holds the lumisection, ``excluded`` when it
says the component is excluded, and ``good`` otherwise. Where several certifications count (the approved
copies of a double certification), a lumisection is bad when one of them says so, else excluded when one says
so, as for the golden JSON.

The rule: a lumisection *disagrees* where this platform says good and RR says BAD, or this platform says bad
and RR says GOOD. RR's STANDBY, EXCLUDED, NOTSET and EMPTY are shown but never count as a disagreement, nor do
lumisections this platform excludes or RR lists under no status. A run *agrees* when none of its lumisections
disagrees and *differs* when one does; it is *not in RR* when no tracker range of it was imported.

Which certification counts: the run's approved certifications in the task when there are any, else the first
one the viewer sees (none: the comparison shows RR alone). Which RR dataset: ``online`` when it was imported
for the run, else the first imported dataset by name, as ``GET /api/v1/runs/{n}`` shows it.

The core (``Certified``, ``pieces``, ``compare``) is plain functions on plain data; ``run_comparison`` and
``task_verdicts`` read the database, the latter in one query for a whole task.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from app.extensions import db
from app.models import Certification, ReviewState, RrRange, TaskRun
from app.services.runs.run_registry import DEFAULT_DATASET, Range

RR_COMPONENTS = {"pixel": "tracker-pixel", "strip": "tracker-strip", "tracking": "tracker-track"}
AGREES, DIFFERS, NOT_IN_RR = "agrees", "differs", "not in RR"
DISAGREEING = {("good", "BAD"), ("bad", "GOOD")}

T = TypeVar("T", bound=Hashable)


class BadSpan(NamedTuple):
    """A certification's bad range: lumisections first..last, bad for these components, and why."""

    first: int
    last: int
    components: frozenset[str]
    comment: str = ""


class Said(NamedTuple):
    """A verdict on a lumisection of a component (good, bad, excluded), with the comment and cause of a bad one."""

    verdict: str
    comment: str = ""
    cause: str = ""


@dataclass(frozen=True)
class Certified:
    """What one certification says, as plain data: each component's status for the run (good, bad, excluded)
    and its bad ranges."""

    statuses: Mapping[str, str]
    bad_ranges: Sequence[BadSpan] = ()
    comment: str = ""
    bad_reason: str = ""

    @classmethod
    def of(cls, certification: Certification) -> Certified:
        """The plain view of a stored certification (its bad ranges loaded)."""
        return cls(
            {c: getattr(certification, c).value for c in RR_COMPONENTS},
            [BadSpan(r.first, r.last, frozenset(r.components), r.comment) for r in certification.bad_ranges],
            certification.comment,
            certification.bad_reason,
        )

    def at(self, component: str, lumisection: int) -> Said:
        """This certification's verdict on one lumisection of a component, with why (comment and cause)."""
        status = self.statuses[component]
        if status == "bad":
            return Said("bad", self.comment, self.bad_reason)
        if status == "excluded":
            return Said("excluded")
        for r in self.bad_ranges:
            if component in r.components and r.first <= lumisection <= r.last:
                return Said("bad", r.comment or self.comment, self.bad_reason)
        return Said("good")

    def cuts(self, component: str) -> list[int]:
        """The lumisections where this certification's verdict on the component may change."""
        return [n for r in self.bad_ranges if component in r.components for n in (r.first, r.last + 1)]


def platform_at(certified: Sequence[Certified], component: str, lumisection: int) -> Said:
    """The verdict of several certifications on one lumisection: bad if one says so, else excluded if one does."""
    said = [c.at(component, lumisection) for c in certified]
    for verdict in ("bad", "excluded"):
        for item in said:
            if item.verdict == verdict:
                return item
    return Said("good")


def pieces(first: int, last: int, cuts: Iterable[int], value_at: Callable[[int], T]) -> list[tuple[int, int, T]]:
    """The maximal spans of lumisections first..last on which ``value_at`` is constant, given every
    lumisection where it may change."""
    starts = sorted({first, *(n for n in cuts if first < n <= last)})
    spans: list[tuple[int, int, T]] = []
    for start, stop in zip(starts, [*starts[1:], last + 1], strict=True):
        value = value_at(start)
        if spans and spans[-1][2] == value:
            spans[-1] = (spans[-1][0], stop - 1, value)
        else:
            spans.append((start, stop - 1, value))
    return spans


def rr_at(ranges: Sequence[Range], lumisection: int) -> str | None:
    """RR's status of one lumisection of a component; None where RR lists none."""
    return next((r.status for r in ranges if r.first <= lumisection <= r.last), None)


def rr_cuts(ranges: Sequence[Range]) -> list[int]:
    """The lumisections where RR's status of a component may change."""
    return [n for r in ranges for n in (r.first, r.last + 1)]


@dataclass(frozen=True)
class Span:
    """Lumisections first..last where this platform and RR each say one thing of a component."""

    first: int
    last: int
    platform: str | None  # good, bad, excluded; None: no certification to compare
    rr: str | None  # RR's status; None: RR lists none

    @property
    def disagrees(self) -> bool:
        """This platform says good and RR BAD, or bad and RR GOOD."""
        return (self.platform, self.rr) in DISAGREEING


@dataclass(frozen=True)
class ComponentComparison:
    """One tracker component: RR's ranges, this platform's verdicts over the run, and where they meet."""

    component: str  # RR's name
    rr: list[Range]
    spans: list[Span]  # over the lumisections RR lists
    certified: Sequence[Certified] = ()
    last: int = 0  # the run's last lumisection

    @property
    def platform(self) -> list[tuple[int, int, str]]:
        """This platform's verdicts over the run's lumisections: (first, last, verdict) spans."""
        if not self.certified or not self.last:
            return []
        ours = next(o for o, theirs in RR_COMPONENTS.items() if theirs == self.component)
        cuts = [n for c in self.certified for n in c.cuts(ours)]
        return pieces(1, self.last, cuts, lambda n: platform_at(self.certified, ours, n).verdict)

    @property
    def disagreements(self) -> list[Span]:
        """The spans where the two disagree."""
        return [s for s in self.spans if s.disagrees]

    def disagrees_within(self, first: int, last: int) -> bool:
        """Whether some lumisection of first..last disagrees."""
        return any(s.first <= last and first <= s.last for s in self.disagreements)


@dataclass(frozen=True)
class RunComparison:
    """A run's certification beside RR: per tracker component, and one verdict for the run."""

    run_number: int
    dataset_name: str | None  # None: not in RR
    certified: bool
    components: list[ComponentComparison]

    @property
    def verdict(self) -> str | None:
        """agrees, differs or not in RR; None when RR has the run but there is no certification to compare."""
        if not any(c.rr for c in self.components):
            return NOT_IN_RR
        if not self.certified:
            return None
        return DIFFERS if any(c.disagreements for c in self.components) else AGREES

    def as_json(self) -> dict[str, Any]:
        """The comparison as plain data."""
        return {
            "run_number": self.run_number,
            "dataset_name": self.dataset_name,
            "verdict": self.verdict,
            "components": {
                c.component: [
                    {"first": s.first, "last": s.last, "platform": s.platform, "rr": s.rr, "disagrees": s.disagrees}
                    for s in c.spans
                ]
                for c in self.components
            },
        }


def compare(
    run_number: int,
    dataset_name: str | None,
    rr: Mapping[str, Sequence[Range]],
    certified: Sequence[Certified],
    last: int | None = None,
) -> RunComparison:
    """Compare the certifications that count with RR's ranges of one dataset of a run.

    ``last`` is the run's last lumisection, for this platform's ranges; without it, the last RR lists.
    """
    end = last or max((r.last for ranges in rr.values() for r in ranges), default=0)
    components = []
    for ours, theirs in RR_COMPONENTS.items():
        ranges = sorted(rr.get(theirs, ()), key=lambda r: r.first)
        cuts = rr_cuts(ranges) + [n for c in certified for n in c.cuts(ours)]

        def both(n: int, ours: str = ours, ranges: Sequence[Range] = ranges) -> tuple[str | None, str | None]:
            return (platform_at(certified, ours, n).verdict if certified else None), rr_at(ranges, n)

        spans = []
        if ranges:
            spans = [
                Span(a, b, *value) for a, b, value in pieces(ranges[0].first, ranges[-1].last, cuts, both) if value[1]
            ]
        components.append(ComponentComparison(theirs, list(ranges), spans, certified, end))
    return RunComparison(run_number, dataset_name if any(rr.values()) else None, bool(certified), components)


def compared_certifications(certifications: Sequence[Certification]) -> list[Certification]:
    """The certifications that count: the approved ones, else the first given (the first the viewer sees)."""
    approved = [c for c in certifications if c.review_state is ReviewState.APPROVED]
    return approved or list(certifications[:1])


def _by_run(rows: Iterable[Any]) -> dict[int, tuple[str, dict[str, list[Range]]]]:
    """Stored RR ranges by run: the dataset shown (online, else the first by name) and its ranges by component."""
    datasets: dict[int, dict[str, dict[str, list[Range]]]] = {}
    for row in rows:
        components = datasets.setdefault(row.run_number, {}).setdefault(row.dataset_name, {})
        components.setdefault(row.component, []).append(Range(row.first, row.last, row.status, row.cause, row.comment))
    shown = {}
    for run, by_dataset in datasets.items():
        name = DEFAULT_DATASET if DEFAULT_DATASET in by_dataset else min(by_dataset)
        shown[run] = (name, by_dataset[name])
    return shown


_COLUMNS = (RrRange.run_number, RrRange.dataset_name, RrRange.component, RrRange.first, RrRange.last, RrRange.status)


def run_comparison(run_number: int, last: int | None, certifications: Sequence[Certification]) -> RunComparison:
    """A run's certification (``compared_certifications`` of those given) beside its stored RR ranges."""
    rows = db.session.execute(
        db.select(*_COLUMNS, RrRange.cause, RrRange.comment).where(RrRange.run_number == run_number)
    ).all()
    dataset, ranges = _by_run(rows).get(run_number, (None, {}))
    certified = [Certified.of(c) for c in compared_certifications(certifications)]
    return compare(run_number, dataset, ranges, certified, last)


def task_verdicts(
    task_id: int, certifications: Mapping[int, Sequence[Certification]], lasts: Mapping[int, int | None]
) -> dict[int, str | None]:
    """Each run's verdict (agrees, differs, not in RR; None: nothing certified to compare) for the task page,
    from one query of the RR ranges of all the task's runs. The certifications come with their bad ranges."""
    rows = db.session.execute(
        db.select(*_COLUMNS, db.literal("").label("cause"), db.literal("").label("comment"))
        .join(TaskRun, TaskRun.run_number == RrRange.run_number)
        .where(TaskRun.task_id == task_id)
    ).all()
    stored = _by_run(rows)
    verdicts: dict[int, str | None] = {}
    for run, last in lasts.items():
        if run not in stored:
            verdicts[run] = NOT_IN_RR
            continue
        certified = [Certified.of(c) for c in compared_certifications(certifications.get(run, ()))]
        dataset, ranges = stored[run]
        verdicts[run] = compare(run, dataset, ranges, certified, last).verdict
    return verdicts
