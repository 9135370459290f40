"""Daily and weekly shift reports: a page, CSV and e-log text, for shift leaders."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import BadRange, Certification, ReviewState, Role, Run
from app.models.certification import Status
from app.models.types import utcnow
from app.services.certification import reports
from app.services.certification import workflow as service
from app.services.certification.tasks import create_task
from app.services.errors import Refused
from app.services.runs.importer import import_file, import_oms
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


def test_a_certification_belongs_to_the_utc_day_and_iso_week_it_was_made_in(app, certified):
    with app.app_context():
        late = db.session.execute(db.select(Certification).where(Certification.run_number == 315257)).scalar_one()
        early = db.session.execute(db.select(Certification).where(Certification.run_number == 315259)).scalar_one()
        late.created_at = datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)  # Sunday, the last second of week 48
        early.created_at = datetime(2026, 11, 30, tzinfo=UTC)  # Monday, the first of week 49
        db.session.get(Run, 315257).recorded_lumi = 1.5
        db.session.commit()

        sunday = reports.build(*reports.day_period("2026-11-29"))
        assert [c.run_number for c in sunday.certifications] == [315257]
        assert (sunday.title, sunday.certified_lumi, dict(sunday.per_shifter)) == ("2026-11-29", 1.5, {"sam": 1})
        assert dict(sunday.per_component["pixel"]) == {"bad": 1}  # as the run stands now, after its edit
        week_48, week_49 = (
            reports.build(*reports.week_period("2026-W48")),
            reports.build(*reports.week_period("2026-W49")),
        )
        assert [c.run_number for c in week_48.certifications] == [315257]
        assert [c.run_number for c in week_49.certifications] == [315259]
        assert reports.to_csv(week_49).splitlines()[1].startswith("315259,express,good,good,good,5-9,sue,pending,")


def test_an_empty_period_still_reports_its_counts():
    empty = reports.Report("day 2001-01-01", [], per_component={"pixel": {}}, certified_lumi=0.0)
    text = reports.to_text(empty)
    assert text.startswith("Tracker certification report, day 2001-01-01\n")
    assert "Runs certified: 0; recorded luminosity: 0 pb⁻¹" in text
    assert "  pixel: 0 good, 0 bad, 0 excluded; luminosity lost: 0 pb⁻¹" in text
    assert reports.to_csv(empty).splitlines() == [
        "run,reco,pixel,strip,tracking,bad_ranges,certifier,review,certified_at,comment,range_origins,"
        "recorded(/pb),pixel_lost(/pb),strip_lost(/pb),tracking_lost(/pb)"
    ]


@pytest.mark.parametrize(
    ("period", "text", "example"),
    [
        (reports.day_period, "2026-02-30", "a date such as 2026-11-28"),
        (reports.day_period, "yesterday", "a date such as 2026-11-28"),
        (reports.week_period, "2025-W53", "an ISO week such as 2026-W48"),  # 2025 has 52 ISO weeks
        (reports.week_period, "2026-11-28", "an ISO week such as 2026-W48"),
    ],
)
def test_a_period_that_does_not_read_is_refused_with_an_example(period, text, example):
    with pytest.raises(Refused, match=example):
        period(text)


def test_weeks_run_monday_to_monday_in_utc():
    start, end, title = reports.week_period("2026-W53")  # 2026 has 53 ISO weeks
    assert (start, end, title) == (datetime(2026, 12, 28, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC), "2026-W53")


def _oms(run: int, lumisections: int, recorded: float) -> dict:
    """An OMS document of a run whose lumisections each recorded the same luminosity (pb⁻¹)."""
    return {
        "run_number": [run] * lumisections,
        "lumisection_number": list(range(1, lumisections + 1)),
        "recorded_lumi_per_lumisection": [recorded] * lumisections,
    }


@pytest.fixture
def with_luminosity(app, certified):
    """The two certified runs with 1 nb⁻¹ per lumisection in 315257 (88 LS) and 2 nb⁻¹ in 315259 (172 LS)."""
    with app.app_context():
        import_oms(_oms(315257, 88, 1e-3))
        import_oms(_oms(315259, 172, 2e-3))
    return certified


def test_reports_give_the_luminosity_lost_per_component(app, client, auth, with_luminosity):
    """Pixel lost all of 315257 (88 nb⁻¹) and LS 5-9 of 315259 (10 nb⁻¹); strip and tracking those 10 nb⁻¹."""
    with app.app_context():
        report = reports.build(*reports.day_period(with_luminosity["day"]))
        assert report.certified_lumi == pytest.approx(0.432)  # 88 + 344 nb⁻¹
        assert report.lost_lumi == pytest.approx({"pixel": 0.098, "strip": 0.010, "tracking": 0.010})
    auth.login("lea", PASSWORD)
    text = client.get(f"/reports/daily/{with_luminosity['day']}?format=text").get_data(as_text=True)
    assert "Runs certified: 2; recorded luminosity: 432 nb⁻¹" in text
    assert "  pixel: 1 good, 1 bad, 0 excluded; luminosity lost: 98 nb⁻¹ (22.7% of recorded)" in text
    assert "  strip: 2 good, 0 bad, 0 excluded; luminosity lost: 10 nb⁻¹ (2.3% of recorded)" in text
    page = client.get(f"/reports/daily/{with_luminosity['day']}").get_data(as_text=True)
    assert 'data-testid="recorded-lumi">432 nb⁻¹<' in page
    assert 'data-testid="lost-pixel">98 nb⁻¹ (22.7% of recorded)<' in page
    assert 'data-testid="lost-tracking">10 nb⁻¹ (2.3% of recorded)<' in page
    body = client.get(f"/reports/daily/{with_luminosity['day']}?format=csv").get_data(as_text=True)
    rows = {row["run"]: row for row in csv.DictReader(io.StringIO(body))}
    lost = {run: [float(row[f"{c}_lost(/pb)"]) for c in ("pixel", "strip", "tracking")] for run, row in rows.items()}
    assert lost["315257"] == pytest.approx([0.088, 0.0, 0.0])
    assert lost["315259"] == pytest.approx([0.010, 0.010, 0.010])
    assert float(rows["315259"]["recorded(/pb)"]) == pytest.approx(0.344)


def test_a_rejected_certification_loses_no_luminosity_in_the_totals(app, with_luminosity):
    with app.app_context():
        pixel_bad = db.session.execute(db.select(Certification).where(Certification.run_number == 315257)).scalar_one()
        pixel_bad.review_state = ReviewState.REJECTED
        db.session.commit()
        report = reports.build(*reports.day_period(with_luminosity["day"]))
        assert report.lost_lumi["pixel"] == pytest.approx(0.010)
        assert report.lost_by_certification[pixel_bad.id]["pixel"] == pytest.approx(0.088)  # its own CSV row


def _certification(run: int, *ranges: tuple[int, int, list[str]], **statuses: Status) -> Certification:
    flags = {c: statuses.get(c, Status.GOOD) for c in ("pixel", "strip", "tracking")}
    certification = Certification(run_number=run, **flags)
    certification.bad_ranges = [BadRange(first=a, last=b, components=components) for a, b, components in ranges]
    return certification


def test_lost_luminosity_counts_each_lumisection_once_per_component():
    recorded = {1: {n: 1.0 for n in range(1, 11)}, 2: {1: 5.0, 2: 7.0}}
    first = _certification(1, (2, 4, ["strip"]), (9, 12, ["strip", "tracking"]))
    copy = _certification(1, (3, 5, ["strip"]))  # a second copy overlapping the first
    whole = _certification(2, tracking=Status.BAD)
    excluded = _certification(2, pixel=Status.EXCLUDED)  # excluded is not bad
    lost = reports.lost_luminosity([first, copy, whole, excluded], recorded)
    # strip: 2-5 and 9-10 of run 1 (LS 11-12 recorded nothing); tracking: 9-10 of run 1 and the whole of run 2
    assert lost == {"pixel": 0.0, "strip": 6.0, "tracking": 14.0}
    assert reports.lost_luminosity([], recorded) == {"pixel": 0.0, "strip": 0.0, "tracking": 0.0}
    assert reports.lost_luminosity([whole], {}) == {"pixel": 0.0, "strip": 0.0, "tracking": 0.0}
