"""The loop over HTTP on PostgreSQL, Redis with a real RQ worker, and S3: a task's labels published, a live
competition made with the command, predictions posted for pending.csv and activated by a shift leader, bad
uploads refused without a trace, the pending runs certified (a suggestion accepted, a blind run whose
suggestions stay hidden from the page and the API until certified, then edited) and approved by people, and
the live leaderboard and the models page updated by the worker."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.metrics import roc_auc_score

from app.extensions import db
from app.models import LabellingTask, Lumisection, Run, SuggestionSource, TaskRun
from app.services.runs.importer import import_oms
from app.services.suggestions import blind
from tests.conftest import AuthActions
from tests.helpers import PASSWORD, bearer, make_token
from tests.integration.conftest import run_worker
from tests.unit.suggestions.live_data import LUMISECTIONS, PENDING_RUNS, bad_range, make_live

pytestmark = [pytest.mark.redis, pytest.mark.s3, pytest.mark.databases("postgresql")]
SLUG = "live-tracker"
LATE_RUN = 109  # a run of the task whose lumisections are imported after the competition opened
BLIND_RUN, SHOWN_RUN = PENDING_RUNS[1:]  # certified blind, and with the suggestions in view
CERTIFIED = {
    "reco": "express",
    "pixel": "good",
    "strip": "good",
    "tracking": "good",
    "checklist": {"general": True, "pixel": True, "strip": True, "tracking": True},
}


def download(client, token: str, name: str) -> pd.DataFrame:
    """A file of the competition as a researcher gets it: a redirect to the store."""
    redirect = client.get(f"/api/v1/competitions/{SLUG}/files/{name}", headers=bearer(token))
    assert redirect.status_code == 302
    return pd.read_csv(io.BytesIO(requests.get(redirect.headers["Location"], timeout=10).content), dtype={"id": str})


def pending_runs(frame: pd.DataFrame) -> list[int]:
    return sorted({int(i.split("_")[0]) for i in frame["id"]})


def test_live_predictions_are_ranked_on_labels_approved_after_they_were_posted(stack):
    client = stack.test_client()
    with stack.app_context():
        setting = make_live(competition=False)
        db.session.add(Run(run_number=LATE_RUN))
        db.session.flush()
        db.session.add(TaskRun(task_id=setting.task.id, run_number=LATE_RUN))
        db.session.commit()
        task_id, version_id = setting.task.id, setting.version_id
        good, noisy = (make_token(user) for user in setting.researchers)
        shifter, leader = make_token(setting.shifter), make_token(setting.leader)

    created = stack.test_cli_runner().invoke(
        args=["competitions", "create", "--dataset-version", str(version_id), "--slug", SLUG, "--live"]
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip().splitlines()[-1] == SLUG

    for token in (good, noisy):
        joined = client.post(f"/api/v1/competitions/{SLUG}/join", headers=bearer(token), json={"accept_rules": True})
        assert joined.status_code == 200
    frame = download(client, good, "pending.csv")
    assert pending_runs(frame) == list(PENDING_RUNS)

    # One model knows where the bad ranges are; the other guesses.
    numbers = frame["id"].str.split("_", expand=True).astype(int)
    inside = [bad_range(run)[0] <= n <= bad_range(run)[1] for run, n in zip(numbers[0], numbers[1], strict=True)]
    knowing = np.where(inside, 0.9, 0.1) + np.random.default_rng(0).normal(scale=0.05, size=len(frame))
    guessing = np.random.default_rng(1).random(len(frame))
    posted = {}
    for token, scores in ((good, knowing.clip(0, 1)), (noisy, guessing)):
        body = pd.DataFrame({"id": frame["id"], "label": scores}).to_csv(index=False).encode()
        accepted = client.post(
            f"/api/v1/competitions/{SLUG}/live", headers=bearer(token), data={"file": (io.BytesIO(body), "live.csv")}
        )
        assert accepted.status_code == 202
        posted[token] = (accepted.get_json()["source_id"], scores)
    again = client.post(
        f"/api/v1/competitions/{SLUG}/live", headers=bearer(good), data={"file": (io.BytesIO(body), "live.csv")}
    )
    assert again.status_code == 429 and "Retry-After" in again.headers

    # Bad uploads change nothing: a score outside [0, 1], a run outside the task.
    def source_count() -> int:
        with stack.app_context():
            return len(db.session.execute(db.select(SuggestionSource.id)).all())

    before = source_count()
    for rows in (f"{SHOWN_RUN},1,1.5\n", "999999,1,0.5\n"):
        refused = client.post(
            f"/api/v1/tasks/{task_id}/suggestions",
            headers=bearer(leader),
            data={"file": (io.BytesIO(f"run,lumisection,score\n{rows}".encode()), "scores.csv"), "name": "bad"},
        )
        assert refused.status_code == 400, refused.get_json()
    assert source_count() == before

    # Live sources wait for a shift leader, who activates the knowing one.
    live_id = posted[good][0]
    listed = client.get(f"/api/v1/tasks/{task_id}/models", headers=bearer(leader)).get_json()
    listed = listed if isinstance(listed, list) else next(v for v in listed.values() if isinstance(v, list))
    source = next(s for s in listed if s["id"] == live_id)
    assert (source["kind"], source["active"], source["live"]) == ("live", False, None)
    activated = client.post(f"/api/v1/tasks/{task_id}/models/{live_id}", headers=bearer(leader), json={"active": True})
    assert activated.status_code == 200, activated.get_json()

    # One of the runs still to certify is drawn blind (a seed chosen so), the other is not.
    seed = next(s for s in range(10_000) if blind.blind_runs(s, PENDING_RUNS[1:], 0.5) == {BLIND_RUN})
    with stack.app_context():
        task = db.session.get_one(LabellingTask, task_id)
        task.blind_seed, task.blind_fraction = seed, 0.5
        db.session.commit()
    pages = stack.test_client()
    AuthActions(pages).login("sam", PASSWORD)

    def suggestions(run: int) -> dict:
        answer = client.get(f"/api/v1/tasks/{task_id}/runs/{run}/suggestions", headers=bearer(shifter))
        assert answer.status_code == 200
        return answer.get_json()

    def page(run: int) -> str:
        shown = pages.get(f"/tasks/{task_id}/runs/{run}")
        assert shown.status_code == 200
        return shown.get_data(as_text=True)

    assert suggestions(BLIND_RUN) == {"blind": True, "sources": []}
    assert source["name"] not in page(BLIND_RUN)
    [view] = suggestions(SHOWN_RUN)["sources"]
    assert view["id"] == live_id and view["suggested_ranges"] == [list(bad_range(SHOWN_RUN))]
    assert source["name"] in page(SHOWN_RUN)

    board = client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").get_json()["rows"]
    assert [(row["rank"], row["score"]) for row in board] == [(None, None), (None, None)]

    # Lumisections of the late run arrive; the worker adds them to pending.csv.
    with stack.app_context():
        import_oms({"run_number": [LATE_RUN] * 5, "lumisection_number": list(range(1, 6))})
    run_worker(stack)
    assert pending_runs(download(client, good, "pending.csv")) == [*PENDING_RUNS, LATE_RUN]

    # The shifter certifies both runs, taking up the suggestion where it is in view.
    certified = {}
    for run in PENDING_RUNS[1:]:
        first, last = bad_range(run)
        taken = {"origin": "suggested", "source_id": live_id}
        ranges = [{"first": first, "last": last, "components": ["tracking"], **taken}]
        body = CERTIFIED | {"run_number": run, "bad_lumisections": ranges, "comment": "tracking lost"}
        answer = client.post(f"/api/v1/tasks/{task_id}/certifications", headers=bearer(shifter), json=body)
        assert answer.status_code == 201, answer.get_json()
        certified[run] = answer.get_json()

    def origins(run: int) -> list[tuple[str, int | None]]:
        answer = client.get(f"/api/v1/certifications/{certified[run]['id']}", headers=bearer(shifter)).get_json()
        return [(r["origin"], r.get("source_id")) for r in answer["bad_lumisections"]]

    assert origins(SHOWN_RUN) == [("suggested", live_id)]
    assert origins(BLIND_RUN) == [("manual", None)]  # it could not have been seen
    # Certified, the blind run reveals its suggestions; the shifter narrows the model's range.
    assert suggestions(BLIND_RUN)["sources"][0]["suggested_ranges"] == [list(bad_range(BLIND_RUN))]
    assert source["name"] in page(BLIND_RUN)
    first, last = bad_range(BLIND_RUN)
    edited_range = {"first": first, "last": last - 1, "components": ["tracking"], "origin": "suggested"}
    edited = client.put(
        f"/api/v1/certifications/{certified[BLIND_RUN]['id']}",
        headers=bearer(shifter),
        json=CERTIFIED | {"bad_lumisections": [edited_range | {"source_id": live_id}], "comment": "after the reveal"},
    )
    assert edited.status_code == 200, edited.get_json()
    assert origins(BLIND_RUN) == [("suggested_edited", live_id)]

    # A shift leader approves both; the worker scores the live sources on them.
    for run in PENDING_RUNS[1:]:
        reviewed = client.post(
            f"/api/v1/certifications/{certified[run]['id']}/review",
            headers=bearer(leader),
            json={"decision": "approve"},
        )
        assert reviewed.status_code == 200, reviewed.get_json()
    run_worker(stack)

    board = client.get(f"/api/v1/competitions/{SLUG}/live-leaderboard").get_json()["rows"]
    assert [row["source_id"] for row in board] == [posted[good][0], posted[noisy][0]]
    assert [row["rank"] for row in board] == [1, 2]
    assert all((row["runs"], row["lumisections"]) == (2, 2 * LUMISECTIONS) for row in board)
    # The score is the competition's metric on the lumisections of the newly approved runs.
    approved = numbers[0].isin(PENDING_RUNS[1:]).to_numpy()

    def certified_bad(run: int, n: int) -> bool:  # the blind run's range was narrowed by one after the reveal
        first, last = bad_range(run)
        return first <= n <= last - (run == BLIND_RUN)

    labels = np.array([certified_bad(r, n) for r, n in zip(numbers[0], numbers[1], strict=True)])[approved].astype(int)
    with stack.app_context():
        weights = [
            max(lumi, 0.0)
            for (lumi,) in db.session.execute(
                db.select(Lumisection.recorded_lumi)
                .where(Lumisection.run_number.in_(PENDING_RUNS[1:]))
                .order_by(Lumisection.run_number, Lumisection.number)
            )
        ]
    expected = roc_auc_score(labels, posted[good][1][approved], sample_weight=weights)
    assert board[0]["score"] == pytest.approx(expected, abs=1e-12)
    assert pending_runs(download(client, good, "pending.csv")) == [PENDING_RUNS[0], LATE_RUN]

    with stack.app_context():
        assert db.session.get_one(SuggestionSource, live_id).live.score == board[0]["score"]

    # The models list and page show the live measures the worker computed.
    listed = client.get(f"/api/v1/tasks/{task_id}/models", headers=bearer(leader)).get_json()
    listed = listed if isinstance(listed, list) else next(v for v in listed.values() if isinstance(v, list))
    live = next(s for s in listed if s["id"] == live_id)["live"]
    assert (live["runs"], live["lumisections"]) == (2, 2 * LUMISECTIONS)
    assert live["roc_auc"] == pytest.approx(expected, abs=1e-9)  # weighted by luminosity, as the board
    leaders = stack.test_client()
    AuthActions(leaders).login("lea", PASSWORD)
    models_page = leaders.get(f"/tasks/{task_id}/models")
    assert models_page.status_code == 200
    assert source["name"] in models_page.get_data(as_text=True)
