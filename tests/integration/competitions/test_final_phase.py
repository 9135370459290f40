"""A final phase on the future: built from the runs of a task approved after a cutoff, never from a run of the
development data; on PostgreSQL, Redis with a real worker and S3, through the organisers' page."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest

from app.extensions import db
from app.models import Certification, Competition, DatasetFile, DatasetVersion, Role, User
from app.models.types import utcnow
from app.services.certification import workflow
from app.services.certification.tasks import create_task
from app.services.competitions import on_datasets
from app.services.datasets import publishing
from app.services.runs.importer import import_oms
from app.services.storage import get_storage
from tests.conftest import AuthActions
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv
from tests.integration.conftest import run_worker
from tests.integration.datasets.test_publishing import APPROVED, certification_body, oms_document

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
SLUG = "express-challenge"
DEVELOPMENT_RUNS = range(380001, 380009)
LATER, RE_APPROVED, BACKDATED, PENDING = (380009, 380010), 380001, 380011, 380012


def _approve(task, sam, lea, run: int, at=None) -> None:
    certification = workflow.certify(task, sam, certification_body(run, **APPROVED.get(run, {})))
    review = workflow.review(certification, lea, "approve")
    if at is not None:
        review.created_at = at
        db.session.commit()


@pytest.fixture
def developed(stack):
    """Twelve runs; eight approved and published as the development data of a running competition; then, after
    the cutoff, two more approved, a development run approved again, one approved but backdated before the cutoff,
    and one left pending. Returns the cutoff."""
    with stack.app_context():
        import_oms(oms_document())
        sam, lea = make_user("sam", Role.SHIFTER), make_user("lea", Role.SHIFT_LEADER)
        olga = make_user("olga", Role.ORGANISER)
        make_user("rita")
        task = create_task("Express 2026A", "express", runs=(380001, 380012))
        for run in DEVELOPMENT_RUNS:
            _approve(task, sam, lea, run)
        version = publishing.publish(task, slug="express-2026a", seed=7, created_by=olga).version
        settings = on_datasets.CompetitionSettings(
            slug=SLUG, title="Express challenge", opens_at=utcnow() - timedelta(days=10)
        )
        on_datasets.create_competition(version, settings, created_by=olga)
        cutoff = version.created_at
        for hours, run in zip((1, 3), LATER, strict=True):
            _approve(task, sam, lea, run, at=cutoff + timedelta(hours=hours))
        _approve(task, sam, lea, BACKDATED, at=cutoff - timedelta(hours=1))
        again = db.session.execute(db.select(Certification).where(Certification.run_number == RE_APPROVED)).scalar_one()
        workflow.edit(again, sam, workflow.certification_as_json(again) | {"comment": "looked again"})
        workflow.review(again, lea, "approve").created_at = cutoff + timedelta(hours=2)
        db.session.commit()
        workflow.certify(task, sam, certification_body(PENDING))
        return {"cutoff": cutoff, "task": task.id}


def _organiser(stack) -> AuthActions:
    auth = AuthActions(stack.test_client())
    auth.login("olga", PASSWORD)
    return auth


def _add_final(auth: AuthActions, task: int, approved_after, **fields):
    form = {
        "name": "final",
        "task": str(task),
        "approved_after": approved_after.strftime("%Y-%m-%dT%H:%M"),
        "opens_at": (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": "",
        "csrf_token": auth.csrf_token(f"/competitions/{SLUG}/phases"),
    } | fields
    return auth.client.post(f"/competitions/{SLUG}/phases", data=form)


def _read(key: str, **options) -> pd.DataFrame:
    with get_storage().open(key) as handle:
        return pd.read_csv(handle, dtype={"id": str}, **options)


def _runs(key: str) -> set[int]:
    return {int(i.split("_")[0]) for i in _read(key)["id"]}


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.execute(db.select(db.func.count(DatasetVersion.id))).scalar_one(),
            db.session.execute(db.select(db.func.count(DatasetFile.id))).scalar_one(),
        )


def test_the_final_phase_holds_only_runs_approved_after_the_cutoff_and_none_of_the_development_data(stack, developed):
    auth = _organiser(stack)
    # The cutoff as the form takes it: to the minute, at or before the publication.
    cutoff = developed["cutoff"].replace(second=0, microsecond=0)
    added = _add_final(auth, developed["task"], cutoff)
    assert added.status_code == 302, added.get_data(as_text=True)
    with stack.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        _, final = competition.phases
        version = final.dataset_version
        assert (version.dataset.slug, version.number, version.task_id) == ("express-2026a-final", 1, developed["task"])
        names = [(f.name, f.kind.value) for f in version.files]
        assert names == [
            ("test_final.csv", "public"),
            ("sample_submission_final.csv", "public"),
            ("solution_final.csv", "solution"),
        ]
        in_final = _runs(final.solution.storage_key)
        assert in_final == set(LATER) == _runs(version.files[0].storage_key)
        development_runs = _runs(competition.dataset_version.files[0].storage_key) | _runs(
            competition.solution_file.storage_key
        )
        assert development_runs == set(DEVELOPMENT_RUNS) and not in_final & development_runs
        assert RE_APPROVED not in in_final and BACKDATED not in in_final and PENDING not in in_final
        assert (final.source_task_id, final.approved_after) == (developed["task"], cutoff)
        dev_test = _read(competition.dataset_version.files[1].storage_key, nrows=1)
        final_test = _read(version.files[0].storage_key)
        assert list(final_test.columns) == list(dev_test.columns)  # a model of the development data applies
        ids = list(final_test["id"])
        token = make_token(db.session.execute(db.select(User).where(User.username == "rita")).scalar_one())

    client = stack.test_client()
    phases = client.get(f"/api/v1/competitions/{SLUG}/phases").get_json()["phases"]
    assert [(p["name"], p["state"], p["current"]) for p in phases] == [
        ("development", "closed", False),
        ("final", "open", True),
    ]
    assert (
        client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True}).status_code
        == 200
    )
    data_page = auth.client.get(f"/competitions/{SLUG}/data").get_data(as_text=True)
    assert "Submit predictions for <code>test_final.csv</code>'s ids" in data_page
    scores = [0.9 if int(i.split("_")[0]) == 380009 else 0.1 for i in ids]  # 380009 is bad as a whole
    accepted = client.post(
        f"/api/v1/competitions/{SLUG}/submissions",
        headers=bearer(token),
        data={"file": (io.BytesIO(predictions_csv(ids, scores)), "p.csv")},
    )
    assert accepted.status_code == 202
    run_worker(stack)
    body = client.get(f"/api/v1/submissions/{accepted.get_json()['id']}", headers=bearer(token)).get_json()
    assert (body["phase"], body["status"]) == ("final", "scored") and body["public_score"] == pytest.approx(1.0)


def test_a_final_phase_without_a_qualifying_run_is_refused_and_changes_nothing(stack, developed):
    auth = _organiser(stack)
    before = _counts(stack)
    refused = _add_final(auth, developed["task"], developed["cutoff"] + timedelta(days=1))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "No run of the labelling task &#39;Express 2026A&#39; was approved after" in page
    assert "(0 approved after it, 0 of them already in the competition&#39;s data)" in page
    # After 2:30 only run 380010 qualifies (380001, approved again at 2:00, is development data): all good, so
    # its solution cannot be scored by a ROC AUC. Refused once its files were stored, which are removed.
    refused = _add_final(auth, developed["task"], developed["cutoff"] + timedelta(hours=2, minutes=30))
    assert refused.status_code == 400
    assert "cannot score the phase &#39;final&#39; yet" in refused.get_data(as_text=True)
    assert _counts(stack) == before
    with stack.app_context():
        competition = db.session.execute(db.select(Competition)).scalar_one()
        assert [p.name for p in competition.phases] == ["main"] and competition.closes_at is None
        storage = get_storage()
        prefix = "datasets/express-2026a-final/v1"
        left = [name for name in ("public/test_final.csv", "solution/solution_final.csv")]
        assert not any(storage.exists(f"{prefix}/{name}") for name in left), "files of the refused phase were left"
