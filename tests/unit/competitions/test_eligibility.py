"""Who may compete: researchers (admins aside), never anyone who can read the labels of the test set; organisers
submit baselines without joining, listed on the board under their name and never ranked."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Competition, LabellingTask, Participation, Reco, Role, Submission, User
from app.services.competitions import leaderboards
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv, write_bundle

SLUG = "test-comp"


@pytest.fixture
def world(app, tmp_path):
    """A competition whose dataset version was published by olga from the labels of a task, and its files."""
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        competition = import_bundle(folder)
        olga = make_user("olga", Role.ORGANISER, Role.RESEARCHER)
        task = LabellingTask(name="Express 2024", reco=Reco.EXPRESS)
        db.session.add(task)
        db.session.flush()
        competition.dataset_version.task_id = task.id
        competition.dataset_version.published_by_id = olga.id
        db.session.commit()
    return {"content": predictions_csv(ids, x), "ids": ids}


def api_join(client, token):
    return client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})


def api_submit(client, token, content, **fields):
    import io

    data = {"file": (io.BytesIO(content), "p.csv"), **fields}
    return client.post(f"/api/v1/competitions/{SLUG}/submissions", headers=bearer(token), data=data)


def page_join(client, auth, username):
    auth.login(username, PASSWORD)
    token = auth.csrf_token(f"/competitions/{SLUG}/rules")
    return client.post(f"/competitions/{SLUG}/join", data={"accept_rules": "y", "csrf_token": token})


def participants(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Participation.id))).scalar_one()


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        ((Role.SHIFTER,), "Only researchers take part"),
        ((Role.SHIFTER, Role.RESEARCHER), "which every shifter can read"),
        ((Role.SHIFT_LEADER, Role.RESEARCHER), "which every shift leader can read"),
        ((Role.ORGANISER, Role.RESEARCHER), "which every organiser can read"),
    ],
    ids=["shifter", "shifter-and-researcher", "shift-leader-and-researcher", "another-organiser"],
)
def test_label_readers_are_refused_with_the_reason_on_the_api(app, client, world, roles, reason):
    with app.app_context():
        token = make_token(make_user("sam", *roles))
    joined = api_join(client, token)
    assert joined.status_code == 403 and reason in joined.get_json()["error"]["message"]
    submitted = api_submit(client, token, world["content"])
    assert submitted.status_code == 403 and reason in submitted.get_json()["error"]["message"]
    assert participants(app) == 0


def test_a_shifter_is_refused_on_the_page_and_told_why(app, client, auth, world):
    with app.app_context():
        make_user("sam", Role.SHIFTER, Role.RESEARCHER)
    refused = page_join(client, auth, "sam")
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "approved labels of the labelling task &#39;Express 2024&#39;" in page and "You joined" not in page
    rules = client.get(f"/competitions/{SLUG}/rules").get_data(as_text=True)
    assert 'data-testid="ineligible"' in rules and "Join the competition</button>" not in rules
    assert participants(app) == 0


def test_the_publisher_of_the_labels_is_refused(app, client, auth, world):
    with app.app_context():
        token = make_token(db.session.execute(db.select(User).where(User.username == "olga")).scalar_one())
    joined = api_join(client, token)
    assert (
        joined.status_code == 403
        and "You published the data of this competition" in joined.get_json()["error"]["message"]
    )
    assert page_join(client, auth, "olga").status_code == 403
    assert participants(app) == 0


def test_a_researcher_joins_and_submits(app, client, auth, world):
    with app.app_context():
        token = make_token(make_user("rita", Role.RESEARCHER))
    assert api_join(client, token).status_code == 200
    assert api_submit(client, token, world["content"]).status_code == 202
    assert page_join(client, auth, "rita").status_code == 302  # joining again is harmless


def test_an_admin_joins_and_submits(app, client, world):
    with app.app_context():
        token = make_token(make_user("ada", Role.ADMIN))
    assert api_join(client, token).status_code == 200
    assert api_submit(client, token, world["content"]).status_code == 202


def test_a_participant_who_became_a_shifter_can_no_longer_submit(app, client, auth, world):
    with app.app_context():
        token = make_token(make_user("rita", Role.RESEARCHER))
    assert api_join(client, token).status_code == 200
    with app.app_context():
        db.session.execute(db.select(User).where(User.username == "rita")).scalar_one().set_roles(
            {Role.RESEARCHER, Role.SHIFTER}
        )
        db.session.commit()
    refused = api_submit(client, token, world["content"])
    assert refused.status_code == 403 and "shifter" in refused.get_json()["error"]["message"]
    auth.login("rita", PASSWORD)
    page = client.get(f"/competitions/{SLUG}/submit").get_data(as_text=True)
    assert 'data-testid="ineligible"' in page and "Submit predictions" not in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Submission.id))).scalar_one() == 0


def test_shifters_who_are_researchers_compete_where_no_task_labels_are_at_stake(app, client, tmp_path):
    folder, *_ = write_bundle(tmp_path / "plain", spec={"slug": "plain"})
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        token = make_token(make_user("sam", Role.SHIFTER, Role.RESEARCHER))
    joined = client.post("/api/v1/competitions/plain/join", headers=bearer(token), json={"accept_rules": True})
    assert joined.status_code == 200


def test_an_organiser_submits_a_baseline_without_joining_on_the_api(app, client, world):
    with app.app_context():
        token = make_token(db.session.execute(db.select(User).where(User.username == "olga")).scalar_one())
    accepted = api_submit(client, token, world["content"], baseline="true", description="Feature x as the score")
    assert accepted.status_code == 202
    app.extensions["job_queue"].join()
    assert participants(app) == 0
    details = client.get(f"/api/v1/competitions/{SLUG}").get_json()
    assert details["participants"] == 0
    (row,) = client.get(f"/api/v1/competitions/{SLUG}/leaderboard").get_json()["rows"]
    assert row["baseline"] is True and row["rank"] is None and row["participant"] == "Feature x as the score"
    with app.app_context():
        submission = db.session.get(Submission, accepted.get_json()["id"])
        assert submission.is_baseline and not submission.counted and submission.participation_id is None


def test_only_organisers_submit_baselines(app, client, world):
    with app.app_context():
        token = make_token(make_user("rita", Role.RESEARCHER))
    api_join(client, token)
    refused = api_submit(client, token, world["content"], baseline="true")
    assert refused.status_code == 403 and "Only organisers" in refused.get_json()["error"]["message"]
    assert api_submit(client, token, world["content"], baseline="maybe").status_code == 400


def test_an_organiser_submits_a_baseline_from_the_page(app, client, auth, world):
    import io

    auth.login("olga", PASSWORD)
    form = client.get(f"/competitions/{SLUG}/baseline")
    assert form.status_code == 200
    token = auth.csrf_token(f"/competitions/{SLUG}/baseline")
    data = {"file": (io.BytesIO(world["content"]), "p.csv"), "name": "Random baseline", "csrf_token": token}
    response = client.post(f"/competitions/{SLUG}/baseline", data=data)
    assert response.status_code == 302
    app.extensions["job_queue"].join()
    with app.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        rows = leaderboards.compute(competition, "public")
    assert [(r.participant, r.rank, r.baseline) for r in rows] == [("Random baseline", None, True)]
    board = client.get(f"/competitions/{SLUG}/leaderboard").get_data(as_text=True)
    table = board[board.index('data-testid="leaderboard"') :]
    assert "<em>Random baseline</em>" in table and "olga" not in table
    assert participants(app) == 0
