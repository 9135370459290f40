"""Quota arithmetic: per UTC day, failures refunded by the caller, and the time of the next slot."""

from datetime import UTC, datetime, timedelta

from app.services.competitions.quotas import compute_quota, utc_day_start

NOW = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)


def quota(**kw):
    args = {"used_today": 0, "used_total": 0, "daily_limit": 5, "total_limit": None} | kw
    return compute_quota(NOW, **args)


def test_fresh_participant_has_the_daily_limit_now():
    q = quota()
    assert (q.remaining_today, q.remaining_total, q.next_slot_at) == (5, None, NOW)
    assert not q.exhausted


def test_used_up_day_waits_for_midnight_utc():
    q = quota(used_today=5, used_total=12)
    assert q.exhausted and q.remaining_today == 0
    assert q.next_slot_at == MIDNIGHT
    assert q.retry_after(NOW) == 8 * 3600 + 30 * 60


def test_total_limit_caps_the_day_and_never_frees_again():
    assert quota(used_today=1, used_total=9, total_limit=10).remaining_today == 1
    q = quota(used_today=2, used_total=10, total_limit=10)
    assert q.exhausted and q.remaining_total == 0 and q.next_slot_at is None and q.retry_after(NOW) is None


def test_no_next_slot_when_the_competition_closes_before_midnight():
    q = compute_quota(
        NOW, used_today=5, used_total=5, daily_limit=5, total_limit=None, closes_at=NOW + timedelta(hours=1)
    )
    assert q.exhausted and q.next_slot_at is None


def test_day_starts_at_midnight_utc():
    assert utc_day_start(NOW) == datetime(2026, 11, 28, tzinfo=UTC)


def test_api_form_of_the_quota():
    assert quota(used_today=5).as_json() == {
        "remaining_today": 0,
        "remaining_total": None,
        "next_slot_at": "2026-11-29T00:00:00+00:00",
    }
