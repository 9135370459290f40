"""The home page says what the platform is and shows what is live on it."""

from __future__ import annotations

import io

import numpy as np

from app.extensions import db
from app.models import Competition, Role
from app.services.certification.tasks import create_task
from app.services.certification.workflow import certify
from app.services.competitions import submissions
from app.services.competitions.bundles import import_bundle
from app.services.runs.importer import import_file
from tests.helpers import make_user, predictions_csv, write_bundle

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
