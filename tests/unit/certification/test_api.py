"""Certifying through the API: the server-side rules, the 409, reviews, the audit log, roles, golden JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.models import AuditEntry, LabellingTask, ReferenceRun, Role, Run
from app.models.runs import RunClass
from app.services.runs.importer import import_file
from tests.helpers import bearer, make_token, make_user

CMS = Path(__file__).resolve().parents[2] / "fixtures" / "cms"
RUN = 315259  # lumisections 1-172 in dcsonly_2018.json
pytestmark = pytest.mark.databases("sqlite", "postgresql")


@pytest.fixture
def desk(app, runner, tmp_path):
    """Runs of 2018 imported, a task over a few of them, and tokens for every role."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88], [91, 92]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        tokens = {
            name: make_token(make_user(name, role))
            for name, role in [
                ("sam", Role.SHIFTER),
                ("sue", Role.SHIFTER),
                ("lea", Role.SHIFT_LEADER),
                ("rita", Role.RESEARCHER),
            ]
        }
    result = runner.invoke(args=["tasks", "create", "express-2018", "--reco", "express", "--runs", "315257-315264"])
    assert result.exit_code == 0, result.output
    return {"task": int(result.stdout.strip().splitlines()[-1]), "tokens": tokens}


def body(**changes) -> dict:
    base = {
        "run_number": RUN,
        "reco": "express",
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "pixel_lowstat": False,
        "strip_lowstat": False,
        "tracking_lowstat": False,
        "bad_lumisections": [],
        "trackermap": "exists",
        "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
        "comment": "",
    }
    return base | changes


def certify(client, desk, who="sam", **changes):
    return client.post(
        f"/api/v1/tasks/{desk['task']}/certifications", headers=bearer(desk["tokens"][who]), json=body(**changes)
    )


def review(client, desk, certification_id, who="lea", **payload):
    return client.post(
        f"/api/v1/certifications/{certification_id}/review", headers=bearer(desk["tokens"][who]), json=payload
    )


def golden(client, desk):
    return client.get(f"/api/v1/tasks/{desk['task']}/golden.json", headers=bearer(desk["tokens"]["lea"]))


def test_certify_review_and_golden_json(client, desk):
    created = certify(
        client,
        desk,
        bad_lumisections=[{"first": 5, "last": 9, "components": ["tracking"]}],
        comment="tracking hole in 5-9",
    )
    assert created.status_code == 201
    assert golden(client, desk).get_data(as_text=True) == "{}"  # nothing approved yet
    assert review(client, desk, created.get_json()["id"], decision="approve").status_code == 200
    response = golden(client, desk)
    assert response.get_data(as_text=True) == '{\n  "315259": [[1, 4], [10, 172]]\n}'


def test_second_certification_of_the_run_is_a_409_pointing_at_the_first(client, desk):
    first = certify(client, desk).get_json()["id"]
    again = certify(client, desk, who="sue")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assert again.headers["Location"] == f"/api/v1/certifications/{first}"
    assert again.headers["Location"] in again.get_json()["error"]["message"]
    existing = client.get(again.headers["Location"], headers=bearer(desk["tokens"]["sue"])).get_json()
    assert existing["id"] == first and existing["certifier"] == "sam" and existing["run_number"] == RUN


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"checklist": {"general": True, "pixel": True, "strip": True}}, "tracking not ticked"),
        ({"strip": "bad", "tracking": "good", "comment": "x"}, "tracking cannot be good when strip is bad"),
        ({"pixel": "bad"}, "needs a comment"),
        ({"bad_lumisections": [{"first": 3, "last": 4}]}, "needs a comment"),
        ({"bad_lumisections": [{"first": 3, "last": 8}, {"first": 8, "last": 9}], "comment": "x"}, "overlap"),
        ({"bad_lumisections": [{"first": 170, "last": 180}], "comment": "x"}, "within lumisections 1 to 172"),
        ({"pixel": "excellent"}, "pixel must be one of good, bad, excluded"),
        ({"reco": "prompt"}, "the task certifies express, not prompt"),
        ({"reference_run": 315257}, "not a reference run for express"),
        ({"run_number": 999999}, "not in the task"),
    ],
)
def test_rules_refuse_with_a_clear_message_and_write_nothing(app, client, desk, changes, message):
    refused = certify(client, desk, **changes)
    assert refused.status_code == 400 and message in refused.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry)).first() is None
    assert certify(client, desk).status_code == 201  # the run is still free


