"""Datasets: named collections of files, published in immutable, numbered versions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class FileKind(enum.StrEnum):
    """Who may read a dataset file."""

    PUBLIC = "public"  # participants download it
    SOLUTION = "solution"  # hidden: only scorers and organisers read it


class Dataset(Model):
    """A named dataset; its content lives in versions."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.number", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> Optional[DatasetVersion]:
        """The newest version, if any."""
        return self.versions[-1] if self.versions else None


class DatasetVersion(Model):
    """One published, immutable state of a dataset."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the version was published from a labelling task's approved labels: whoever can read those
    # labels (the task's certifiers, its shift leaders, the publisher) must not compete on it.
    task_id: Mapped[Optional[int]] = mapped_column(ForeignKey("labelling_tasks.id", ondelete="SET NULL"), index=True)
    published_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    files: Mapped[list[DatasetFile]] = relationship(
        back_populates="version", order_by="DatasetFile.position", cascade="all, delete-orphan"
    )

    @property
    def public_files(self) -> list[DatasetFile]:
        """The files participants may download, in the bundle's order."""
        return [f for f in self.files if f.kind is FileKind.PUBLIC]

    @property
    def storage_prefix(self) -> str:
        """Where this version's files live in storage."""
        return f"datasets/{self.dataset.slug}/v{self.number}"


class DatasetFile(Model):
    """A stored file of a dataset version, with the size and SHA-256 recorded at upload."""

    __tablename__ = "dataset_files"
    __table_args__ = (UniqueConstraint("version_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FileKind] = mapped_column(
        Enum(FileKind, native_enum=False, length=16, values_callable=lambda e: [k.value for k in e])
    )
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    version: Mapped[DatasetVersion] = relationship(back_populates="files")
