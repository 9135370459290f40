"""Daily and weekly shift reports: a page, CSV and e-log text, for shift leaders."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Role
from app.models.types import utcnow
from app.services.certification import workflow as service
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file
from tests.helpers import PASSWORD, make_user


@pytest.fixture
def certified(app, tmp_path):
    """Two runs certified today by two shifters, one edited to bad pixel."""
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]]}')
    checklist = {"general": True, "pixel": True, "strip": True, "tracking": True}
    base = {"pixel": "good", "strip": "good", "tracking": "good", "checklist": checklist}
    with app.app_context():
        import_file(mask, "dcs")
        sam, sue = make_user("sam", Role.SHIFTER), make_user("sue", Role.SHIFTER)
        make_user("lea", Role.SHIFT_LEADER)
        make_user("rita")
        task = create_task("express-2018", "express")
        first = service.certify(task, sam, base | {"run_number": 315257})
        service.certify(
            task, sue, base | {"run_number": 315259, "bad_lumisections": [{"first": 5, "last": 9}], "comment": "hole"}
        )
        service.edit(first, sam, base | {"pixel": "bad", "comment": "pixel off"})
    today = utcnow().date()
    return {"day": today.isoformat(), "week": f"{today.isocalendar().year}-W{today.isocalendar().week:02d}"}


def test_daily_report_page_csv_and_text(client, auth, certified):
    auth.login("lea", PASSWORD)
    page = client.get(f"/reports/daily/{certified['day']}").get_data(as_text=True)
    assert "2 runs certified" in page and "Per shifter: sam 1, sue 1" in page and "pixel good→bad" in page
    rows = client.get(f"/reports/daily/{certified['day']}?format=csv").get_data(as_text=True).splitlines()
    assert rows[0].startswith("run,reco,pixel,strip,tracking,bad_ranges") and len(rows) == 3
    assert rows[2].startswith("315259,express,good,good,good,5-9,sue,pending")
    text = client.get(f"/reports/daily/{certified['day']}?format=text").get_data(as_text=True)
    assert text.startswith(f"Tracker certification report, day {certified['day']}")
    assert "  pixel: 1 good, 1 bad, 0 excluded" in text and "run 315259 (express): good/good/good, bad LS 5-9" in text


def test_weekly_report_and_an_empty_day(client, auth, certified):
    auth.login("lea", PASSWORD)
    tasks_page = client.get("/tasks").get_data(as_text=True)
    assert f'href="/reports/daily/{certified["day"]}"' in tasks_page
    assert f'href="/reports/weekly/{certified["week"]}"' in tasks_page
    assert "2 runs certified" in client.get(f"/reports/weekly/{certified['week']}").get_data(as_text=True)
    assert "0 runs certified" in client.get("/reports/daily/2001-01-01").get_data(as_text=True)


def test_bad_periods_and_roles(client, auth, certified):
    auth.login("lea", PASSWORD)
    assert client.get("/reports/daily/yesterday").status_code == 404
    assert client.get("/reports/weekly/2026-W99").status_code == 404
    auth.logout()
    auth.login("rita", PASSWORD)
    assert client.get(f"/reports/daily/{certified['day']}").status_code == 403


def test_only_changed_certifications_are_listed_as_changes(app, client, auth, certified):
    with app.app_context():
        service.audit(None, "edit", "labelling_task", 1, {"checklists": []}, {"checklists": []})
        db.session.commit()
    auth.login("lea", PASSWORD)
    page = client.get(f"/reports/daily/{certified['day']}").get_data(as_text=True)
    assert page.count("<li>certification ") == 1 and "pixel good→bad" in page
    assert "ranges or comment" not in page
