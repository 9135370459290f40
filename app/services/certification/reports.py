"""Shift reports: what was certified in a UTC day or an ISO week, as data, CSV and e-log text."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.extensions import db
from app.models import AuditEntry, Certification, Lumisection, RangeOrigin, ReviewState, Run
from app.models.certification import COMPONENTS, Status
from app.services.errors import Refused
from app.services.runs.luminosity import format_luminosity

# The report's CSV gives luminosities in pb⁻¹, headed as brilcalc heads its columns.
LUMI_COLUMNS = ["recorded(/pb)", *(f"{c}_lost(/pb)" for c in COMPONENTS)]


def day_period(text: str) -> tuple[datetime, datetime, str]:
    """The UTC day of an ISO date such as 2026-11-28; a text that is not one names no report (404)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Refused(f"{text!r} is not a date such as 2026-11-28", 404) from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1), day.isoformat()


def week_period(text: str) -> tuple[datetime, datetime, str]:
    """The ISO week such as 2026-W48, Monday 00:00 UTC to the next Monday; else no report (404)."""
    try:
        year, week = text.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise Refused(f"{text!r} is not an ISO week such as 2026-W48", 404) from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7), text


@dataclass
class Report:
    """What was certified in a period."""

    title: str
    certifications: list[Certification]
    per_component: dict[str, Counter] = field(default_factory=dict)
    per_shifter: Counter = field(default_factory=Counter)
    certified_lumi: float = 0.0  # recorded by the report's runs, pb⁻¹
    run_lumi: dict[int, float | None] = field(default_factory=dict)  # recorded by each run, pb⁻¹
    # Per component, recorded luminosity (pb⁻¹) of the lumisections certified bad for it: of the report's
    # certifications that were not rejected (lost_lumi), and of each certification (lost_by_certification).
    lost_lumi: dict[str, float] = field(default_factory=dict)
    lost_by_certification: dict[int, dict[str, float]] = field(default_factory=dict)
    changed: list[AuditEntry] = field(default_factory=list)
    # Bad ranges of the approved certifications by origin: suggestions count only once certified and approved.
    range_origins: Counter = field(default_factory=Counter)

    @property
    def from_suggestions(self) -> int:
        """Bad ranges of approved certifications that came from a model's suggestion, accepted or edited."""
        return self.range_origins[RangeOrigin.SUGGESTED] + self.range_origins[RangeOrigin.SUGGESTED_EDITED]

    def lost_share(self, component: str) -> float | None:
        """The component's lost luminosity as a share of the luminosity the report's runs recorded."""
        return self.lost_lumi.get(component, 0.0) / self.certified_lumi if self.certified_lumi > 0 else None


def bad_for(certification: Certification, component: str, numbers: Collection[int]) -> set[int]:
    """The lumisections (of ``numbers``, the run's) that a certification marks bad for a component: all of them
    when the component is bad for the whole run, else those of the bad ranges naming it."""
    if getattr(certification, component) is Status.BAD:
        return set(numbers)
    return {
        n
        for r in certification.bad_ranges
        if component in (r.components or COMPONENTS)
        for n in range(r.first, r.last + 1)
        if n in numbers
    }


def lost_luminosity(
    certifications: Iterable[Certification], recorded: Mapping[int, Mapping[int, float]]
) -> dict[str, float]:
    """Per component, the recorded luminosity (pb⁻¹; ``recorded`` by run, then lumisection) of the lumisections
    the certifications mark bad for it, each lumisection counted once however many certifications mark it."""
    certifications = list(certifications)
    lost = {}
    for component in COMPONENTS:
        bad = {
            (c.run_number, n)
            for c in certifications
            for n in bad_for(c, component, recorded.get(c.run_number, {}).keys())
        }
        lost[component] = sum(recorded[run][n] for run, n in bad)
    return lost


def _recorded_by_lumisection(runs: Collection[int]) -> dict[int, dict[int, float]]:
    """The recorded luminosity (pb⁻¹) of each lumisection of the runs that recorded some."""
    rows = db.session.execute(
        db.select(Lumisection.run_number, Lumisection.number, Lumisection.recorded_lumi).where(
            Lumisection.run_number.in_(runs), Lumisection.recorded_lumi > 0
        )
    )
    recorded: dict[int, dict[int, float]] = {}
    for run, number, lumi in rows:
        recorded.setdefault(run, {})[number] = lumi
    return recorded


def _add_luminosity(report: Report) -> None:
    """The luminosity the report's runs recorded, and what the certifications lost of it per component."""
    runs = {cert.run_number for cert in report.certifications}
    if not runs:
        report.lost_lumi = dict.fromkeys(COMPONENTS, 0.0)
        return
    report.run_lumi = dict(
        db.session.execute(db.select(Run.run_number, Run.recorded_lumi).where(Run.run_number.in_(runs))).all()
    )
    report.certified_lumi = sum(lumi or 0.0 for lumi in report.run_lumi.values())
    recorded = _recorded_by_lumisection(runs)
    kept = [c for c in report.certifications if c.review_state is not ReviewState.REJECTED]
    report.lost_lumi = lost_luminosity(kept, recorded)
    report.lost_by_certification = {c.id: lost_luminosity([c], recorded) for c in report.certifications}


