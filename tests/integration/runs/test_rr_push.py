"""``flask tasks push-rr`` against a local Run Registry over HTTP: a dry run prints and sends nothing, writing
needs RR_WRITE=1, a push sends the expected edits once and audits them, an RR failure names the run."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import AuditEntry, BadRange, Certification, Reco, ReviewState, Role, RrRange, Status
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from tests.fakes.run_registry import TOKEN
from tests.helpers import make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def edit(run, component, first, last, status, comment="", cause=""):
    return {
        "new_lumisection_range": {"start": first, "end": last, "status": status, "comment": comment, "cause": cause},
        "run_number": run,
        "dataset_name": "online",
        "component": component,
    }


# What RR must be told: 378856 is BAD for tracking on 150-163 (pixel 121-140 agrees with RR already); 378960 is
# good, over RR's strip NOTSET 1-30 and tracking EMPTY 1-58 (its pixel EXCLUDED stays).
EXPECTED = {
    378856: [edit(378856, "tracker-track", 150, 163, "BAD", "tracking hole", "TIB FED errors")],
    378960: [edit(378960, "tracker-strip", 1, 30, "GOOD"), edit(378960, "tracker-track", 1, 58, "GOOD")],
}


@pytest.fixture
def task_id(app, tmp_path, rr):
    """A task over runs 378856 (163 lumisections) and 378960 (58), each with an approved certification, and
    a third run certified but not approved; the app reads the local RR."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"378856": [[1, 163]], "378960": [[1, 58]], "378981": [[1, 20]]}')
    app.config.update(RR_API_URL=rr.url, RR_TOKEN=TOKEN, RR_WRITE=False)
    with app.app_context():
        import_file(mask, "dcs")
        task = create_task("prompt-2024", "prompt")
        sam = make_user("sam", Role.SHIFTER)
        good = dict(pixel=Status.GOOD, strip=Status.GOOD, tracking=Status.GOOD, certifier_id=sam.id, reco=Reco.PROMPT)
        first = Certification(task_id=task.id, run_number=378856, review_state=ReviewState.APPROVED, **good)
        first.bad_reason = "TIB FED errors"
        first.bad_ranges = [
            BadRange(first=121, last=140, components=["pixel"], comment="BPix HV trip"),
            BadRange(first=150, last=163, components=["tracking"], comment="tracking hole"),
        ]
        second = Certification(task_id=task.id, run_number=378960, review_state=ReviewState.APPROVED, **good)
        pending = Certification(task_id=task.id, run_number=378981, **good)
        db.session.add_all([first, second, pending])
        db.session.commit()
        return task.id


def printed_bodies(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def audit_rows(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.execute(db.select(AuditEntry).where(AuditEntry.action == "push_rr")).scalars().all()
        db.session.expunge_all()
        return rows


def test_a_dry_run_prints_every_body_and_sends_nothing(app, runner, rr, task_id):
    result = runner.invoke(args=["tasks", "push-rr", str(task_id), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert printed_bodies(result.output) == EXPECTED[378856] + EXPECTED[378960]
    assert "run 378856: 1 edits" in result.output and "run 378960: 2 edits" in result.output
    assert "dry run: would send 3 edits for 2 runs (dataset online); nothing was sent" in result.output
    assert "378981" not in result.output  # not approved
    assert rr.edits == [] and audit_rows(app) == []
    assert [body for body, _ in rr.requests] == [{"run_number": r, "dataset_name": "online"} for r in EXPECTED]


def test_a_push_is_refused_without_rr_write(app, runner, rr, task_id):
    result = runner.invoke(args=["tasks", "push-rr", str(task_id)])
    assert result.exit_code == 1
    assert "writing to the Run Registry is off: set RR_WRITE=1" in result.output
    assert rr.requests == [] and rr.edits == [] and audit_rows(app) == []


def test_a_push_sends_the_edits_once_and_audits_rr_answers(app, runner, rr, task_id):
    app.config["RR_WRITE"] = True
    result = runner.invoke(args=["tasks", "push-rr", str(task_id)])
    assert result.exit_code == 0, result.output
    assert rr.edits == EXPECTED[378856] + EXPECTED[378960]
    assert printed_bodies(result.output) == rr.edits  # printed exactly as sent
    assert "sent 3 edits for 2 runs to the Run Registry (dataset online)" in result.output

    audits = audit_rows(app)
    assert [(a.after["edits"], len(a.after["answers"])) for a in audits] == [
        (EXPECTED[378856], 1),
        (EXPECTED[378960], 2),
    ]
    assert audits[0].after["answers"][0]["run_number"] == 378856 and "version" in audits[0].after["answers"][0]
    assert audits[0].before["rr"]["tracker-track"] == [
        {"first": 1, "last": 163, "status": "GOOD", "cause": "", "comment": ""}
    ]
    with app.app_context():  # RR's ranges as they now are were stored: the certification page compares with them
        track = db.session.execute(
            db.select(RrRange.first, RrRange.last, RrRange.status)
            .where(RrRange.run_number == 378856, RrRange.component == "tracker-track")
            .order_by(RrRange.first)
        ).all()
    assert [tuple(row) for row in track] == [(1, 149, "GOOD"), (150, 163, "BAD")]

    again = runner.invoke(args=["tasks", "push-rr", str(task_id)])
    assert again.exit_code == 0, again.output
    assert "run 378856: matches the Run Registry, nothing to send" in again.output
    assert "sent 0 edits for 0 runs to the Run Registry (dataset online); 2 runs already matched" in again.output
    assert len(rr.edits) == 3 and len(audit_rows(app)) == 2


def test_an_rr_error_stops_the_push_naming_the_run_and_what_was_sent(app, runner, rr, task_id):
    app.config["RR_WRITE"] = True
    rr.edit_faults[378960] = (500, b'{"err": "Run must be in state OPEN to be edited"}')
    result = runner.invoke(args=["tasks", "push-rr", str(task_id)])
    assert result.exit_code == 1
    assert (
        "the push stopped at run 378960: the Run Registry answered 500 Internal Server Error for run 378960 "
        '(online) tracker-strip 1-30 GOOD: {"err": "Run must be in state OPEN to be edited"}; '
        "already sent: run 378856 (1 edits)"
    ) in result.output
    assert rr.edits == EXPECTED[378856]
    done, failed = audit_rows(app)
    assert done.after["edits"] == EXPECTED[378856] and "error" not in done.after
    assert failed.after["edits"] == [] and failed.after["not_sent"] == EXPECTED[378960]
    assert "Run must be in state OPEN" in failed.after["error"]


def test_a_run_rr_does_not_know_stops_the_push_before_anything_is_sent(app, runner, rr, task_id):
    app.config["RR_WRITE"] = True
    rr.faults[378856] = (404, b'{"err": "no dataset online of run 378856"}')
    result = runner.invoke(args=["tasks", "push-rr", str(task_id)])
    assert result.exit_code == 1
    assert "the push stopped at run 378856: the Run Registry answered 404" in result.output
    assert "nothing was sent before it" in result.output and rr.edits == []


def test_an_unknown_task_and_an_unset_url_are_refused(app, runner, task_id):
    assert "no labelling task 999" in runner.invoke(args=["tasks", "push-rr", "999", "--dry-run"]).output
    app.config["RR_API_URL"] = ""
    result = runner.invoke(args=["tasks", "push-rr", str(task_id), "--dry-run"])
    assert result.exit_code == 1 and "RR_API_URL is not set" in result.output
