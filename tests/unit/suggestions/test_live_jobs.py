"""Live competitions are told of imports and approvals: a job by path when one is live, nothing otherwise, and
a queue outage never undoes what was committed."""

from __future__ import annotations

import logging

from app.extensions import db
from app.models import Competition
from app.services.suggestions import live_jobs
from tests.unit.suggestions.live_data import make_live


def recorder(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(live_jobs, "enqueue", lambda job, argument: calls.append((job, argument)))
    return calls


def test_nothing_is_enqueued_while_no_competition_is_live(app, monkeypatch):
    calls = recorder(monkeypatch)
    with app.app_context():
        setting = make_live()
        for competition in db.session.execute(db.select(Competition)).scalars():
            competition.live = False
        db.session.commit()
        live_jobs.runs_imported([7, 3])
        live_jobs.approvals_changed(setting.task.id)
    assert calls == []


def test_imports_and_approvals_of_a_live_task_enqueue_their_jobs(app, monkeypatch):
    calls = recorder(monkeypatch)
    with app.app_context():
        setting = make_live()
        live_jobs.runs_imported({9: None, 4: None})
        live_jobs.runs_imported([])
        live_jobs.approvals_changed(setting.task.id)
        live_jobs.approvals_changed(setting.task.id + 1000)  # a task no live competition serves
    assert calls == [(live_jobs.RUNS_IMPORTED_JOB, [4, 9]), (live_jobs.APPROVALS_JOB, setting.task.id)]


def test_a_queue_outage_is_logged_not_raised(app, monkeypatch, caplog):
    def down(job, argument):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(live_jobs, "enqueue", down)
    with app.app_context(), caplog.at_level(logging.ERROR, logger=live_jobs.__name__):
        setting = make_live()
        live_jobs.approvals_changed(setting.task.id)
    assert "could not enqueue" in caplog.text