def test_reference_run_must_share_run_class_and_reco(app, client, desk):
    with app.app_context():
        db.session.get(Run, 315257).run_class = RunClass.COSMICS
        db.session.get(Run, 315264).run_class = RunClass.COLLISIONS
        db.session.get(Run, RUN).run_class = RunClass.COLLISIONS
        db.session.add_all(
            [
                ReferenceRun(run_number=315257, reco="express", run_class=RunClass.COSMICS),
                ReferenceRun(run_number=315264, reco="express", run_class=RunClass.COLLISIONS),
            ]
        )
        db.session.commit()
    assert "another run class" in certify(client, desk, reference_run=315257).get_json()["error"]["message"]
    assert certify(client, desk, reference_run=315264).status_code == 201


def test_roles_a_researcher_cannot_certify_and_a_shifter_cannot_approve(client, desk):
    assert certify(client, desk, who="rita").status_code == 403
    created = certify(client, desk).get_json()["id"]
    assert review(client, desk, created, who="sam", decision="approve").status_code == 403
    assert client.get(f"/api/v1/tasks/{desk['task']}/golden.json").status_code == 401


def test_every_change_is_audited_with_before_and_after(app, client, desk):
    created = certify(client, desk).get_json()["id"]
    review(client, desk, created, decision="reject", comment="tracker map missing")
    with app.app_context():
        entries = db.session.execute(db.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(e.action, e.entity_id) for e in entries] == [("certify", created), ("reject", created)]
        assert entries[0].before is None and entries[0].after["certifier"] == "sam"
        assert entries[1].before["review_state"] == "pending" and entries[1].after["review_state"] == "rejected"
        assert entries[1].user_id is not None and entries[1].at is not None


def test_rejection_needs_a_comment_and_decisions_are_checked(client, desk):
    created = certify(client, desk).get_json()["id"]
    assert "needs a comment" in review(client, desk, created, decision="reject").get_json()["error"]["message"]
    assert review(client, desk, created, decision="maybe").status_code == 400


def test_bad_component_keeps_the_run_out_of_the_golden_json(client, desk):
    created = certify(client, desk, pixel="bad", comment="pixel off").get_json()["id"]
    review(client, desk, created, decision="approve")
    assert golden(client, desk).get_data(as_text=True) == "{}"


def test_task_list_shows_progress_and_run_details(client, desk):
    certify(client, desk)
    tasks = client.get("/api/v1/tasks", headers=bearer(desk["tokens"]["sam"])).get_json()["tasks"]
    assert tasks[0]["progress"] == {"runs": 3, "certified": 1, "pending": 1, "approved": 0, "rejected": 0}
    run = client.get(f"/api/v1/runs/{RUN}", headers=bearer(desk["tokens"]["sam"])).get_json()
    assert run["ls_count"] == 172 and len(run["lumisections"]) == 172 and run["lumisections"][0]["dcs_ok"] is True


def test_tasks_create_refuses_an_empty_range(runner, desk):
    result = runner.invoke(args=["tasks", "create", "nothing", "--reco", "prompt", "--runs", "1-2"])
    assert result.exit_code != 0 and "no imported run" in result.output


def test_shift_leader_promotes_a_good_run_that_certifications_can_then_reference(app, client, desk):
    with app.app_context():
        for run in (315257, RUN):
            db.session.get(Run, run).run_class = RunClass.COLLISIONS
        db.session.commit()
    reference = client.post(
        f"/api/v1/tasks/{desk['task']}/certifications",
        headers=bearer(desk["tokens"]["sam"]),
        json=body(run_number=315257),
    ).get_json()["id"]

    def promote(who):
        return client.post(f"/api/v1/certifications/{reference}/reference", headers=bearer(desk["tokens"][who]))

    assert promote("sam").status_code == 403
    pending = promote("lea")
    assert pending.status_code == 400 and "approves the certification" in pending.get_json()["error"]["message"]
    review(client, desk, reference, decision="approve")
    promoted = promote("lea")
    assert promoted.status_code == 201 and promoted.get_json() == {"run_number": 315257, "reco": "express"}
    assert certify(client, desk, reference_run=315257).status_code == 201
    with app.app_context():
        assert db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "promote_reference")).scalar_one()


def test_a_run_with_a_bad_component_cannot_become_a_reference(client, desk):
    bad = certify(client, desk, strip="bad", tracking="bad", comment="strip off").get_json()["id"]
    refused = client.post(f"/api/v1/certifications/{bad}/reference", headers=bearer(desk["tokens"]["lea"]))
    assert (
        refused.status_code == 400
        and "certified good for pixel, strip and tracking" in refused.get_json()["error"]["message"]
    )


