"""Quota arithmetic: per UTC day, failures refunded by the caller, the time of the next slot, and how many
submissions a team coming out of a merge may have."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.services.competitions.quotas import compute_quota, days_open, merge_refusal, utc_day_start

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


# The merge rule: a merged team may have made at most daily_limit x days since the opening, days being the
# elapsed hours / 24 rounded up and at least 1.

OPENED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
# A submission history: each submission's offset from the opening in minutes, and whether it counts (failed
# ones are refunded and count for nothing).
histories = st.lists(st.tuples(st.integers(0, 60 * 24 * 40), st.booleans()), max_size=120)


def days_by_stepping(opened_at: datetime, now: datetime) -> int:
    """The days the rule counts, found by walking whole 24-hour steps from the opening: an independent oracle."""
    days = 1
    while opened_at + timedelta(hours=24 * days) < now:
        days += 1
    return days


@given(
    first=histories,
    second=histories,
    daily_limit=st.integers(1, 20),
    elapsed=st.integers(0, 60 * 24 * 45),
)
def test_merge_is_refused_exactly_when_the_merged_history_exceeds_the_limit(first, second, daily_limit, elapsed):
    now = OPENED + timedelta(minutes=elapsed)
    made = [minute for minute, counted in first + second if counted and minute <= elapsed]
    refusal = merge_refusal(len(made), daily_limit=daily_limit, total_limit=None, opened_at=OPENED, now=now)
    allowed = daily_limit * days_by_stepping(OPENED, now)
    assert (refusal is None) == (len(made) <= allowed)
    if refusal is not None:  # the message gives the numbers a leader needs
        days = days_by_stepping(OPENED, now)
        assert f"{len(made)} submissions" in refusal and f"at most {allowed}" in refusal
        assert f"{daily_limit} a day x {days} day" in refusal


@given(count=st.integers(0, 500), daily_limit=st.integers(1, 20), elapsed=st.integers(0, 60 * 24 * 45))
def test_a_merge_allowed_now_stays_allowed_later(count, daily_limit, elapsed):
    now = OPENED + timedelta(minutes=elapsed)
    if merge_refusal(count, daily_limit=daily_limit, total_limit=None, opened_at=OPENED, now=now) is None:
        later = now + timedelta(hours=7)
        assert merge_refusal(count, daily_limit=daily_limit, total_limit=None, opened_at=OPENED, now=later) is None


def test_days_are_elapsed_hours_over_24_rounded_up_and_at_least_one():
    assert days_open(OPENED, OPENED) == 1
    assert days_open(OPENED, OPENED - timedelta(hours=3)) == 1  # before the opening: still one day
    assert days_open(OPENED, OPENED + timedelta(hours=24)) == 1
    assert days_open(OPENED, OPENED + timedelta(hours=24, minutes=1)) == 2
    assert days_open(OPENED, OPENED + timedelta(hours=49)) == 3


def test_the_total_limit_also_bounds_a_merge():
    later = OPENED + timedelta(days=30)
    refusal = merge_refusal(12, daily_limit=5, total_limit=10, opened_at=OPENED, now=later)
    assert refusal is not None and "at most 10 in all" in refusal
    assert merge_refusal(10, daily_limit=5, total_limit=10, opened_at=OPENED, now=later) is None
