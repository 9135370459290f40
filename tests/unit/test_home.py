"""The home page says what the platform is and shows what is live on it."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np

from app.extensions import db
from app.models import Competition, Role
from app.models.types import utcnow
from app.services import home
from app.services.certification.tasks import create_task
from app.services.certification.workflow import certify, review
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.runs.importer import import_file
from tests.helpers import add_submission, make_competition, make_user, predictions_csv, write_bundle

CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}


def test_an_empty_platform_says_so(client):
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="pitch"' in page
    assert "suggestion" not in page.lower()  # models do not come back to shifters yet: promise only what is there
    assert "No competition is open right now" in page and "No submission scored yet." in page


def test_the_leader_progress_and_recent_scores_show(app, client, tmp_path):
    folder, ids, labels, _ = write_bundle(tmp_path / "bundle")
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]]}')
    with app.app_context():
        competition = import_bundle(folder)
        title = competition.title
        for name, quality in [("rita", 0.2), ("ravi", 3.0)]:
            user = make_user(name, Role.RESEARCHER)
            submissions.join(competition, user)
            db.session.commit()
            scores = labels * quality + np.random.default_rng(1).random(len(labels))
            submissions.submit(competition, user, io.BytesIO(predictions_csv(ids, scores)), file_name="p.csv")
            app.extensions["job_queue"].join()
        import_file(mask, "dcs")
        task = create_task("express-2018", "express")
        body = {"run_number": 315259, "pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
        certify(task, make_user("sam", Role.SHIFTER), body)
        db.session.expire_all()
        assert len(db.session.execute(db.select(Competition)).scalar_one().participations) == 2

    page = client.get("/").get_data(as_text=True)
    assert title in page and "2 participants" in page
    assert "Leading: <strong>ravi</strong>" in page
    assert "1/2 runs, 0 approved" in page
    assert page.index("<strong>ravi</strong> scored") < page.index("<strong>rita</strong> scored")  # newest first


def test_progress_counts_runs_certified_at_least_once_and_runs_approved(app, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[1, 40]], "315265": [[1, 30]]}')
    with app.app_context():
        import_file(mask, "dcs")
        task = create_task("express-2018", "express")
        body = {"pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
        sam = make_user("sam", Role.SHIFTER)
        first = certify(task, sam, body | {"run_number": 315257})
        certify(task, sam, body | {"run_number": 315259})
        review(first, make_user("lea", Role.SHIFT_LEADER), "approve")
        [progress] = home.labelling_progress()
        assert (progress.task.name, progress.runs, progress.certified, progress.approved) == ("express-2018", 4, 2, 1)
        assert progress.percent == 50
        task.open = False
        db.session.commit()
        assert home.labelling_progress() == []


def test_only_open_competitions_are_live_each_with_its_best_researcher(app, tmp_path):
    now = utcnow()
    with app.app_context():
        live = make_competition(tmp_path, slug="live-comp", closes_at=now + timedelta(days=3))
        make_competition(tmp_path, slug="closed-comp", split_seed=4, closes_at=now - timedelta(days=1))
        upcoming = make_competition(tmp_path, slug="soon-comp", split_seed=5, opens_at=now + timedelta(days=1))
        add_submission(live, make_user("olga", Role.ORGANISER), public=0.99, baseline=True, at=now - timedelta(hours=4))
        add_submission(live, make_user("rita"), public=0.7, at=now - timedelta(hours=3))
        add_submission(live, make_user("ravi"), public=0.8, at=now - timedelta(hours=2))
        add_submission(upcoming, make_user("mia"), public=0.9, at=now - timedelta(hours=1))
        [shown] = home.open_competitions()
        assert (shown.competition.slug, shown.leader.participant, shown.participants) == ("live-comp", "ravi", 2)
        recent = home.recent_scores()
        # newest first; the baseline under its file name; nothing of a competition not yet open
        assert [(score.participant, score.score) for score in recent] == [
            ("ravi", 0.8),
            ("rita", 0.7),
            ("predictions.csv", 0.99),
        ]
        assert [score.participant for score in home.recent_scores(limit=1)] == ["ravi"]
