"""Input no route can store is refused before any route sees it: a NUL byte anywhere (PostgreSQL keeps no NUL in
text), JSON nested deeper than the parser goes, ids beyond any database integer. A 4xx naming what is wrong,
never a 500, on both databases."""

from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.models import Certification, LabellingTask, Role, Run, User
from app.models.certification import DEFAULT_CHECKLISTS
from app.services.certification import tasks, workflow
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.runs.importer import import_file
from tests.helpers import PASSWORD, bearer, make_token, make_user, write_bundle

pytestmark = pytest.mark.databases("sqlite", "postgresql")
RUN = 315259
CERTIFICATION = {
    "run_number": RUN,
    "pixel": "good",
    "strip": "good",
    "tracking": "good",
    "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
}


@pytest.fixture
def desk(app, tmp_path) -> dict:
    """A task over imported runs, a competition rita joined, and tokens of a shifter and a shift leader."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]]}')
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        import_file(mask, "dcs")
        competition = import_bundle(folder)
        rita = make_user("rita")
        submissions.join(competition, rita)
        sam, lea = make_user("sam", Role.SHIFTER), make_user("lea", Role.SHIFT_LEADER)
        task = tasks.create_task("express-2018", "express")
        return {"task": task.id, "sam": make_token(sam), "lea": make_token(lea), "rita": make_token(rita)}


def refused(response, *words: str) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)[:2000]
    text = response.get_json()["error"]["message"] if response.is_json else response.get_data(as_text=True)
    for word in words:
        assert word in text, text[:2000]
    return text


@pytest.mark.parametrize(
    ("page", "fields", "named"),
    [
        ("/login", {"username": "sam\x00", "password": PASSWORD}, "username"),
        ("/register", {"username": "newbie", "email": "new\x00@example.org", "password": PASSWORD * 2}, "email"),
    ],
)
def test_a_nul_byte_in_a_form_field_is_refused_naming_the_field(app, client, auth, desk, page, fields, named):
    data = fields | {"confirm": fields["password"], "csrf_token": auth.csrf_token(page)}
    refused(client.post(page, data=data), f"form field &#39;{named}&#39; holds a NUL byte")
    with app.app_context():
        assert db.session.execute(db.select(User).where(User.username == "newbie")).first() is None


@pytest.mark.parametrize(
    "path", ["/competitions/test%00comp", "/datasets/a%00b", "/api/v1/competitions/test%00comp/leaderboard"]
)
def test_a_nul_byte_in_the_address_is_refused(client, desk, path):
    refused(client.get(path), "NUL byte")


def test_a_nul_byte_in_the_query_string_is_refused_naming_the_parameter(client, desk):
    refused(client.get("/login?next=/tasks%00"), "query parameter &#39;next&#39; holds a NUL byte")
    response = client.get("/api/v1/competitions/test-comp/leaderboard?board=public%00")
    assert refused(response, "query parameter 'board'")
    assert response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"comment": "dead \x00 modules"}, "The JSON field 'comment'"),
        ({"bad_lumisections": [{"first": 3, "last": 4, "comment": "\x00"}]}, "'bad_lumisections[0].comment'"),
        ({"checklist": {"general\x00": True}}, "'checklist.general\\0'"),
        ({"problem_categories": ["hv_off", "\x00"]}, "'problem_categories[1]'"),
    ],
)
def test_a_nul_byte_in_a_json_string_is_refused_naming_the_field(app, client, desk, changes, named):
    response = client.post(
        f"/api/v1/tasks/{desk['task']}/certifications", headers=bearer(desk["sam"]), json=CERTIFICATION | changes
    )
    refused(response, named, "holds a NUL byte")
    with app.app_context():
        assert db.session.execute(db.select(Certification)).first() is None


def test_a_nul_byte_in_a_review_comment_or_a_file_name_is_refused(app, client, desk):
    with app.app_context():
        task = db.session.get(LabellingTask, desk["task"])
        sam = db.session.execute(db.select(User).where(User.username == "sam")).scalar_one()
        certified = workflow.certify(task, sam, CERTIFICATION).id
    review = {"decision": "reject", "comment": "look at strip\x00"}
    answer = client.post(f"/api/v1/certifications/{certified}/review", headers=bearer(desk["lea"]), json=review)
    refused(answer, "'comment'")
    upload = {"file": (io.BytesIO(b"id,label\n"), "p\x00.csv")}
    answer = client.post("/api/v1/competitions/test-comp/submissions", headers=bearer(desk["rita"]), data=upload)
    refused(answer, "file name of 'file' holds a NUL byte")
    with app.app_context():
        assert db.session.get(Certification, certified).review_state.value == "pending"
        assert db.session.execute(db.select(submissions.Submission)).first() is None


def test_a_body_is_read_only_once_the_caller_is_known(client, desk):
    """An upload without a token is refused for the token, whatever its file name: nothing was parsed yet."""
    upload = {"file": (io.BytesIO(b"id,label\n"), "p\x00.csv")}
    assert client.post("/api/v1/competitions/test-comp/submissions", data=upload).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeper than the parser goes"),
        pytest.param('{"checklist": ' + '{"a": ' * 900 + "true" + "}" * 900 + "}", id="deep but readable"),
    ],
)
def test_deeply_nested_json_is_refused(client, desk, body):
    response = client.post(
        f"/api/v1/tasks/{desk['task']}/certifications",
        headers=bearer(desk["sam"]) | {"Content-Type": "application/json"},
        data=body,
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("path", ["/tasks/{huge}", "/tasks/{task}/runs/{huge}", "/runs/{huge}", "/submissions/{huge}"])
def test_an_id_beyond_any_database_integer_is_not_found(client, auth, desk, path):
    auth.login("lea", PASSWORD)
    assert client.get(path.format(huge=2**70, task=desk["task"])).status_code == 404


def test_the_certification_form_refuses_numbers_no_column_holds(app, client, auth, desk):
    with app.app_context():
        db.session.get(Run, RUN).ls_count = None  # a run whose length is unknown takes any range the column holds
        db.session.commit()
    auth.login("sam", PASSWORD)
    page = f"/tasks/{desk['task']}/runs/{RUN}"
    form = {
        "pixel": "good",
        "strip": "good",
        "tracking": "good",
        "trackermap": "exists",
        "comment": "checked",
        "checklist": [f"{group['name']}/{i}" for group in DEFAULT_CHECKLISTS for i in range(len(group["items"]))],
        "submit": "Certify",
    }
    for changes, message in [
        ({"reference_run": str(2**70)}, "between 1 and"),
        ({"bad_ranges": f"{2**31}-{2**31 + 5} tracking"}, "beyond any run"),
    ]:
        response = client.post(page, data=form | changes | {"csrf_token": auth.csrf_token(page)})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(Certification)).first() is None


def test_a_query_id_beyond_any_database_integer_names_nothing(app, client, auth):
    with app.app_context():
        make_user("olga", Role.ORGANISER)
    auth.login("olga", PASSWORD)
    page = client.get(f"/competitions/new?dataset_version={2**70}")
    assert page.status_code == 404
