"""The loop through the API: sources added and changed by shift leaders and organisers, one run's suggestions for
shifters (none on a blind run until certified), the next run claimed in the task's order, and the origin of each
certified bad range."""

from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.models import (
    AuditEntry,
    Competition,
    Dataset,
    DatasetFile,
    DatasetVersion,
    FileKind,
    Role,
    Submission,
    SubmissionStatus,
    SuggestionScore,
    SuggestionSource,
    User,
)
from app.services.runs.importer import import_file
from app.services.storage import get_storage
from tests.helpers import bearer, make_token, make_user

pytestmark = pytest.mark.databases("sqlite", "postgresql")
RUN = 315259  # lumisections 1-172
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}


def scores_csv(rows) -> bytes:
    return ("run,lumisection,score\n" + "".join(f"{r},{n},{s}\n" for r, n, s in rows)).encode()


def bumps(run: int = RUN, bad=((5, 9), (20, 25)), count: int = 172):
    """Scores of one run, 0.9 on the bad ranges and 0.1 elsewhere."""
    return [(run, n, 0.9 if any(a <= n <= b for a, b in bad) else 0.1) for n in range(1, count + 1)]


@pytest.fixture
def desk(app, runner, tmp_path):
    """Runs of 2018 imported, tokens for every role, and a way to make tasks with the command."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88], [91, 92]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
        roles = {"sam": Role.SHIFTER, "sue": Role.SHIFTER, "lea": Role.SHIFT_LEADER, "olga": Role.ORGANISER}
        tokens = {name: make_token(make_user(name, role)) for name, role in roles.items()}
        tokens["rita"] = make_token(make_user("rita", Role.RESEARCHER))

    def task(name: str, *options: str) -> int:
        result = runner.invoke(args=["tasks", "create", name, "--reco", "express", "--runs", "315257-315264", *options])
        assert result.exit_code == 0, result.output
        return int(result.stdout.strip().splitlines()[-1])

    return {"tokens": tokens, "task": task}


def call(client, desk, who, method, path, **kwargs):
    headers = bearer(desk["tokens"][who]) if who else {}
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def upload(client, desk, task, rows, who="lea", **form):
    data = {"name": "pixel-ae", **form, "file": (io.BytesIO(scores_csv(rows)), "scores.csv")}
    return call(client, desk, who, "POST", f"/tasks/{task}/suggestions", data=data)


def certification(bad=(), **changes) -> dict:
    body = {"run_number": RUN, "pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
    if bad:
        body |= {"bad_lumisections": list(bad), "comment": "holes"}
    return body | changes


def nothing_stored(app, tmp_path) -> bool:
    with app.app_context():
        sources = db.session.execute(db.select(db.func.count()).select_from(SuggestionSource)).scalar()
        scores = db.session.execute(db.select(db.func.count()).select_from(SuggestionScore)).scalar()
    files = list((tmp_path / "storage" / "suggestions").rglob("*.*")) if (tmp_path / "storage").exists() else []
    return sources == 0 and scores == 0 and files == []


def test_an_uploaded_source_shows_its_suggested_ranges_to_shifters_and_is_listed(client, desk):
    task = desk["task"]("loop", "--blind-fraction", "0")
    created = upload(client, desk, task, bumps(), version="1.2", threshold="0.5")
    assert created.status_code == 201 and created.get_json()["rows"] == 172
    source_id = created.get_json()["source_id"]
    shown = call(client, desk, "sam", "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()
    assert shown["blind"] is False and len(shown["sources"]) == 1
    source = shown["sources"][0]
    assert (source["id"], source["name"], source["threshold"]) == (source_id, "pixel-ae", 0.5)
    assert source["suggested_ranges"] == [[5, 9], [20, 25]] and source["scores"][4] == [5, 0.9]
    other_run = call(client, desk, "sam", "GET", f"/tasks/{task}/runs/315257/suggestions").get_json()
    assert other_run["sources"][0]["scores"] == [] and other_run["sources"][0]["suggested_ranges"] == []
    models = call(client, desk, "olga", "GET", f"/tasks/{task}/models").get_json()["models"]
    assert [(m["id"], m["version"], m["kind"], m["active"], m["live"]) for m in models] == [
        (source_id, "1.2", "upload", True, None)
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([*bumps()[:2], (RUN, 3, 1.5)], "1 row has a score outside [0, 1]: row 3 (315259:3)"),
        ([*bumps()[:2], (RUN, 999, 0.5)], "1 row names a lumisection of none of the task's runs: row 3 (315259:999)"),
        ([*bumps()[:2], (380000, 1, 0.5)], "row 3 (380000:1)"),
        ([*bumps()[:2], (RUN, 1, 0.5)], "1 row repeats a lumisection of an earlier row: row 3 (315259:1)"),
        ([*bumps()[:2], (RUN, 3, "high")], "1 row holds a cell that is not a number: row 3 (315259:3)"),
    ],
)
def test_a_bad_file_is_refused_naming_the_first_offending_rows_and_changes_nothing(
    app, client, desk, tmp_path, rows, message
):
    task = desk["task"]("loop")
    refused = upload(client, desk, task, rows)
    assert refused.status_code == 400 and message in refused.get_json()["error"]["message"]
    assert nothing_stored(app, tmp_path)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": ""}, "a source needs a name"),
        ({"threshold": "high"}, "the threshold is a number in [0, 1], not 'high'"),
        ({"threshold": "1.5"}, "the threshold is a number in [0, 1]"),
    ],
)
def test_bad_settings_of_an_upload_are_refused_and_change_nothing(app, client, desk, tmp_path, form, message):
    task = desk["task"]("loop")
    refused = upload(client, desk, task, bumps(), **form)
    assert refused.status_code == 400 and message in refused.get_json()["error"]["message"]
    no_file = call(client, desk, "lea", "POST", f"/tasks/{task}/suggestions", data={"name": "x"})
    assert no_file.status_code == 400 and "multipart form field named 'file'" in no_file.get_json()["error"]["message"]
    assert nothing_stored(app, tmp_path)


def test_roles_of_the_loop(client, desk):
    task = desk["task"]("loop")
    source_id = upload(client, desk, task, bumps()).get_json()["source_id"]
    assert upload(client, desk, task, bumps(), who="olga").status_code == 201
    assert upload(client, desk, task, bumps(), who="sam").status_code == 403
    assert upload(client, desk, task, bumps(), who=None).status_code == 401
    for who, expected in (("sam", 403), ("rita", 403), ("lea", 200), ("olga", 200)):
        assert call(client, desk, who, "GET", f"/tasks/{task}/models").status_code == expected
        change = call(client, desk, who, "POST", f"/tasks/{task}/models/{source_id}", json={"active": True})
        assert change.status_code == expected
    for who, expected in (("rita", 403), ("sam", 200), ("lea", 200), ("olga", 200)):
        assert call(client, desk, who, "GET", f"/tasks/{task}/runs/{RUN}/suggestions").status_code == expected
    for who, expected in (("rita", 403), ("olga", 403), ("sam", 200)):
        assert call(client, desk, who, "GET", f"/tasks/{task}/next").status_code == expected


def test_every_path_parameter_names_something_of_the_task(client, desk):
    task, other = desk["task"]("loop"), desk["task"]("other")
    foreign = upload(client, desk, other, bumps()).get_json()["source_id"]
    for path in (
        f"/tasks/{task}/models/{foreign}",
        f"/tasks/{task}/models/{2**63 - 1}",
        f"/tasks/{2**63 - 1}/models/{foreign}",
    ):
        assert call(client, desk, "lea", "POST", path, json={"active": False}).status_code == 404, path
    for path in (f"/tasks/{task}/runs/380000/suggestions", f"/tasks/{2**63 - 1}/runs/{RUN}/suggestions"):
        assert call(client, desk, "sam", "GET", path).status_code == 404, path
    for path in (f"/tasks/{2**63 - 1}/models", f"/tasks/{2**63 - 1}/next", f"/tasks/{2**64}/next"):
        assert call(client, desk, "lea", "GET", path).status_code == 404, path


def test_a_source_is_deactivated_and_its_threshold_set(client, desk):
    task = desk["task"]("loop", "--blind-fraction", "0")
    source_id = upload(client, desk, task, bumps()).get_json()["source_id"]
    path = f"/tasks/{task}/models/{source_id}"

    def ranges():
        sources = call(client, desk, "sam", "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()["sources"]
        return [s["suggested_ranges"] for s in sources]

    changed = call(client, desk, "lea", "POST", path, json={"threshold": 0.95})
    assert changed.status_code == 200 and changed.get_json()["threshold"] == 0.95
    assert ranges() == [[]]
    both = call(client, desk, "lea", "POST", path, json={"threshold": 0.5, "active": False})
    assert both.get_json()["active"] is False
    assert ranges() == []
    assert call(client, desk, "lea", "POST", path, json={"active": True}).status_code == 200
    assert ranges() == [[[5, 9], [20, 25]]]
    for body, message in (
        ({"threshold": 2}, "threshold must be at most 1"),
        ({"active": "yes"}, "active must be true or false"),
        ({}, 'Send "active"'),
    ):
        refused = call(client, desk, "lea", "POST", path, json=body)
        assert refused.status_code == 400 and message in refused.get_json()["error"]["message"], body
    assert ranges() == [[[5, 9], [20, 25]]]


def test_a_blind_run_hides_its_suggestions_until_the_caller_certified_it(app, client, desk):
    task = desk["task"]("blind", "--blind-fraction", "1")
    source_id = upload(client, desk, task, bumps()).get_json()["source_id"]
    for who in ("sam", "sue", "lea"):
        hidden = call(client, desk, who, "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()
        assert hidden == {"blind": True, "sources": []}
    claimed = [{"first": 5, "last": 9, "origin": "suggested", "source_id": source_id}]
    created = call(client, desk, "sam", "POST", f"/tasks/{task}/certifications", json=certification(claimed))
    assert created.status_code == 201
    first = created.get_json()
    assert first["blind"] is True and first["bad_lumisections"][0]["origin"] == "manual"
    revealed = call(client, desk, "sam", "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()
    assert revealed["blind"] is True and revealed["sources"][0]["suggested_ranges"] == [[5, 9], [20, 25]]
    still_hidden = call(client, desk, "sue", "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()
    assert still_hidden["sources"] == []
    accepted = [*claimed, {"first": 20, "last": 25, "origin": "suggested", "source_id": source_id}]
    edited = call(client, desk, "sam", "PUT", f"/certifications/{first['id']}", json=certification(accepted))
    assert edited.status_code == 200
    shown = call(client, desk, "lea", "GET", f"/certifications/{first['id']}").get_json()
    assert shown["blind"] is True
    assert [(r["origin"], r["source_id"]) for r in shown["bad_lumisections"]] == [("suggested", source_id)] * 2
    with app.app_context():
        entries = db.session.execute(
            db.select(AuditEntry).where(AuditEntry.entity_id == first["id"]).order_by(AuditEntry.id)
        ).scalars()
        certify_entry, edit_entry = [e for e in entries if e.entity == "certification"]
        assert certify_entry.after["bad_lumisections"][0]["origin"] == "manual"
        assert edit_entry.before["bad_lumisections"] == certify_entry.after["bad_lumisections"]


def test_each_bad_range_keeps_its_origin_checked_against_its_source(app, client, desk):
    task, other = desk["task"]("loop", "--blind-fraction", "0"), desk["task"]("other")
    source_id = upload(client, desk, task, bumps()).get_json()["source_id"]
    foreign = upload(client, desk, other, bumps()).get_json()["source_id"]

    def claimed(first, last, origin=None, source=source_id):
        return {"first": first, "last": last, "origin": origin, "source_id": source}

    refused = call(
        client,
        desk,
        "sam",
        "POST",
        f"/tasks/{task}/certifications",
        json=certification([claimed(5, 9, "suggested", foreign)]),
    )
    assert refused.status_code == 400
    assert f"source_id {foreign} is not a source of this task" in refused.get_json()["error"]["message"]
    bad = [
        claimed(5, 9, "suggested"),
        claimed(20, 27, "suggested"),
        claimed(40, 42, "suggested"),
        claimed(60, 61),
        {"first": 70, "last": 71},
    ]
    created = call(client, desk, "sam", "POST", f"/tasks/{task}/certifications", json=certification(bad))
    assert created.status_code == 201, created.get_json()
    ranges = call(client, desk, "lea", "GET", f"/certifications/{created.get_json()['id']}").get_json()
    assert ranges["blind"] is False
    assert [(r["first"], r["origin"], r["source_id"]) for r in ranges["bad_lumisections"]] == [
        (5, "suggested", source_id),
        (20, "suggested_edited", source_id),
        (40, "manual", None),
        (60, "manual", None),
        (70, "manual", None),
    ]


def test_next_gives_two_shifters_the_runs_in_uncertainty_order_and_claims_them(client, desk):
    task = desk["task"]("queue", "--order", "uncertainty")
    # Mean distance to the threshold 0.5: 0.05 for 315264, 0.2 for 315257, 0.4 for 315259.
    rows = [(315257, n, 0.3) for n in (*range(1, 89), 91, 92)]
    rows += [(RUN, n, 0.9) for n in range(1, 173)] + [(315264, n, 0.55) for n in range(32, 262)]
    assert upload(client, desk, task, rows).status_code == 201

    def next_for(who):
        answer = call(client, desk, who, "GET", f"/tasks/{task}/next")
        return answer.get_json()["run_number"] if answer.status_code == 200 else answer.status_code

    assert [next_for("sam"), next_for("sue"), next_for("sam")] == [315264, 315257, 315264]
    assert next_for("lea") == RUN
    assert next_for("sue") == 315257
    body = certification(run_number=315264)
    assert call(client, desk, "sam", "POST", f"/tasks/{task}/certifications", json=body).status_code == 201
    assert next_for("sam") == 404  # the others are held by sue and lea


def _scored_submission(app, task_id: int, ids: list[str], scores: list[float]) -> int:
    """A scored submission of a competition on a dataset version published from the task."""
    with app.app_context():
        storage = get_storage()
        content = ("id,label\n" + "".join(f"{i},{s}\n" for i, s in zip(ids, scores, strict=True))).encode()
        stored = storage.put("submissions/loop/p.csv", io.BytesIO(content))
        version = DatasetVersion(dataset=Dataset(slug="loop", title="Loop"), number=1, task_id=task_id)
        solution = DatasetFile(
            version=version, kind=FileKind.SOLUTION, name="solution.csv", storage_key="x", size=1, sha256="0" * 64
        )
        competition = Competition(
            slug="loop", title="Loop", dataset_version=version, solution_file=solution, metric="roc_auc",
            target_column="label",
        )  # fmt: skip
        user = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        submission = Submission(
            competition=competition, user_id=user.id, status=SubmissionStatus.SCORED, file_name="p.csv",
            file_key=stored.key, file_size=stored.size, file_sha256=stored.sha256, is_baseline=True,
        )  # fmt: skip
        db.session.add(submission)
        db.session.commit()
        return submission.id


def test_a_scored_submission_of_a_competition_on_the_task_becomes_a_source(app, client, desk, tmp_path):
    task, other = desk["task"]("loop", "--blind-fraction", "0"), desk["task"]("other")
    ids = [f"{RUN}_{n}" for n in range(1, 173)]
    submission_id = _scored_submission(app, task, ids, [0.9 if 5 <= n <= 9 else 0.1 for n in range(1, 173)])
    path = f"/tasks/{task}/suggestions"
    elsewhere = call(client, desk, "lea", "POST", f"/tasks/{other}/suggestions", json={"submission_id": submission_id})
    assert elsewhere.status_code == 400 and "was not published from task" in elsewhere.get_json()["error"]["message"]
    missing = call(client, desk, "lea", "POST", path, json={"submission_id": submission_id + 1})
    assert missing.status_code == 400
    created = call(client, desk, "lea", "POST", path, json={"submission_id": submission_id})
    assert created.status_code == 201 and created.get_json()["rows"] == 172
    again = call(client, desk, "lea", "POST", path, json={"submission_id": submission_id})
    assert again.status_code == 409
    models = call(client, desk, "lea", "GET", f"/tasks/{task}/models").get_json()["models"]
    assert [(m["kind"], m["active"]) for m in models] == [("submission", True)]
    shown = call(client, desk, "sam", "GET", f"/tasks/{task}/runs/{RUN}/suggestions").get_json()
    assert shown["sources"][0]["suggested_ranges"] == [[5, 9]]