def build(start: datetime, end: datetime, title: str) -> Report:
    """Gather the certifications made, and the certifications changed, in [start, end)."""
    made = list(
        db.session.execute(
            db.select(Certification)
            .where(Certification.created_at >= start, Certification.created_at < end)
            .order_by(Certification.run_number)
        ).scalars()
    )
    report = Report(title, made)
    report.per_component = {c: Counter(getattr(cert, c).value for cert in made) for c in COMPONENTS}
    report.per_shifter = Counter(cert.certifier.username for cert in made)
    report.range_origins = Counter(
        RangeOrigin(r.origin or RangeOrigin.MANUAL)
        for cert in made
        if cert.review_state is ReviewState.APPROVED
        for r in cert.bad_ranges
    )
    _add_luminosity(report)
    report.changed = list(
        db.session.execute(
            db.select(AuditEntry)
            .where(
                AuditEntry.entity == "certification",
                AuditEntry.action == "edit",
                AuditEntry.at >= start,
                AuditEntry.at < end,
            )
            .order_by(AuditEntry.at)
        ).scalars()
    )
    return report


def changed_flags(entry: AuditEntry) -> str:
    """'pixel good→bad, tracking bad→good' for an edit."""
    before, after = entry.before or {}, entry.after or {}
    changes = [f"{c} {before.get(c)}→{after.get(c)}" for c in COMPONENTS if before.get(c) != after.get(c)]
    return ", ".join(changes) or "ranges or comment"


def to_csv(report: Report) -> str:
    """One row per certification."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "run",
            "reco",
            *COMPONENTS,
            "bad_ranges",
            "certifier",
            "review",
            "certified_at",
            "comment",
            "range_origins",
            *LUMI_COLUMNS,
        ]
    )
    for c in report.certifications:
        ranges = " ".join(f"{r.first}-{r.last}" for r in c.bad_ranges)
        recorded = report.run_lumi.get(c.run_number)
        lost = report.lost_by_certification.get(c.id, {})
        writer.writerow(
            [
                c.run_number,
                c.reco.value,
                *(getattr(c, x).value for x in COMPONENTS),
                ranges,
                c.certifier.username,
                c.review_state.value,
                c.created_at.isoformat(),
                c.comment,
                " ".join(RangeOrigin(r.origin or RangeOrigin.MANUAL).value for r in c.bad_ranges),
                "" if recorded is None else recorded,
                *(lost.get(x, 0.0) for x in COMPONENTS),
            ]
        )
    return buffer.getvalue()


def lost_text(report: Report, component: str) -> str:
    """'1.2 nb⁻¹ (0.5% of recorded)': what a component lost, with its share of what the report's runs recorded."""
    lost, share = report.lost_lumi.get(component, 0.0), report.lost_share(component)
    if share is None or not lost:
        return format_luminosity(lost)
    percent = f"{share:.1%}" if share >= 0.001 else "<0.1%"
    return f"{format_luminosity(lost)} ({percent} of recorded)"


def to_text(report: Report) -> str:
    """A plain-text summary to paste in the e-log."""
    lines = [f"Tracker certification report, {report.title}", ""]
    recorded = format_luminosity(report.certified_lumi)
    lines.append(f"Runs certified: {len(report.certifications)}; recorded luminosity: {recorded}")
    for component, counts in report.per_component.items():
        verdicts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("good", "bad", "excluded"))
        lines.append(f"  {component}: {verdicts}; luminosity lost: {lost_text(report, component)}")
    approved_ranges = sum(report.range_origins.values())
    lines.append(
        f"Bad ranges of approved certifications: {approved_ranges}; from suggestions: {report.from_suggestions}"
        f" ({report.range_origins[RangeOrigin.SUGGESTED]} accepted as suggested,"
        f" {report.range_origins[RangeOrigin.SUGGESTED_EDITED]} edited)"
    )
    if report.per_shifter:
        lines.append("Per shifter: " + ", ".join(f"{name} {n}" for name, n in sorted(report.per_shifter.items())))
    for c in report.certifications:
        flags = "/".join(getattr(c, x).value for x in COMPONENTS)
        bad = f", bad LS {' '.join(f'{r.first}-{r.last}' for r in c.bad_ranges)}" if c.bad_ranges else ""
        lines.append(
            f"  run {c.run_number} ({c.reco.value}): {flags}{bad} [{c.certifier.username}, {c.review_state.value}]"
        )
    if report.changed:
        lines.append("Changed flags:")
        lines += [f"  certification {e.entity_id}: {changed_flags(e)}" for e in report.changed]
    return "\n".join(lines) + "\n"
