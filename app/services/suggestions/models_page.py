"""What the models page of a task shows: each source with its live measures and their history, the false and
true positive rates its threshold would have had on the task's approved runs, and per shifter how they used
suggestions (accepted unchanged, edited, ignored), how often they agreed with the active models on blind runs
and with them in view, and whether they look like they rubber-stamp suggestions.

What a shifter was shown is not stored: the page takes it to be the suggested ranges, at today's thresholds,
of the sources active now that existed when the certification was made. The agreement on a blind run is
that of the first answer (the audit log's), given before any suggestion was shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from app.extensions import db
from app.models import (
    AuditEntry,
    Certification,
    LabellingTask,
    RangeOrigin,
    SourceEvaluation,
    SuggestionScore,
    SuggestionSource,
    User,
)
from app.services.runs.charts import LAYOUT
from app.services.suggestions import measures
from app.services.suggestions.live_scoring import TaskLabels, approval_times
from app.services.suggestions.ordering import SourceRun
from app.services.suggestions.store import RunSuggestion, run_suggestions

COMPONENT_KEYS = ("pixel", "strip", "tracking")


@dataclass(frozen=True)
class ThresholdRates:
    """A threshold's false and true positive rates on the approved lumisections the source scored."""

    lumisections: int
    fpr: float | None  # None without good lumisections
    tpr: float | None  # None without bad lumisections


@dataclass(frozen=True)
class SourceRow:
    """One source as the models page lists it."""

    source: SuggestionSource
    live: SourceEvaluation | None
    rates: ThresholdRates


@dataclass(frozen=True)
class ShifterRow:
    """One certifier's use of suggestions."""

    user: User
    measures: measures.ShifterMeasures


def task_sources(task: LabellingTask) -> list[SuggestionSource]:
    """The task's sources, oldest first."""
    return list(
        db.session.execute(
            select(SuggestionSource).where(SuggestionSource.task_id == task.id).order_by(SuggestionSource.id)
        ).scalars()
    )


def threshold_rates(source: SuggestionSource, labels: TaskLabels) -> ThresholdRates:
    """What the source's threshold flags of the approved lumisections it scored: FPR on good, TPR on bad."""
    if not len(labels.run):
        return ThresholdRates(0, None, None)
    score = SuggestionScore.__table__.c
    rows = db.session.execute(
        select(score.run_number, score.lumisection, score.score).where(
            score.source_id == source.id, score.run_number.in_(np.unique(labels.run).tolist())
        )
    ).all()
    table = np.array(rows, dtype=np.float64).reshape(-1, 3)
    keys = (table[:, 0].astype(np.int64) << 32) + table[:, 1].astype(np.int64)
    label_keys = (labels.run << 32) + labels.lumisection
    _, at_score, at_label = np.intersect1d(keys, label_keys, assume_unique=True, return_indices=True)
    flagged = table[at_score, 2] >= source.threshold
    bad = labels.label[at_label] == 1
    return ThresholdRates(
        len(at_score),
        float(np.mean(flagged[~bad])) if np.any(~bad) else None,
        float(np.mean(flagged[bad])) if np.any(bad) else None,
    )


def source_rows(task: LabellingTask) -> list[SourceRow]:
    """Every source of the task with its latest live measures and its threshold's rates on approved runs."""
    sources = task_sources(task)
    if not sources:
        return []
    labels = TaskLabels(task, sorted(approval_times(task.id)))
    return [SourceRow(s, s.live, threshold_rates(s, labels)) for s in sources]


