"""How far two blind certifications of the same runs agree: per-run differences, Cohen's kappa per component,
and lumisection-level overlap of the bad ranges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.extensions import db
from app.models import Certification, LabellingTask
from app.models.certification import COMPONENTS


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels; None when it is undefined (no pairs, or one label only)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first.keys() | second.keys()) / n**2
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def bad_lumisections(certification: Certification) -> set[int]:
    """The lumisections the certification's bad ranges cover, whatever the components."""
    return {ls for r in certification.bad_ranges for ls in range(r.first, r.last + 1)}


def overlap(first: set[int], second: set[int]) -> float | None:
    """Shared over marked lumisections (Jaccard); None when neither marked any."""
    union = first | second
    return len(first & second) / len(union) if union else None


@dataclass
class RunComparison:
    """The two certifications of one run, side by side."""

    run_number: int
    first: Certification
    second: Certification
    disagreeing: list[str]
    bad_overlap: float | None
    only_first: int
    only_second: int

    @property
    def agrees(self) -> bool:
        return not self.disagreeing and self.only_first == self.only_second == 0


@dataclass
class Agreement:
    """A double-certification task's agreement so far."""

    runs: list[RunComparison] = field(default_factory=list)
    kappa: dict[str, float | None] = field(default_factory=dict)
    bad_overlap: float | None = None  # over all compared runs' bad lumisections

    @property
    def disagreements(self) -> list[RunComparison]:
        return [r for r in self.runs if not r.agrees]


def compare(pairs: Iterable[tuple[Certification, Certification]]) -> Agreement:
    """Compare certification pairs (first and second copy of each run)."""
    result = Agreement()
    marked_both = marked_any = 0
    for first, second in pairs:
        a, b = bad_lumisections(first), bad_lumisections(second)
        result.runs.append(
            RunComparison(
                run_number=first.run_number,
                first=first,
                second=second,
                disagreeing=[c for c in COMPONENTS if getattr(first, c) != getattr(second, c)],
                bad_overlap=overlap(a, b),
                only_first=len(a - b),
                only_second=len(b - a),
            )
        )
        marked_both += len(a & b)
        marked_any += len(a | b)
    result.kappa = {
        c: cohen_kappa([(getattr(r.first, c).value, getattr(r.second, c).value) for r in result.runs])
        for c in COMPONENTS
    }
    result.bad_overlap = marked_both / marked_any if marked_any else None
    return result


def task_agreement(task: LabellingTask) -> Agreement:
    """The agreement over the runs of the task that both shifters certified."""
    rows = db.session.execute(
        db.select(Certification)
        .where(Certification.task_id == task.id)
        .order_by(Certification.run_number, Certification.copy)
    ).scalars()
    by_run: dict[int, list[Certification]] = {}
    for certification in rows:
        by_run.setdefault(certification.run_number, []).append(certification)
    return compare((cs[0], cs[1]) for cs in by_run.values() if len(cs) >= 2)
