"""Accepting a submission: the file stored, the row written and the quota charged at once.

The order matters for the invariants: the file is stored first (under a key no
row points to yet), then one transaction locks the participant's row, counts
what they used, and inserts the submission; only after that commit is the
scoring job enqueued. A refusal deletes the stored file, so nothing is left.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import IO

from flask import current_app
from sqlalchemy import func, or_, update

from app.extensions import db
from app.models import Competition, CompetitionPhase, FinalSelection, Participation, Submission, SubmissionStatus, User
from app.models.types import utcnow
from app.services.competitions import eligibility, entrants, phases
from app.services.competitions.quotas import Quota, compute_quota, utc_day_start
from app.services.competitions.visibility import is_organiser
from app.services.errors import Refused
from app.services.queue import enqueue
from app.services.storage import StagedFiles, StorageError, StoredFile, staged_files

SCORING_JOB = "workers.scoring.score_submission"
MAX_ERROR_LENGTH = 10_000  # characters of a failure message kept on a submission or an export


def stored_error(message: str) -> str:
    """A failure message as it is stored and shown: at most MAX_ERROR_LENGTH characters."""
    if len(message) <= MAX_ERROR_LENGTH:
        return message
    cut = " (message cut here)"
    return message[: MAX_ERROR_LENGTH - len(cut) - 1] + "…" + cut


def participation_of(competition: Competition, user: User) -> Participation | None:
    """The user's participation in the competition, if they joined."""
    return db.session.execute(
        db.select(Participation).where(Participation.competition_id == competition.id, Participation.user_id == user.id)
    ).scalar_one_or_none()


def check_eligible(competition: Competition, user: User) -> None:
    """Refuse (403, saying why) anyone who may not compete: see eligibility.why_not."""
    reason = eligibility.why_not(competition, user)
    if reason is not None:
        raise Refused(reason, 403)


def join(competition: Competition, user: User) -> Participation:
    """Join the competition and accept its rules (idempotent), or Refused; the caller commits."""
    check_eligible(competition, user)
    participation = participation_of(competition, user)
    if participation is None:
        participation = Participation(competition=competition, user=user)
        db.session.add(participation)
        db.session.flush()
    return participation


def submissions_of(competition: Competition, user: User, ids: list[int] | None = None) -> list[Submission]:
    """The user's submissions to the competition and, in a team, its members' too, newest first (only ids given)."""
    team_id = entrants.team_id_of(competition.id, user.id)
    mine = (
        Submission.user_id == user.id
        if team_id is None
        else or_(Submission.user_id == user.id, Submission.team_id == team_id)
    )
    query = db.select(Submission).where(Submission.competition_id == competition.id, mine)
    if ids is not None:
        query = query.where(Submission.id.in_(ids))
    return list(db.session.execute(query.order_by(Submission.id.desc())).scalars())


def quota_for(
    competition: Competition,
    participation: Participation | None,
    now: datetime | None = None,
    phase: CompetitionPhase | None = None,
) -> Quota:
    """What the participant (with their team, when in one) may still submit in the phase (the shown one by
    default); quotas count per team per phase, and a non-participant has a fresh quota."""
    now = now or utcnow()
    entrant = None if participation is None else entrants.entrant_of(participation)
    return _quota(phase or phases.shown_phase(competition, now), entrant, now)


def _quota(phase: CompetitionPhase, entrant: entrants.Entrant | None, now: datetime) -> Quota:
    used_today = used_total = 0
    if entrant is not None:
        used_total = entrant.counted(phase_id=phase.id)
        used_today = entrant.counted(since=utc_day_start(now), phase_id=phase.id)
    return compute_quota(
        now,
        used_today=used_today,
        used_total=used_total,
        daily_limit=phase.effective_daily_limit,
        total_limit=phase.effective_total_limit,
        closes_at=phases.window_of(phase).closes_at,
    )


def _safe_file_name(name: str | None) -> str:
    base = (name or "submission.csv").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in base).strip("._") or "submission.csv"
    return cleaned[:200]


def new_file_key(competition: Competition, file_name: str | None) -> tuple[str, str, str]:
    """A fresh storage key for a submission file: (key, its random part, the cleaned file name)."""
    name = _safe_file_name(file_name)
    unique = uuid.uuid4().hex
    return f"submissions/{competition.slug}/{unique}/{name}", unique, name


