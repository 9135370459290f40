"""Who may see what: the rules that keep solutions and private scores hidden until the close."""

from __future__ import annotations

from app.extensions import db
from app.models import Competition, CompetitionPhase, Role, Submission, TeamMember, User
from app.services.competitions import phases


def is_organiser(user: User | None) -> bool:
    """Organisers (and admins) see every submission and the private board at any time."""
    return user is not None and user.is_authenticated and user.has_role(Role.ORGANISER)


def can_see_private(competition: Competition, user: User | None, phase: CompetitionPhase | None = None) -> bool:
    """Whether private scores and the private board (of the phase, once it closed) may be shown to this user now."""
    revealed = phases.revealed(phase) if phase is not None else competition.private_revealed()
    return revealed or is_organiser(user)


def _in_team_of(submission: Submission, user: User) -> bool:
    """Whether the user is now a member of the team the submission counts for."""
    if submission.team_id is None:
        return False
    return (
        db.session.execute(
            db.select(TeamMember.id).where(TeamMember.team_id == submission.team_id, TeamMember.user_id == user.id)
        ).first()
        is not None
    )


def can_see_submission(submission: Submission, user: User | None) -> bool:
    """Only the author, the members of the team it counts for and organisers see a submission, its file and error."""
    if user is None or not user.is_authenticated:
        return False
    return submission.user_id == user.id or is_organiser(user) or _in_team_of(submission, user)


def can_select(submission: Submission, user: User | None) -> bool:
    """Who picks a submission as a final: its author when alone, any member of the team it counts for."""
    if user is None or not user.is_authenticated or submission.participation_id is None:
        return False
    if submission.team_id is None:
        return submission.user_id == user.id
    return _in_team_of(submission, user)


def submission_as_json(submission: Submission, user: User | None) -> dict:
    """A submission as its viewer may see it: the private score only when allowed."""
    private_ok = can_see_private(submission.competition, user, submission.phase)
    return {
        "id": submission.id,
        "competition": submission.competition.slug,
        "phase": submission.phase.name,
        "participant": submission.user.username,
        "team": submission.team.name if submission.team else None,
        "status": submission.status.value,
        "description": submission.description,
        "file_name": submission.file_name,
        "file_size": submission.file_size,
        "file_sha256": submission.file_sha256,
        "public_score": submission.public_score,
        "private_score": submission.private_score if private_ok else None,
        "n_public": submission.n_public,
        "n_private": submission.n_private if private_ok else None,
        "error": submission.error,
        "counted": submission.counted,
        "baseline": submission.is_baseline,
        "selected": submission.selected,
        "submitted_at": submission.submitted_at.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
        "scorer": {"name": submission.scorer_name, "version": submission.scorer_version},
        "solution_sha256": submission.solution_sha256 if private_ok else None,
    }
