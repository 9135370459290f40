"""What the API returns, as typed, read-only records."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record(cls: Callable[..., T], data: dict[str, Any], **converted: Any) -> T:
    """Build cls from the fields of data it knows; fields added to the API later are kept in ``raw``."""
    known = set(inspect.signature(cls).parameters)
    values = {name: data.get(name) for name in known if name != "raw"}
    values.update(converted)
    return cls(raw=data, **values)


@dataclass(frozen=True)
class Quota:
    """What the caller may still submit to a competition."""

    remaining_today: int
    remaining_total: int | None
    next_slot_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quota:
        """The quota as ``GET /competitions/{slug}`` lists it."""
        return _record(cls, data, next_slot_at=_time(data.get("next_slot_at")))


@dataclass(frozen=True)
class Competition:
    """A competition; ``joined`` and ``quota`` are only known from ``Client.competition``."""

    slug: str
    title: str
    phase: str
    metric: str
    opens_at: datetime | None
    closes_at: datetime | None
    daily_limit: int
    total_limit: int | None
    final_selections: int
    participants: int
    joined: bool | None = None
    quota: Quota | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Competition:
        """A competition as the API lists or details it."""
        quota = data.get("quota")
        return _record(
            cls,
            data,
            opens_at=_time(data.get("opens_at")),
            closes_at=_time(data.get("closes_at")),
            quota=Quota.from_json(quota) if quota else None,
        )


@dataclass(frozen=True)
class PublicFile:
    """A public file of a competition, with the size and sha256 a download is checked against."""

    name: str
    size: int
    sha256: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublicFile:
        """A file as ``GET /competitions/{slug}/files`` lists it."""
        return _record(cls, data)


@dataclass(frozen=True)
class Submission:
    """One submission and, once scored, its scores; ``private_score`` is None until the caller may see it."""

    id: int
    competition: str
    participant: str
    status: str
    description: str
    file_name: str
    file_size: int
    file_sha256: str
    public_score: float | None
    private_score: float | None
    error: str | None
    counted: bool
    selected: bool
    submitted_at: datetime | None
    finished_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Submission:
        """A submission as ``GET /submissions/{id}`` returns it."""
        return _record(
            cls, data, submitted_at=_time(data.get("submitted_at")), finished_at=_time(data.get("finished_at"))
        )

    @property
    def finished(self) -> bool:
        """Whether scoring is over: scored or failed."""
        return self.status in ("scored", "failed")


@dataclass(frozen=True)
class LeaderboardRow:
    """One participant's line on a leaderboard; baselines have no rank."""

    rank: int | None
    participant: str
    score: float
    submissions: int
    last_submitted_at: datetime | None
    baseline: bool = False
    team: str | None = None  # the team's name; None for a participant alone
    members: list[str] | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeaderboardRow:
        """A row as ``GET /competitions/{slug}/leaderboard`` returns it."""
        return _record(cls, data, last_submitted_at=_time(data.get("last_submitted_at")))


@dataclass(frozen=True)
class Team:
    """A team of a competition; the invite token is shown to its members only."""

    id: int
    name: str
    competition: str
    leader: str
    members: list[str]
    submissions: int
    invite_token: str | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Team:
        """A team as ``GET /teams/{id}`` returns it."""
        return _record(cls, data, members=[m["username"] for m in data.get("members") or []])


@dataclass(frozen=True)
class Export:
    """An organiser's zip of every submission file of a competition, built by a job."""

    id: int
    competition: str
    status: str
    file_name: str
    files: int | None
    size: int | None
    sha256: str | None
    error: str | None
    requested_at: datetime | None
    finished_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Export:
        """An export as ``GET /exports/{id}`` returns it."""
        return _record(
            cls, data, requested_at=_time(data.get("requested_at")), finished_at=_time(data.get("finished_at"))
        )

    @property
    def finished(self) -> bool:
        """Whether the job is over: ready or failed."""
        return self.status in ("ready", "failed")
