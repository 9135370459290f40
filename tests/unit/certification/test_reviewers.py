"""Who reviews a certification: a shift leader whose judgement it does not already carry; an admin may
override the rule on their own, and the audit log says so."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditEntry, Certification, ReviewState, Role
from app.services.certification import reviewers, tasks, workflow
from app.services.runs.importer import import_file
from tests.helpers import make_user

RUN = 315259
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}
BODY = {"run_number": RUN, "pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
OWN = "another shift leader reviews it"


@pytest.fixture
def runs(app, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]]}')
    with app.app_context():
        import_file(mask, "dcs")


def test_a_shift_leader_who_certified_the_run_does_not_review_it_another_does(app, runs):
    with app.app_context():
        task = tasks.create_task("express-2018", "express")
        ann = make_user("ann", Role.SHIFTER, Role.SHIFT_LEADER)
        lea = make_user("lea", Role.SHIFT_LEADER)
        certification = workflow.certify(task, ann, BODY)
        assert OWN in reviewers.own_review_refusal(certification, ann)
        assert reviewers.own_review_refusal(certification, lea) is None
        with pytest.raises(Exception, match=OWN) as refused:
            workflow.review(certification, ann, "approve")
        assert refused.value.status == 403
        db.session.refresh(certification)
        assert certification.review_state is ReviewState.PENDING
        workflow.review(certification, lea, "approve")
        assert certification.review_state is ReviewState.APPROVED


def test_a_shift_leader_who_changed_the_certification_is_one_of_its_authors(app, runs):
    with app.app_context():
        task = tasks.create_task("express-2018", "express")
        sam, lea = make_user("sam", Role.SHIFTER), make_user("lea", Role.SHIFT_LEADER)
        leo = make_user("leo", Role.SHIFT_LEADER)
        certification = workflow.certify(task, sam, BODY)
        workflow.edit(certification, lea, BODY | {"pixel": "bad", "comment": "pixel off"})
        assert reviewers.authors(certification) == {sam.id, lea.id}
        assert OWN in reviewers.own_review_refusal(certification, lea)
        assert reviewers.own_review_refusal(certification, leo) is None


def test_in_double_certification_the_other_certifier_formed_their_own_view(app, runs):
    with app.app_context():
        task = tasks.create_task("double-2018", "express", double=True)
        sam = make_user("sam", Role.SHIFTER)
        ann = make_user("ann", Role.SHIFTER, Role.SHIFT_LEADER)
        first = workflow.certify(task, sam, BODY)
        workflow.certify(task, ann, BODY | {"pixel": "bad", "comment": "pixel off"})
        assert reviewers.authors(first) == {sam.id, ann.id}
        assert OWN in reviewers.own_review_refusal(first, ann)


def test_an_admin_may_review_their_own_and_only_then_the_audit_notes_an_override(app, runs):
    with app.app_context():
        task = tasks.create_task("express-2018", "express")
        ada, lea = make_user("ada", Role.ADMIN), make_user("lea", Role.SHIFT_LEADER)
        own = workflow.certify(task, ada, BODY)
        other = workflow.certify(task, make_user("sam", Role.SHIFTER), BODY | {"run_number": 315257})
        assert reviewers.own_review_refusal(own, ada) is None
        assert reviewers.override_note(own, ada) == {"override": reviewers.OVERRIDE}
        assert reviewers.override_note(other, ada) == {} and reviewers.override_note(own, lea) == {}
        workflow.review(own, ada, "approve")
        entry = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.entity == "certification", AuditEntry.action == "approve")
        ).scalar_one()
        assert entry.after["override"] == reviewers.OVERRIDE
        assert db.session.get(Certification, own.id).review_state is ReviewState.APPROVED
