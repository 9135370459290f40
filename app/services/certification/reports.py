"""Shift reports: what was certified in a UTC day or an ISO week, as data, CSV and e-log text."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app.extensions import db
from app.models import AuditEntry, Certification, RangeOrigin, ReviewState, Run
from app.models.certification import COMPONENTS
from app.services.errors import Refused


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
    certified_lumi: float = 0.0
    changed: list[AuditEntry] = field(default_factory=list)
    # Bad ranges of the approved certifications by origin: suggestions count only once certified and approved.
    range_origins: Counter = field(default_factory=Counter)

    @property
    def from_suggestions(self) -> int:
        """Bad ranges of approved certifications that came from a model's suggestion, accepted or edited."""
        return self.range_origins[RangeOrigin.SUGGESTED] + self.range_origins[RangeOrigin.SUGGESTED_EDITED]


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
    runs = {cert.run_number for cert in made}
    if runs:
        lumi = db.session.execute(db.select(db.func.sum(Run.recorded_lumi)).where(Run.run_number.in_(runs))).scalar()
        report.certified_lumi = float(lumi or 0.0)
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
        ["run", "reco", *COMPONENTS, "bad_ranges", "certifier", "review", "certified_at", "comment", "range_origins"]
    )
    for c in report.certifications:
        ranges = " ".join(f"{r.first}-{r.last}" for r in c.bad_ranges)
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
            ]
        )
    return buffer.getvalue()


def to_text(report: Report) -> str:
    """A plain-text summary to paste in the e-log."""
    lines = [f"Tracker certification report, {report.title}", ""]
    lines.append(f"Runs certified: {len(report.certifications)}; certified luminosity: {report.certified_lumi:.4g}")
    for component, counts in report.per_component.items():
        lines.append(f"  {component}: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("good", "bad", "excluded")))
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
