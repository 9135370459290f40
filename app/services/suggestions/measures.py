"""Honest measures of the loop: how good a source's scores are on labels that came after it (live), and how
shifters use suggestions (acceptance, agreement with the models on blind runs, rubber-stamping).

Live measures work on the lumisections of runs approved after the source was created, each with its label
(1: bad) and, where the competition has them, its weight (e.g. recorded luminosity), and are equal to
scikit-learn's on the same lumisections with the same weights:
- ROC AUC is `roc_auc_score(labels, scores, sample_weight=weights)`.
- TPR at FPR f (1% unless told) is the largest true positive rate among the points of
  `roc_curve(labels, scores, sample_weight=weights, drop_intermediate=False)` whose false positive rate is at
  most f: the best threshold that flags at most f of the negatives, with no interpolation between points. (With
  drop_intermediate left on, scikit-learn drops collinear points that may be the best one under the limit.)
- The competition's metric is the scorers registry's, on all those lumisections together (no public/private
  split: the labels are new), with its parameters; None where the metric cannot be computed (one class only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import scorers
from app.models.suggestions import RangeOrigin
from app.services.suggestions.ordering import SourceRun
from app.services.suggestions.ranges import Range
from scorers import ranking

FPR = 0.01
RUBBER_STAMP_RUNS = 20  # runs with suggestions before the rule applies
RUBBER_STAMP_SHARE = 0.95  # of suggested ranges accepted unchanged


def _arrays(labels, scores, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(scores, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if y.shape != p.shape or (w is not None and w.shape != y.shape):
        raise ValueError("labels, scores and weights need one value per lumisection")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels are 0 (good) or 1 (bad)")
    return y, p, w


def _ranked(labels, scores, weights) -> ranking.Ranked | None:
    """Both classes sorted apart, or None when one of them is absent (or weighs nothing)."""
    y, p, w = _arrays(labels, scores, weights)
    weight = np.ones_like(y) if w is None else w
    if not (np.sum(weight[y == 1]) > 0 and np.sum(weight[y == 0]) > 0):
        return None
    return ranking.Ranked.of(y, p, w)


def roc_auc(labels, scores, weights=None) -> float | None:
    """Area under the ROC curve, as scikit-learn's roc_auc_score; None without both classes."""
    ranked = _ranked(labels, scores, weights)
    return None if ranked is None else ranking.roc_auc(ranked)


def tpr_at_fpr(labels, scores, fpr: float = FPR, weights=None) -> float | None:
    """The largest true positive rate at a threshold flagging at most fpr of the negatives; None without both."""
    ranked = _ranked(labels, scores, weights)
    return None if ranked is None else ranking.tpr_at_fpr(ranked, fpr)


def metric_score(metric: str, labels, scores, weights=None, **params: Any) -> float | None:
    """The competition's metric (a scorers registry name) on these lumisections; None if it cannot be computed."""
    scorer = scorers.get(metric, **params)
    y, p, w = _arrays(labels, scores, weights)
    if not len(y) or (w is not None and not np.sum(w) > 0):
        return None
    if scorer.needs_both_classes and _ranked(y, p, w) is None:
        return None
    if scorer.needs_varying_targets and y.min() == y.max():
        return None
    return float(scorer.evaluate(y, p, w)[0])


def labels_sha256(run_numbers, lumisections, labels, weights=None) -> str:
    """A digest of the label snapshot a live score used, the same for the same labels in any row order.

    Rows sorted by (run, lumisection); then run, lumisection, label and weight (1 when there are none) of each
    row as little-endian int64, int64, float64, float64.
    """
    runs = np.asarray(run_numbers, dtype="<i8")
    numbers = np.asarray(lumisections, dtype="<i8")
    y = np.asarray(labels, dtype="<f8")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype="<f8")
    order = np.lexsort((numbers, runs))
    rows = np.empty(len(runs), dtype=[("run", "<i8"), ("ls", "<i8"), ("label", "<f8"), ("weight", "<f8")])
    rows["run"], rows["ls"], rows["label"], rows["weight"] = runs[order], numbers[order], y[order], w[order]
    return hashlib.sha256(b"labels-v1\n" + rows.tobytes()).hexdigest()


@dataclass(frozen=True)
class LiveMeasures:
    """A source's live scores and what produced them, as a SourceEvaluation stores them."""

    runs: int
    lumisections: int
    roc_auc: float | None
    tpr_at_fpr: float | None
    fpr: float
    metric: str | None
    score: float | None
    labels_sha256: str
    scorer_version: str


def live_measures(
    run_numbers,
    lumisections,
    labels,
    scores,
    *,
    weights=None,
    metric: str | None = None,
    metric_params: Mapping[str, Any] | None = None,
    fpr: float = FPR,
) -> LiveMeasures:
    """ROC AUC, TPR at fpr and the competition's metric of a source on the lumisections of newly approved runs."""
    scorer = scorers.get(metric or "roc_auc", **(metric_params or {}))
    return LiveMeasures(
        runs=len(np.unique(np.asarray(run_numbers))),
        lumisections=len(np.asarray(labels)),
        roc_auc=roc_auc(labels, scores, weights),
        tpr_at_fpr=tpr_at_fpr(labels, scores, fpr, weights),
        fpr=fpr,
        metric=metric,
        score=None if metric is None else metric_score(metric, labels, scores, weights, **(metric_params or {})),
        labels_sha256=labels_sha256(run_numbers, lumisections, labels, weights),
        scorer_version=f"{scorer.name}:{scorer.version}"[:20],
    )