def live_chart(sources: list[SuggestionSource]) -> dict:
    """Each source's live ROC AUC and TPR at 1% FPR over time, as a Plotly figure (a dict)."""
    traces: list[dict[str, Any]] = []
    for source in sources:
        if not source.evaluations:
            continue
        at = [e.at.isoformat() for e in source.evaluations]
        label = f"{source.name} {source.version}".strip()
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{label}: ROC AUC",
                "x": at,
                "y": [e.roc_auc for e in source.evaluations],
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{label}: TPR at 1% FPR",
                "x": at,
                "y": [e.tpr_at_fpr for e in source.evaluations],
                "line": {"dash": "dot"},
            }
        )
    layout = LAYOUT | {
        "xaxis": {"title": {"text": "evaluated at"}, "type": "date"},
        "yaxis": {"title": {"text": "live measure"}, "range": [0, 1.02]},
        "legend": {"orientation": "h"},
    }
    return {"data": traces, "layout": layout}


def _first_answer(certification: Certification) -> tuple[list[tuple[int, int]], bool]:
    """The bad ranges and whole-run verdict of the certification as first saved (the audit log's)."""
    entry = db.session.execute(
        select(AuditEntry)
        .where(AuditEntry.entity == "certification", AuditEntry.entity_id == certification.id)
        .where(AuditEntry.action == "certify")
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(1)
    ).scalar_one_or_none()
    if entry is None or not entry.after:
        return [(r.first, r.last) for r in certification.bad_ranges], certification.any_bad
    first = entry.after
    ranges = [(int(r["first"]), int(r["last"])) for r in first.get("bad_lumisections", [])]
    return ranges, any(first.get(c) == "bad" for c in COMPONENT_KEYS)


def _certified_run(certification: Certification, shown: list[RunSuggestion]) -> measures.CertifiedRun:
    """The certification as shifter_measures reads it, with the sources that existed when it was made."""
    sources = [s for s in shown if _created_before(s.source_id, certification)]
    if certification.blind:
        ranges, run_bad = _first_answer(certification)
    else:
        ranges, run_bad = [(r.first, r.last) for r in certification.bad_ranges], certification.any_bad
    runs = [SourceRun(s.lumisections, s.scores, s.threshold) for s in sources if len(s.lumisections)]
    return measures.CertifiedRun(
        certifier_id=certification.certifier_id,
        run_number=certification.run_number,
        blind=bool(certification.blind),
        suggested={} if certification.blind else {s.source_id: s.suggested_ranges for s in sources},
        ranges=[
            measures.CertifiedBadRange(r.first, r.last, RangeOrigin(r.origin or RangeOrigin.MANUAL), r.source_id)
            for r in certification.bad_ranges
        ],
        agreement=measures.agreement(runs, ranges, run_bad) if runs else None,
    )


def _created_before(source_id: int, certification: Certification) -> bool:
    source = db.session.get(SuggestionSource, source_id)
    return source is not None and source.created_at <= certification.created_at


def shifter_rows(task: LabellingTask) -> list[ShifterRow]:
    """Each certifier of the task with their use of suggestions, by name."""
    certifications = list(
        db.session.execute(
            select(Certification).where(Certification.task_id == task.id).order_by(Certification.run_number)
        ).scalars()
    )
    by_run: dict[int, list[Certification]] = defaultdict(list)
    for certification in certifications:
        if certification.certifier_id is not None:
            by_run[certification.run_number].append(certification)
    runs: list[measures.CertifiedRun] = []
    for run_number, of_run in by_run.items():
        shown = run_suggestions(task, run_number)
        runs.extend(_certified_run(c, shown) for c in of_run)
    per_user = measures.shifter_measures(runs)
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(per_user)))).scalars()}
    return sorted((ShifterRow(users[i], m) for i, m in per_user.items() if i in users), key=lambda r: r.user.username)


def rubber_stampers(task_ids: list[int]) -> dict[int, set[int]]:
    """Per task, the certifiers flagged as rubber-stamping suggestions (measures.rubber_stamping)."""
    flagged: dict[int, set[int]] = {}
    for task in db.session.execute(select(LabellingTask).where(LabellingTask.id.in_(task_ids))).scalars():
        flagged[task.id] = {row.user.id for row in shifter_rows(task) if row.measures.rubber_stamping}
    return flagged
