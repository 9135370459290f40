"""The phases of a competition: development, final and so on, each with its own boards.

A phase may bring its own files, solution, metric and limits; what it does not set, it takes from its
competition. Its dates are its own, except that the first phase opens when the competition opens and the last
closes when the competition closes (stored as None), so that changing the competition's dates moves them.
A competition without declared phases has exactly one, named ``main``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.datasets import DatasetFile, DatasetVersion, FileKind
from app.models.types import UTCDateTime

if TYPE_CHECKING:
    from app.models.competitions import Competition

DEFAULT_PHASE = "main"


class Phase(enum.StrEnum):
    """Where a competition, or one of its phases, stands in time."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def stage_at(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> Phase:
    """Where a span from opens_at to closes_at (either None: unbounded) stands at now."""
    if opens_at is not None and now < opens_at:
        return Phase.UPCOMING
    if closes_at is not None and now >= closes_at:
        return Phase.CLOSED
    return Phase.OPEN


@dataclass(frozen=True)
class Window:
    """When a phase accepts submissions: from opens_at (None: always has) until closes_at (None: never closes)."""

    name: str
    opens_at: datetime | None
    closes_at: datetime | None

    def state(self, now: datetime) -> Phase:
        """Upcoming before it opens, closed once it closed, open in between."""
        return stage_at(self.opens_at, self.closes_at, now)

    def opened(self, now: datetime) -> bool:
        """Whether the phase has opened (open or closed): its files may be downloaded."""
        return self.state(now) is not Phase.UPCOMING


def windows(
    opens_at: datetime | None,
    closes_at: datetime | None,
    phases: Sequence[tuple[str, datetime | None, datetime | None]],
) -> list[Window]:
    """Each phase's window from its (name, opens_at, closes_at) in order and the competition's own dates.

    The first phase opens when the competition does unless it says otherwise, the last closes when it does; an
    inner boundary given on one side only (a phase's close, or the next one's opening) holds for both.
    """
    last = len(phases) - 1
    result = []
    for index, (name, opens, closes) in enumerate(phases):
        if opens is None:
            opens = opens_at if index == 0 else phases[index - 1][2]
        if closes is None:
            closes = closes_at if index == last else phases[index + 1][1]
        result.append(Window(name, opens, closes))
    return result


class CompetitionPhase(Model):
    """One stretch of a competition with its own boards; overrides of the competition's settings are optional."""

    __tablename__ = "competition_phases"
    __table_args__ = (UniqueConstraint("competition_id", "name"), UniqueConstraint("competition_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int]
    opens_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # None on the first: the competition's
    closes_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # None on the last: the competition's
    # Where the phase's files and solution live when not in the competition's version (a final phase published
    # from a labelling task), and which public files of it are the phase's (None: every one).
    dataset_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    files: Mapped[Optional[list]] = mapped_column(JSON)
    solution_file_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dataset_files.id"))
    metric: Mapped[Optional[str]] = mapped_column(String(50))
    metric_params: Mapped[Optional[dict]] = mapped_column(JSON)
    daily_limit: Mapped[Optional[int]]
    total_limit: Mapped[Optional[int]]
    final_selections: Mapped[Optional[int]]
    # A final phase built from runs of a labelling task approved after a cutoff: what it was built from.
    source_task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="SET NULL"))
    approved_after: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    competition: Mapped[Competition] = relationship(back_populates="phases")
    dataset_version: Mapped[Optional[DatasetVersion]] = relationship()
    solution_file: Mapped[Optional[DatasetFile]] = relationship()

    @property
    def version(self) -> DatasetVersion:
        """The dataset version holding the phase's files and solution."""
        return self.dataset_version or self.competition.dataset_version

    @property
    def solution(self) -> DatasetFile:
        """The hidden solution the phase's submissions are scored against."""
        if self.solution_file is not None:
            return self.solution_file
        if self.dataset_version is not None:
            return next(f for f in self.dataset_version.files if f.kind is FileKind.SOLUTION)
        return self.competition.solution_file

    @property
    def public_files(self) -> list[DatasetFile]:
        """The files of the phase, in their version's order."""
        files = self.version.public_files
        if self.files is None:
            return files
        return [f for f in files if f.name in self.files]

    @property
    def effective_metric(self) -> str:
        """The metric the phase is scored by."""
        return self.metric or self.competition.metric

    @property
    def effective_metric_params(self) -> dict:
        """The metric's parameters in the phase."""
        if self.metric is not None:
            return self.metric_params or {}
        return self.competition.metric_params or {}

    @property
    def effective_daily_limit(self) -> int:
        """Submissions per participant per UTC day in the phase."""
        return self.daily_limit if self.daily_limit is not None else self.competition.daily_limit

    @property
    def effective_total_limit(self) -> int | None:
        """Submissions per participant in the whole phase (None: no limit)."""
        return self.total_limit if self.total_limit is not None else self.competition.total_limit

    @property
    def effective_final_selections(self) -> int:
        """Submissions a participant may pick for the phase's private board."""
        return self.final_selections if self.final_selections is not None else self.competition.final_selections

    @property
    def sample_submission(self) -> str | None:
        """The name of the phase's sample submission file, if it has one."""
        return next((f.name for f in self.public_files if f.name.startswith("sample_submission")), None)

    @property
    def test_file(self) -> str | None:
        """The file whose ids the phase's submissions predict: its first file named test*, if any."""
        return next((f.name for f in self.public_files if f.name.startswith("test")), None)
