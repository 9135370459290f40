"""When the demo's researchers submit, without seeding the demo."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from demo.competitions import schedule


def test_submissions_are_spread_over_the_days_and_each_day_stays_within_the_limit():
    start, end = datetime(2026, 11, 1, 15, tzinfo=UTC), datetime(2026, 11, 15, 12, tzinfo=UTC)
    authors = ["rita"] * 3 + ["ravi"] * 20 + ["mia"] * 2
    times = schedule(authors, start, end, daily_limit=2)
    assert all(start <= when < end for when in times)
    per_day = Counter((author, when.date()) for author, when in zip(authors, times, strict=True))
    assert max(per_day.values()) <= 2
    ravi = sorted(when for author, when in zip(authors, times, strict=True) if author == "ravi")
    assert (ravi[-1] - ravi[0]).days >= 10 and len(set(ravi)) == 20
    assert len({when.date() for when in times}) >= 10


def test_a_schedule_that_cannot_keep_the_daily_limit_is_refused():
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="a day"):
        schedule(["ravi"] * 5, start, end, daily_limit=2)