def test_certifier_or_shift_leader_edits_under_the_same_rules_and_it_is_audited(app, client, desk):
    created = certify(client, desk).get_json()["id"]
    review(client, desk, created, decision="reject", comment="range 5-9 is bad for tracking")

    def edit(who, **changes):
        return client.put(
            f"/api/v1/certifications/{created}", headers=bearer(desk["tokens"][who]), json=body(**changes)
        )

    assert edit("sue").status_code == 403  # another shifter
    assert "needs a comment" in edit("sam", tracking="bad").get_json()["error"]["message"]
    fixed = edit("sam", bad_lumisections=[{"first": 5, "last": 9, "components": ["tracking"]}], comment="hole")
    assert fixed.status_code == 200 and fixed.get_json()["review_state"] == "pending"
    assert edit("lea", comment="hole in tracking", bad_lumisections=[{"first": 5, "last": 9}]).status_code == 200
    with app.app_context():
        edits = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "edit")).scalars().all()
        assert len(edits) == 2
        assert edits[0].before["review_state"] == "rejected" and edits[0].after["bad_lumisections"][0]["first"] == 5


def test_a_shift_leader_neither_approves_nor_promotes_their_own_certification(app, client, desk):
    with app.app_context():
        desk["tokens"]["leo"] = make_token(make_user("leo", Role.SHIFT_LEADER, Role.SHIFTER))
    own = certify(client, desk, who="leo").get_json()["id"]
    for decision, comment in (("approve", ""), ("reject", "look again")):
        refused = review(client, desk, own, who="leo", decision=decision, comment=comment)
        assert refused.status_code == 403
        assert "you certified or changed this run yourself" in refused.get_json()["error"]["message"]
    assert review(client, desk, own, who="lea", decision="approve").status_code == 200
    promote = client.post(f"/api/v1/certifications/{own}/reference", headers=bearer(desk["tokens"]["leo"]))
    assert promote.status_code == 403 and "yourself" in promote.get_json()["error"]["message"]
    with app.app_context():
        actions = db.session.execute(db.select(AuditEntry.action, AuditEntry.user_id)).all()
        assert [action for action, _ in actions] == ["certify", "approve"]


def test_an_admin_may_approve_their_own_certification_and_the_audit_says_it_was_an_override(app, client, desk):
    with app.app_context():
        desk["tokens"]["ada"] = make_token(make_user("ada", Role.ADMIN))
    own = certify(client, desk, who="ada").get_json()["id"]
    assert review(client, desk, own, who="ada", decision="approve").status_code == 200
    with app.app_context():
        entry = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "approve")).scalar_one()
        assert entry.after["review_state"] == "approved" and "overriding" in entry.after["override"]
        assert "override" not in entry.before


def test_a_shift_leader_who_changed_a_certification_does_not_review_it(app, client, desk):
    with app.app_context():
        desk["tokens"]["leo"] = make_token(make_user("leo", Role.SHIFT_LEADER, Role.SHIFTER))
    created = certify(client, desk).get_json()["id"]
    changed = client.put(
        f"/api/v1/certifications/{created}",
        headers=bearer(desk["tokens"]["lea"]),
        json=body(comment="hole in tracking", bad_lumisections=[{"first": 5, "last": 9}]),
    )
    assert changed.status_code == 200
    refused = review(client, desk, created, who="lea", decision="approve")
    assert refused.status_code == 403 and "changed this run yourself" in refused.get_json()["error"]["message"]
    assert review(client, desk, created, who="leo", decision="approve").status_code == 200


def test_in_a_double_task_the_certifier_of_one_copy_does_not_review_the_other(app, client, desk):
    with app.app_context():
        desk["tokens"]["leo"] = make_token(make_user("leo", Role.SHIFT_LEADER, Role.SHIFTER))
        desk["tokens"]["nora"] = make_token(make_user("nora", Role.SHIFT_LEADER))
        task = db.session.get(LabellingTask, desk["task"])
        task.double_certification = True
        db.session.commit()
    first = certify(client, desk, who="leo").get_json()["id"]
    second = certify(client, desk, who="sam").get_json()["id"]
    refused = review(client, desk, second, who="leo", decision="approve")
    assert refused.status_code == 403 and "yourself" in refused.get_json()["error"]["message"]
    assert review(client, desk, second, who="nora", decision="approve").status_code == 200
    assert review(client, desk, first, who="nora", decision="approve").status_code == 200
