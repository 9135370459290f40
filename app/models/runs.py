"""Runs and their lumisections, with the conditions and flags imported from OMS and the JSON masks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import UTCDateTime, utcnow

TRACKER_FLAGS = ("bpix_ready", "fpix_ready", "tibtid_ready", "tob_ready", "tecp_ready", "tecm_ready")
DCS_FLAGS = (*TRACKER_FLAGS, "beams_stable", "cms_active")
# What a lumisection records of its conditions, as its columns are named.
CONDITIONS = ("delivered_lumi", "recorded_lumi", "pileup", "physics_flag", *DCS_FLAGS, "dcs_ok")


class RunClass(enum.StrEnum):
    """What a run recorded, as CMS classifies it."""

    COLLISIONS = "collisions"
    COSMICS = "cosmics"


def derive_run_class(hlt_key: str | None, stable_beams: bool) -> RunClass | None:
    """Collisions for a physics or special HLT menu with stable beams, cosmics for a cosmics menu."""
    if not hlt_key:
        return None
    key = hlt_key.lower()
    if ("physics" in key or "special" in key) and stable_beams:
        return RunClass.COLLISIONS
    if "cosmic" in key:
        return RunClass.COSMICS
    return None


def dcs_ok(flags: dict[str, bool | None]) -> bool | None:
    """The tracker was ready, beams stable and CMS active; None when no flag is known."""
    values = [flags.get(name) for name in DCS_FLAGS]
    if all(value is None for value in values):
        return None
    return all(bool(value) for value in values)


class Run(Model):
    """A CMS run."""

    __tablename__ = "runs"

    run_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    fill_number: Mapped[Optional[int]]
    start_time: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    end_time: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    b_field: Mapped[Optional[float]] = mapped_column(Float)
    energy: Mapped[Optional[float]] = mapped_column(Float)
    hlt_key: Mapped[Optional[str]] = mapped_column(String(200))
    delivered_lumi: Mapped[Optional[float]] = mapped_column(Float)
    recorded_lumi: Mapped[Optional[float]] = mapped_column(Float)
    ls_count: Mapped[Optional[int]]
    run_class: Mapped[Optional[RunClass]] = mapped_column(
        Enum(RunClass, native_enum=False, length=16, values_callable=lambda e: [c.value for c in e])
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lumisections: Mapped[list[Lumisection]] = relationship(
        back_populates="run", order_by="Lumisection.number", cascade="all, delete-orphan"
    )


class Lumisection(Model):
    """About 23 seconds of a run: its luminosity, pileup and DCS flags, and what the masks say of it."""

    __tablename__ = "lumisections"
    __table_args__ = (UniqueConstraint("run_number", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    run_number: Mapped[int] = mapped_column(BigInteger, ForeignKey("runs.run_number", ondelete="CASCADE"))
    number: Mapped[int]
    delivered_lumi: Mapped[Optional[float]] = mapped_column(Float)
    recorded_lumi: Mapped[Optional[float]] = mapped_column(Float)
    pileup: Mapped[Optional[float]] = mapped_column(Float)
    physics_flag: Mapped[Optional[bool]]
    beams_stable: Mapped[Optional[bool]]
    cms_active: Mapped[Optional[bool]]
    bpix_ready: Mapped[Optional[bool]]
    fpix_ready: Mapped[Optional[bool]]
    tibtid_ready: Mapped[Optional[bool]]
    tob_ready: Mapped[Optional[bool]]
    tecp_ready: Mapped[Optional[bool]]
    tecm_ready: Mapped[Optional[bool]]
    dcs_ok: Mapped[Optional[bool]]  # None: no DCS information imported
    golden: Mapped[Optional[bool]]  # in an imported golden JSON

    run: Mapped[Run] = relationship(back_populates="lumisections")


class RrRange(Model):
    """Lumisections first..last of a run, as the Run Registry flags one component of one of its datasets."""

    __tablename__ = "rr_ranges"
    __table_args__ = (UniqueConstraint("run_number", "dataset_name", "component", "first"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    run_number: Mapped[int] = mapped_column(BigInteger)  # the run need not be imported from OMS first
    dataset_name: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(64))  # RR's name, e.g. tracker-pixel
    first: Mapped[int]
    last: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # GOOD, BAD, STANDBY, EXCLUDED, NOTSET or EMPTY
    cause: Mapped[str] = mapped_column(String(1000), default="")
    comment: Mapped[str] = mapped_column(db.Text, default="")
