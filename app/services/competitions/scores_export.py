"""Every submission's scores and provenance as the organisers' CSV: the scores page and the bulk export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from app.models import Submission

SCORE_COLUMNS = [
    "submission_id",
    "participant",
    "status",
    "baseline",
    "selected",
    "public_score",
    "private_score",
    "n_public",
    "n_private",
    "submitted_at",
    "finished_at",
    "file_sha256",
    "solution_sha256",
    "scorer",
    "scorer_version",
    "error",
    "phase",  # the phase it was made in, scored and ranked in
    "team",  # the team the submission counts for; empty for a participant alone
]


def scores_csv(submissions: Iterable[Submission]) -> str:
    """Every submission's scores and provenance, one row each, as the organisers' CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SCORE_COLUMNS)
    for s in submissions:
        writer.writerow(
            [
                s.id,
                s.user.username,
                s.status.value,
                s.is_baseline,
                s.selected,
                s.public_score,
                s.private_score,
                s.n_public,
                s.n_private,
                s.submitted_at.isoformat(),
                s.finished_at.isoformat() if s.finished_at else "",
                s.file_sha256,
                s.solution_sha256 or "",
                s.scorer_name or "",
                s.scorer_version or "",
                s.error or "",
                s.phase.name,
                s.team.name if s.team else "",
            ]
        )
    return buffer.getvalue()
