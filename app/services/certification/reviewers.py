"""Who reviews a certification: a shift leader whose judgement it does not already carry. An admin may
review one of their own, as an override that the audit log records."""

from __future__ import annotations

from app.extensions import db
from app.models import AuditEntry, Certification, Role, User

OVERRIDE = "an admin reviewed a certification of their own, overriding the rule that another person reviews it"


def authors(certification: Certification) -> set[int]:
    """Everyone whose judgement the certification carries: its certifier, whoever changed it since, and the
    certifiers of the run's other copies in a double-certification task (they formed their own view of it)."""
    copies = db.select(Certification.certifier_id).where(
        Certification.task_id == certification.task_id, Certification.run_number == certification.run_number
    )
    editors = db.select(AuditEntry.user_id).where(
        AuditEntry.entity == "certification", AuditEntry.action == "edit", AuditEntry.entity_id == certification.id
    )
    found = set(db.session.execute(copies.union(editors)).scalars())
    return (found | {certification.certifier_id}) - {None}


def own_review_refusal(certification: Certification, user: User) -> str | None:
    """Why the user may not review (or promote) this certification: it carries their own judgement; None
    when they may. Admins may override the rule; their review is audited as an override."""
    if Role.ADMIN in user.roles or user.id not in authors(certification):
        return None
    return "you certified or changed this run yourself: another shift leader reviews it"


def override_note(certification: Certification, user: User) -> dict:
    """What the audit entry adds when an admin reviews a certification of their own."""
    return {"override": OVERRIDE} if user.id in authors(certification) else {}
