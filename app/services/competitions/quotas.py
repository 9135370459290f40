"""Submission quotas: how many an entrant (a team, or a participant alone) has left, when the next slot frees up,
and how many submissions a team coming out of a merge may have.

Quotas count per UTC day, as the rules page says; submissions that failed are
refunded, so only counted ones are passed in here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class Quota:
    """What a participant may still submit."""

    remaining_today: int
    remaining_total: int | None  # None: no total limit
    next_slot_at: datetime | None  # now when a slot is free; None when none will ever be

    @property
    def exhausted(self) -> bool:
        """Whether a submission now would be refused."""
        return self.remaining_today <= 0 or self.remaining_total == 0

    def retry_after(self, now: datetime) -> int | None:
        """Whole seconds until the next slot, for a Retry-After header."""
        if self.next_slot_at is None:
            return None
        return max(1, math.ceil((self.next_slot_at - now).total_seconds()))

    def as_json(self) -> dict:
        """The quota as the API returns it."""
        return {
            "remaining_today": self.remaining_today,
            "remaining_total": self.remaining_total,
            "next_slot_at": self.next_slot_at.isoformat() if self.next_slot_at else None,
        }


def utc_day_start(now: datetime) -> datetime:
    """Midnight UTC that began the day of now."""
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def compute_quota(
    now: datetime,
    *,
    used_today: int,
    used_total: int,
    daily_limit: int,
    total_limit: int | None,
    closes_at: datetime | None = None,
) -> Quota:
    """The quota left given the counted submissions of today and of all time."""
    remaining_total = None if total_limit is None else max(0, total_limit - used_total)
    remaining_today = max(0, daily_limit - used_today)
    if remaining_total is not None:
        remaining_today = min(remaining_today, remaining_total)
    if remaining_total == 0:
        next_slot = None
    elif remaining_today > 0:
        next_slot = now
    else:
        next_slot = utc_day_start(now) + timedelta(days=1)
    if next_slot is not None and closes_at is not None and next_slot >= closes_at:
        next_slot = None
    return Quota(remaining_today, remaining_total, next_slot)


def days_open(opened_at: datetime, now: datetime) -> int:
    """Days since the competition opened as the merge rule counts them: elapsed hours / 24 rounded up, at least 1."""
    return max(1, math.ceil((now - opened_at).total_seconds() / 86400))


def merge_refusal(
    submissions: int, *, daily_limit: int, total_limit: int | None, opened_at: datetime, now: datetime
) -> str | None:
    """Why a team of that many counted submissions may not come out of a merge now, or None when it may.

    Kaggle's rule: a merged team may have made at most daily_limit x days since the opening, so that merging
    never buys more submissions than one team could have made; and never more than the total limit.
    """
    days = days_open(opened_at, now)
    allowed = daily_limit * days
    if submissions > allowed:
        plural = "" if days == 1 else "s"
        return (
            f"The merged team would have {submissions} submissions; a team may have made at most {allowed} by now "
            f"({daily_limit} a day x {days} day{plural} since the competition opened)."
        )
    if total_limit is not None and submissions > total_limit:
        return f"The merged team would have {submissions} submissions; a team may make at most {total_limit} in all."
    return None