def submit(
    competition: Competition,
    user: User,
    stream: IO[bytes],
    *,
    file_name: str | None,
    description: str = "",
    baseline: bool = False,
    phase: str | None = None,
) -> Submission:
    """Store the file, write the queued row and charge the quota in one transaction, then enqueue scoring.

    It goes to the phase open now, which must be the phase named if one is. A baseline is an organiser's
    reference submission: no participation, no quota, listed but never ranked, accepted before the opening and
    after the close too (organisers prepare and complete the board), in the phase named or the one shown.
    """
    now = utcnow()
    if baseline:
        in_phase = phases.phase_named(competition, phase, now)
        participation = None
    else:
        in_phase = phases.phase_to_submit(competition, phase, now)
        participation = _participation_to_charge(competition, user)
    if baseline and not is_organiser(user):
        raise Refused("Only organisers submit baselines.", 403)
    key, _, name = new_file_key(competition, file_name)
    with staged_files(db.session) as files:
        stored = _store(files, key, stream)
        submission = _insert_charged(in_phase, participation, user, stored, name, description, baseline, now)
    _enqueue(submission)
    return submission


def _store(files: StagedFiles, key: str, stream: IO[bytes]) -> StoredFile:
    """The uploaded file, stored; Refused when it is empty, too large or the store fails."""
    try:
        stored = files.put(key, stream, max_size=current_app.config["MAX_CONTENT_LENGTH"])
    except StorageError as error:
        status = 413 if "larger" in str(error) else 503
        raise Refused(f"The file could not be stored: {error}.", status) from None
    if stored.size == 0:
        raise Refused("The file is empty.")
    return stored


def _participation_to_charge(competition: Competition, user: User) -> Participation:
    """The participation a submission is charged to, once the user may compete."""
    check_eligible(competition, user)  # also for someone who joined before they could read the labels
    participation = participation_of(competition, user)
    if participation is None:
        raise Refused("Join the competition and accept its rules before submitting.", 403)
    return participation


def check_can_submit(
    competition: Competition, user: User, now: datetime | None = None, phase: str | None = None
) -> tuple[Participation, CompetitionPhase]:
    """The user's participation and the phase open now if they may submit to it now; Refused otherwise.

    Nothing is charged."""
    now = now or utcnow()
    in_phase = phases.phase_to_submit(competition, phase, now)
    participation = _participation_to_charge(competition, user)
    entrant = entrants.entrant_of(participation)
    quota = _quota(in_phase, entrant, now)
    if quota.exhausted:
        raise Refused(_quota_message(in_phase, quota, entrant), 429, retry_after=quota.retry_after(now))
    return participation, in_phase


def submit_stored(
    competition: Competition,
    user: User,
    stored: StoredFile,
    *,
    file_name: str,
    description: str = "",
    phase: str | None = None,
) -> Submission:
    """Queue a file already in storage (a checked direct upload) exactly as submit() queues an uploaded one.

    Changes pending in the session (the upload row's removal) are committed with the
    submission; a refusal rolls them back and deletes the stored file.
    """
    now = utcnow()
    with staged_files(db.session, stored.key):
        participation, in_phase = check_can_submit(competition, user, now, phase)
        submission = _insert_charged(in_phase, participation, user, stored, file_name, description, False, now)
    _enqueue(submission)
    return submission


def _insert_charged(phase, participation, user, stored, name, description, baseline, now) -> Submission:
    competition = phase.competition
    entrant = None
    if participation is not None:
        # The entrant's row lock (the team's, or the participant's alone) is taken before counting, so
        # concurrent uploads by one participant, or by the members of one team, are counted one after another.
        entrant = entrants.lock(participation)
        db.session.execute(
            update(Participation).where(Participation.id == participation.id).values(last_submission_at=now)
        )
        quota = _quota(phase, entrant, now)
        if quota.exhausted:
            raise Refused(_quota_message(phase, quota, entrant), 429, retry_after=quota.retry_after(now))
    submission = Submission(
        competition_id=competition.id,
        phase_id=phase.id,
        participation_id=participation and participation.id,
        team_id=entrant and entrant.team_id,
        user_id=user.id,
        status=SubmissionStatus.QUEUED,
        description=description.strip()[:2000],
        file_name=name,
        file_key=stored.key,
        file_size=stored.size,
        file_sha256=stored.sha256,
        counted=not baseline,
        is_baseline=baseline,
        submitted_at=now,
    )
    db.session.add(submission)
    db.session.commit()
    return submission


