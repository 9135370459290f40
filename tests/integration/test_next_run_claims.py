"""The next run on PostgreSQL with two shifters: one after the other they get the runs in rank order; asking at
the same time, each goes down the ranks and every run is handed out, and certified, exactly once."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.extensions import db
from app.models import Certification, Role, RunClaim
from app.services.runs.importer import import_oms
from tests.conftest import make_app
from tests.helpers import bearer, make_token, make_user

pytestmark = pytest.mark.databases("postgresql")
RUNS = 12
FIRST_RUN = 380001
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}


def uncertainty_task(app, runner_args=("--order", "uncertainty")) -> tuple[int, list[int], dict[str, str]]:
    """A task of twelve runs of ten lumisections and a source whose scores make run i the i-th most uncertain
    (its scores sit i/30 above the threshold); returns the task, the runs in rank order and the tokens."""
    runs = [FIRST_RUN + i for i in range(RUNS)]
    distance = {run: (1 + (7 * i) % RUNS) / 30 for i, run in enumerate(runs)}  # ranks shuffled against numbers
    with app.app_context():
        import_oms(
            {"run_number": [r for r in runs for _ in range(10)], "lumisection_number": list(range(1, 11)) * RUNS}
        )
        tokens = {
            name: make_token(make_user(name, role))
            for name, role in (("sam", Role.SHIFTER), ("sue", Role.SHIFTER), ("lea", Role.SHIFT_LEADER))
        }
    result = app.test_cli_runner().invoke(
        args=["tasks", "create", "queue", "--reco", "express", "--runs", f"{FIRST_RUN}-", *runner_args]
    )
    assert result.exit_code == 0, result.output
    task = int(result.stdout.split()[-1])
    scores = "run,lumisection,score\n" + "".join(
        f"{run},{n},{0.5 + distance[run]}\n" for run in runs for n in range(1, 11)
    )
    created = app.test_client().post(
        f"/api/v1/tasks/{task}/suggestions",
        headers=bearer(tokens["lea"]),
        data={"name": "ae", "file": (io.BytesIO(scores.encode()), "s.csv")},
    )
    assert created.status_code == 201, created.get_json()
    return task, sorted(runs, key=distance.get), tokens


def ask(app, task: int, token: str) -> int | None:
    answer = app.test_client().get(f"/api/v1/tasks/{task}/next", headers=bearer(token))
    assert answer.status_code in (200, 404), answer.get_json()
    return answer.get_json()["run_number"] if answer.status_code == 200 else None


def certify(app, task: int, token: str, run: int) -> None:
    body = {"run_number": run, "pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST}
    response = app.test_client().post(f"/api/v1/tasks/{task}/certifications", headers=bearer(token), json=body)
    assert response.status_code == 201, response.get_json()


def test_shifters_asking_one_after_another_get_the_runs_in_rank_order(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    task, ranked, tokens = uncertainty_task(app)
    given = []
    for turn in range(RUNS):
        token = tokens["sam" if turn % 2 == 0 else "sue"]
        run = ask(app, task, token)
        given.append(run)
        certify(app, task, token, run)
    assert given == ranked
    assert ask(app, task, tokens["sam"]) is None and ask(app, task, tokens["sue"]) is None
    with app.app_context():
        db.engine.dispose()


def test_two_shifters_asking_at_once_each_get_runs_of_their_own_down_the_ranks(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    task, ranked, tokens = uncertainty_task(app)
    start = threading.Barrier(2)

    def shift(name: str) -> list[int]:
        taken = []
        start.wait()
        while (run := ask(app, task, tokens[name])) is not None:
            taken.append(run)
            certify(app, task, tokens[name], run)
        return taken

    for _ in range(3):  # the first asks of both meet on the best run: one claim wins, the other moves on
        with app.app_context():
            db.session.execute(db.delete(RunClaim))
            db.session.execute(db.delete(Certification))
            db.session.commit()
        with ThreadPoolExecutor(max_workers=2) as pool:
            sam, sue = pool.map(shift, ("sam", "sue"))
        assert sorted(sam + sue) == sorted(ranked), (sam, sue)
        assert ranked[0] in (sam[0], sue[0]), "whoever asked first got the best run"
        for taken in (sam, sue):
            assert taken == sorted(taken, key=ranked.index), "each shifter goes down the ranks"
    with app.app_context():
        counts = db.session.execute(
            db.select(Certification.run_number, db.func.count()).group_by(Certification.run_number)
        ).all()
        assert sorted(counts) == [(run, 1) for run in sorted(ranked)]
        db.engine.dispose()