def agreement(sources: Sequence[SourceRun], bad_ranges: Iterable[Range], run_bad: bool) -> float | None:
    """The share of (source, lumisection) pairs of a run on which a certification and the sources agree.

    The certification calls a lumisection bad when a component of the whole run is bad or the lumisection
    lies in one of its bad ranges (whatever their components); a source, when its score is at or above its
    threshold. None when no source scored the run.
    """
    ranges = np.array(list(bad_ranges), dtype=np.int64).reshape(-1, 2)
    agreed = total = 0
    for source in sources:
        numbers = np.asarray(source.lumisections, dtype=np.int64)
        certified_bad = np.full(len(numbers), run_bad)
        if len(ranges) and not run_bad:
            certified_bad = np.any((numbers[:, None] >= ranges[:, 0]) & (numbers[:, None] <= ranges[:, 1]), axis=1)
        model_bad = np.asarray(source.scores, dtype=np.float64) >= source.threshold
        agreed += int(np.count_nonzero(certified_bad == model_bad))
        total += len(numbers)
    return agreed / total if total else None


@dataclass(frozen=True)
class CertifiedBadRange:
    """A bad range of a certification, with its origin and source."""

    first: int
    last: int
    origin: RangeOrigin = RangeOrigin.MANUAL
    source_id: int | None = None


@dataclass(frozen=True)
class CertifiedRun:
    """One certification as the shifter measures need it.

    suggested: the suggested ranges of each active source (by id) the certifier was shown when certifying
    (nothing on a blind run). agreement: `agreement` of the certification with the active sources; on a blind
    run, of the certification as first saved, before any suggestion was shown.
    """

    certifier_id: int
    run_number: int
    blind: bool
    suggested: Mapping[int, Sequence[Range]]
    ranges: Sequence[CertifiedBadRange]
    agreement: float | None = None


def outcomes(run: CertifiedRun) -> tuple[int, int, int]:
    """How many of the suggested ranges shown were accepted unchanged, edited, and ignored."""
    unchanged = edited = ignored = 0
    for source_id, suggested in run.suggested.items():
        kept = [r for r in run.ranges if r.source_id == source_id]
        for first, last in suggested:
            if any(r.origin is RangeOrigin.SUGGESTED and (r.first, r.last) == (first, last) for r in kept):
                unchanged += 1
            elif any(r.origin is RangeOrigin.SUGGESTED_EDITED and r.first <= last and first <= r.last for r in kept):
                edited += 1
            else:
                ignored += 1
    return unchanged, edited, ignored


@dataclass
class ShifterMeasures:
    """How one shifter used suggestions, and how often they agreed with the models, blind and not."""

    runs_with_suggestions: int = 0
    unchanged: int = 0
    edited: int = 0
    ignored: int = 0
    blind_agreements: list[float] = field(default_factory=list)
    other_agreements: list[float] = field(default_factory=list)

    @property
    def suggested(self) -> int:
        """Suggested ranges shown to the shifter on the runs they certified with suggestions."""
        return self.unchanged + self.edited + self.ignored

    @property
    def unchanged_share(self) -> float | None:
        """The share of suggested ranges accepted exactly as suggested."""
        return self.unchanged / self.suggested if self.suggested else None

    @property
    def blind_agreement(self) -> float | None:
        """Mean agreement with the models over the shifter's blind certifications (each run counting once)."""
        return float(np.mean(self.blind_agreements)) if self.blind_agreements else None

    @property
    def other_agreement(self) -> float | None:
        """Mean agreement with the models over the shifter's certifications made with suggestions in view."""
        return float(np.mean(self.other_agreements)) if self.other_agreements else None

    @property
    def rubber_stamping(self) -> bool:
        """At least 95% of suggestions accepted unchanged over 20 runs or more, and less agreement when blind.

        Both agreements must be known: without blind runs there is nothing to hold the acceptance against.
        """
        blind, other, share = self.blind_agreement, self.other_agreement, self.unchanged_share
        return (
            self.runs_with_suggestions >= RUBBER_STAMP_RUNS
            and share is not None
            and share >= RUBBER_STAMP_SHARE
            and blind is not None
            and other is not None
            and blind < other
        )


def shifter_measures(runs: Iterable[CertifiedRun]) -> dict[int, ShifterMeasures]:
    """Acceptance of suggestions and agreement with the models per certifier.

    Acceptance counts the suggested ranges of runs certified with suggestions in view (not blind runs, whose
    first certification saw none); a run counts when at least one range was suggested on it.
    """
    measures: dict[int, ShifterMeasures] = {}
    for run in runs:
        shifter = measures.setdefault(run.certifier_id, ShifterMeasures())
        if run.agreement is not None:
            (shifter.blind_agreements if run.blind else shifter.other_agreements).append(run.agreement)
        if run.blind:
            continue
        unchanged, edited, ignored = outcomes(run)
        if unchanged + edited + ignored:
            shifter.runs_with_suggestions += 1
            shifter.unchanged += unchanged
            shifter.edited += edited
            shifter.ignored += ignored
    return measures
