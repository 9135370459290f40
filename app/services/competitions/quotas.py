"""Submission quotas: how many a participant has left, and when the next slot frees up.

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