def _quota_message(phase: CompetitionPhase, quota: Quota, entrant: entrants.Entrant) -> str:
    # A competition of one phase speaks of the competition, as it always did; one of several names the phase.
    who, whose = ("Your team has", "its") if entrant.team_id is not None else ("You have", "your")
    span = f"the phase {phase.name!r}" if len(phase.competition.phases) > 1 else "the competition"
    if quota.remaining_total == 0:
        of = span if span != "the competition" else "this competition"
        return f"{who} used all {phase.effective_total_limit} submissions of {of}."
    when = f"{quota.next_slot_at:%Y-%m-%d %H:%M} UTC" if quota.next_slot_at else f"never, {span} closes first"
    within = f" in {span}" if span != "the competition" else ""
    return (
        f"{who} used {whose} {phase.effective_daily_limit} submissions of today (UTC){within}; "
        f"the next slot opens at {when}. Failed submissions are not counted."
    )


def scoring_job_id(submission: Submission) -> str:
    """The queue's id of the submission's current scoring job."""
    return f"score-{submission.id}-{submission.requeues}"


def _enqueue(submission: Submission) -> None:
    """Hand the submission to the scoring workers; a queue outage is left to the reaper."""
    try:
        enqueue(SCORING_JOB, submission.id, job_id=scoring_job_id(submission))
    except Exception:
        current_app.logger.exception("could not enqueue submission %s; the reaper will retry", submission.id)
        return
    submission.enqueued_at = utcnow()
    db.session.commit()


def requeue(submission: Submission) -> None:
    """Put a submission back in the queue for scoring again (rescoring, or the reaper's retry)."""
    submission.status = SubmissionStatus.QUEUED
    submission.requeues += 1
    submission.enqueued_at = None
    db.session.commit()
    _enqueue(submission)


def _check_selections_open(submission: Submission) -> None:
    """Final selections change until the submission's phase closes."""
    phase = submission.phase
    if phases.revealed(phase):
        what = f"The phase {phase.name!r}" if len(phase.competition.phases) > 1 else "The competition"
        raise Refused(f"{what} is closed: final selections can no longer change.", 409)


def select_final(submission: Submission) -> None:
    """Pick a scored submission for its phase's private board, within the phase's final_selections per entrant."""
    _check_selections_open(submission)
    limit = submission.phase.effective_final_selections
    if submission.status is not SubmissionStatus.SCORED or submission.is_baseline:
        raise Refused("Only scored submissions can be selected for the private leaderboard.", 409)
    if submission.selected:
        return
    # Lock the entrant's row so that two concurrent selections (by two members of a team) cannot both take the
    # last slot.
    entrant = _lock_owner(submission)
    chosen = db.session.execute(
        db.select(func.count(FinalSelection.id))
        .join(Submission, Submission.id == FinalSelection.submission_id)
        .where(entrant.owns(), Submission.phase_id == submission.phase_id)
    ).scalar_one()
    if chosen >= limit:
        db.session.rollback()
        who = "Your team already selected" if entrant.team_id is not None else "You already selected"
        raise Refused(f"{who} {limit} submissions; unselect one first.", 409)
    db.session.add(FinalSelection(submission_id=submission.id, participation_id=submission.participation_id))
    db.session.commit()


def _lock_owner(submission: Submission) -> entrants.Entrant:
    """The entrant the submission counts for, locked; read again when a merge moved it meanwhile."""
    if submission.participation_id is None:
        raise Refused("A baseline is never a final.", 409)
    entrants.lock_participation(submission.participation_id)
    for _ in range(entrants.LOCK_ATTEMPTS):
        team_id = db.session.execute(db.select(Submission.team_id).where(Submission.id == submission.id)).scalar_one()
        if team_id is None or entrants.lock_team(team_id):
            return entrants.Entrant(submission.participation_id, team_id)
    raise Refused("The submission's team changed meanwhile; try again.", 409)


def unselect_final(submission: Submission) -> None:
    """Take a submission off the private board's candidates."""
    _check_selections_open(submission)
    if submission.selection is not None:
        db.session.delete(submission.selection)
        db.session.commit()
