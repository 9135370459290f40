"""The scoring job: one submission in, scores or an actionable error out."""

from __future__ import annotations

import logging
from collections import OrderedDict

from flask import current_app

import scorers
from app.extensions import db
from app.models import PLATFORM_ERROR, CompetitionPhase, Submission, SubmissionStatus
from app.models.types import utcnow
from app.services import metrics
from app.services.competitions import leaderboards
from app.services.competitions.submissions import stored_error
from app.services.queue import process_name
from app.services.storage import get_storage
from workers.context import job_context

log = logging.getLogger(__name__)

# Loaded solutions by (sha256, split settings): a worker scoring many submissions reads each once.
_SOLUTIONS: OrderedDict[tuple, scorers.Solution] = OrderedDict()
_SOLUTION_CACHE_SIZE = 8


def worker_name() -> str:
    """Host and process of this worker, recorded on each score (and named by its heartbeat)."""
    return process_name()


def max_bytes() -> int:
    """The most a stored file may hold once decompressed: a gzip bomb is refused, not expanded."""
    return current_app.config["MAX_DECOMPRESSED_BYTES"]


def load_solution(phase: CompetitionPhase) -> scorers.Solution:
    """The phase's solution, from this worker's cache when its sha256 was seen before."""
    competition, file = phase.competition, phase.solution
    key = (
        file.sha256,
        competition.id_column,
        competition.target_column,
        competition.public_fraction,
        competition.split_seed,
    )
    if key in _SOLUTIONS:
        _SOLUTIONS.move_to_end(key)
        return _SOLUTIONS[key]
    with get_storage().open(file.storage_key) as handle:
        solution = scorers.Solution.load(
            handle,
            id_column=competition.id_column,
            target_column=competition.target_column,
            public_fraction=competition.public_fraction,
            split_seed=competition.split_seed,
            max_bytes=max_bytes(),
        )
    _SOLUTIONS[key] = solution
    while len(_SOLUTIONS) > _SOLUTION_CACHE_SIZE:
        _SOLUTIONS.popitem(last=False)
    return solution


def _claim(submission_id: int) -> Submission | None:
    """Mark the submission as being scored by this worker, unless it is already final."""
    submission = db.session.get(Submission, submission_id, with_for_update=True)
    if submission is None or submission.status.final:
        db.session.rollback()
        return None
    submission.status = SubmissionStatus.SCORING
    submission.started_at = utcnow()
    submission.attempts += 1
    submission.worker = worker_name()
    db.session.commit()
    return submission


def score_submission(submission_id: int) -> str | None:
    """Score one submission against the hidden solution of its phase, with its metric; returns the final status."""
    with job_context():
        submission = _claim(submission_id)
        if submission is None:
            return None
        competition, phase = submission.competition, submission.phase
        try:
            scorer = scorers.get(phase.effective_metric, **phase.effective_metric_params)
            solution = load_solution(phase)
            with get_storage().open(submission.file_key) as handle:
                table = scorers.read_submission(handle, solution, max_bytes=max_bytes())
            result = scorer.score(solution, table)
        except scorers.ValidationError as error:
            _finish_failed(submission, str(error))
        except Exception:
            log.exception("scoring submission %s failed on the platform's side", submission_id)
            _finish_failed(submission, PLATFORM_ERROR)
        else:
            submission.status = SubmissionStatus.SCORED
            submission.public_score = result.public
            submission.private_score = result.private
            submission.n_public = result.n_public
            submission.n_private = result.n_private
            submission.details = result.details
            submission.error = None
            submission.solution_sha256 = phase.solution.sha256
            submission.scorer_name = scorer.name
            submission.scorer_version = scorer.version
            submission.finished_at = utcnow()
            db.session.commit()
        leaderboards.invalidate(competition)
        metrics.record_scoring(submission)
        return submission.status.value


def _finish_failed(submission: Submission, message: str) -> None:
    """Fail the submission with a message its author can act on, and refund the quota."""
    db.session.rollback()
    submission.status = SubmissionStatus.FAILED
    submission.error = stored_error(message)
    submission.counted = False
    submission.finished_at = utcnow()
    db.session.commit()
