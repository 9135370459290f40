"""The organisers' bulk export (embedded mode): the job, its zip, the page buttons and the API's rules."""

from __future__ import annotations

import io
import zipfile

from app.extensions import db
from app.models import Role
from app.models.exports import ExportStatus, SubmissionExport
from app.services.competitions import exports
from app.services.storage import get_storage
from tests.helpers import PASSWORD, bearer, make_competition, make_token, make_user, predictions_csv, write_bundle
from workers.export import KEEP


def _competition_with_submissions(app, client, tmp_path):
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        from app.services.competitions.bundles import import_bundle

        import_bundle(folder)
        rita = make_token(make_user("rita"))
        olga = make_token(make_user("olga", Role.ORGANISER))
    client.post("/api/v1/competitions/test-comp/join", headers=bearer(rita), json={"accept_rules": True})
    files = {}
    for n, name in enumerate(("a.csv", "b.csv.gz")):
        content = predictions_csv(ids, x + n)
        response = client.post(
            "/api/v1/competitions/test-comp/submissions",
            headers=bearer(rita),
            data={"file": (io.BytesIO(content), name)},
        )
        files[response.get_json()["id"]] = (name, content)
    app.extensions["job_queue"].join()
    return rita, olga, files


def test_export_page_builds_a_zip_whose_scores_match_the_scores_page(app, client, auth, tmp_path):
    _, _, files = _competition_with_submissions(app, client, tmp_path)
    assert client.get("/competitions/test-comp/export.zip").status_code == 302  # not logged in: to the login page
    auth.login("olga", PASSWORD)
    page = client.get("/competitions/test-comp/all-submissions").get_data(as_text=True)
    assert "Build a zip of every submission file" in page
    early = client.get("/competitions/test-comp/export.zip", follow_redirects=True)
    assert "No export yet" in early.get_data(as_text=True)

    token = auth.csrf_token("/competitions/test-comp/all-submissions")
    started = client.post("/competitions/test-comp/export", data={"csrf_token": token}, follow_redirects=True)
    assert "is being built" in started.get_data(as_text=True)
    app.extensions["job_queue"].join()
    with client.get("/competitions/test-comp/export.zip") as download:  # a streamed file stays open until closed
        assert download.status_code == 200
        data = download.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        for submission_id, (name, content) in files.items():
            member = zipped.getinfo(f"submissions/{submission_id}-rita-{name}")
            assert zipped.read(member) == content
            expected = zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            assert member.compress_type == expected
        assert zipped.read("scores.csv") == client.get("/competitions/test-comp/scores.csv").get_data()


def test_export_api_is_for_organisers_and_old_exports_are_pruned(app, client, tmp_path):
    rita, olga, _ = _competition_with_submissions(app, client, tmp_path)
    assert client.post("/api/v1/competitions/test-comp/exports", headers=bearer(rita)).status_code == 403
    keys = []
    for _ in range(KEEP + 1):
        started = client.post("/api/v1/competitions/test-comp/exports", headers=bearer(olga))
        assert started.status_code == 202 and started.get_json()["status"] == "building"
        app.extensions["job_queue"].join()
        export = client.get(f"/api/v1/exports/{started.get_json()['id']}", headers=bearer(olga)).get_json()
        assert export["status"] == "ready" and export["files"] == 2
        assert client.get(f"/api/v1/exports/{export['id']}", headers=bearer(rita)).status_code == 403
        assert client.get(export["download_url"], headers=bearer(rita)).status_code == 403
        with client.get(export["download_url"], headers=bearer(olga)) as body:
            assert body.status_code == 200 and len(body.get_data()) == export["size"]
        keys.append(export["id"])
    with app.app_context():
        left = db.session.execute(db.select(SubmissionExport)).scalars().all()
        assert sorted(e.id for e in left) == keys[1:]
        assert all(get_storage().exists(e.storage_key) for e in left)
    assert client.get(f"/api/v1/exports/{keys[0]}", headers=bearer(olga)).status_code == 404


def test_an_export_that_cannot_read_a_file_fails_with_a_message(app, client, tmp_path):
    _, olga, files = _competition_with_submissions(app, client, tmp_path)
    with app.app_context():
        from app.models import Submission

        get_storage().delete(db.session.get(Submission, next(iter(files))).file_key)
    started = client.post("/api/v1/competitions/test-comp/exports", headers=bearer(olga)).get_json()
    app.extensions["job_queue"].join()
    export = client.get(f"/api/v1/exports/{started['id']}", headers=bearer(olga)).get_json()
    assert export["status"] == "failed" and "start it again" in export["error"]
    assert client.get(f"/api/v1/exports/{started['id']}/file", headers=bearer(olga)).status_code == 409
    with app.app_context():
        assert db.session.get(SubmissionExport, started["id"]).status is ExportStatus.FAILED


def test_asking_again_while_an_export_is_building_returns_that_one(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        olga = make_user("olga", Role.ORGANISER)
        building = SubmissionExport(competition=competition, requested_by=olga)
        db.session.add(building)
        db.session.commit()
        assert exports.request_export(competition, olga).id == building.id
        assert db.session.execute(db.select(db.func.count(SubmissionExport.id))).scalar() == 1
        view = exports.export_as_json(building)
        assert (view["status"], view["download_url"]) == ("building", None)


def test_the_download_is_the_newest_ready_export_never_a_failed_or_building_one(app, tmp_path):
    with app.app_context():
        competition = make_competition(tmp_path)
        assert exports.latest_ready(competition) is None
        olga = make_user("olga", Role.ORGANISER)
        older, newer = (
            SubmissionExport(competition=competition, requested_by=olga, status=ExportStatus.READY, files=n)
            for n in (1, 2)
        )
        failed = SubmissionExport(competition=competition, requested_by=olga, status=ExportStatus.FAILED, error="x")
        building = SubmissionExport(competition=competition, requested_by=olga)
        for export in (older, newer, failed, building):
            db.session.add(export)
            db.session.commit()
        assert exports.latest_ready(competition).id == newer.id
        assert exports.export_as_json(newer)["download_url"] == f"/api/v1/exports/{newer.id}/file"
        assert exports.export_as_json(failed)["download_url"] is None and exports.export_as_json(failed)["error"] == "x"
