"""Who reviews a certification: a shift leader other than its certifier. An admin may review their own, as an
override that the audit log records."""

from __future__ import annotations

from app.models import Certification, Role, User

OVERRIDE = "an admin reviewed their own certification, overriding the rule that another person reviews it"


def own_review_refusal(certification: Certification, user: User) -> str | None:
    """Why the user may not review (or promote) this certification: it is their own; None when they may.

    Admins may override the rule; their review is audited as an override.
    """
    if certification.certifier_id != user.id or Role.ADMIN in user.roles:
        return None
    return "you certified this run yourself: another shift leader reviews it"


def override_note(certification: Certification, user: User) -> dict:
    """What the audit entry adds when an admin reviews their own certification."""
    return {"override": OVERRIDE} if certification.certifier_id == user.id else {}
