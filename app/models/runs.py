"""Runs and their lumisections, with the conditions and flags imported from OMS and the JSON masks."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, SmallInteger, String, UniqueConstraint
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


# How a monitoring element's name tells its part of the tracker, tried in this order (see group_of).
_PIXEL = re.compile(r"PX|Pixel|pixel")  # PixelPhase1_..._PXLayer_1, SiPixel..., PXDisk
_TRACKING_FIRST = re.compile(r"Residual|Vertex|vertex|Chi2|chi2")  # NormalizedHitResiduals_TEC__wheel__8
_STRIP = re.compile(r"TIB|TOB|TID|TEC|Strip|StoN")  # Summary_ClusterStoNCorr__OnTrack__TIB__layer__1, SiStrip...
_TRACKING = re.compile(r"Track|track")  # Tracking/..., NumberOfTracks, TrackPt
GROUPS = ("pixel", "strip", "tracking", "other")


def group_of(name: str) -> str:
    """The part of the tracker a monitoring element shows, from its name: "pixel", "strip", "tracking" or "other".

    Pixel names come first, as pixel MEs of tracks are still pixel MEs (``PixelPhase1_Tracks_PXBarrel_...``);
    then residuals, vertices and fit quality, which are tracking even when named after a strip subdetector
    (``NormalizedHitResiduals_TEC__wheel__8``); then the strip subdetectors and cluster signal-to-noise (so
    ``..._OnTrack__TIB__...`` is strip); then anything else about tracks.
    """
    if _PIXEL.search(name):
        return "pixel"
    if _TRACKING_FIRST.search(name):
        return "tracking"
    if _STRIP.search(name):
        return "strip"
    if _TRACKING.search(name):
        return "tracking"
    return "other"


class MonitoringElement(Model):
    """One monitoring element of a run over its lumisections: its binning, and the stored Parquet object holding
    one row per lumisection (``app.services.runs.element_store`` writes and reads it)."""

    __tablename__ = "monitoring_elements"
    __table_args__ = (UniqueConstraint("run_number", "name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True)
    run_number: Mapped[int] = mapped_column(BigInteger, ForeignKey("runs.run_number", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))  # DQMIO's hname
    dimension: Mapped[int] = mapped_column(SmallInteger)  # 1 or 2
    x_min: Mapped[float] = mapped_column(Float)
    x_max: Mapped[float] = mapped_column(Float)
    x_bins: Mapped[int]
    y_min: Mapped[Optional[float]] = mapped_column(Float)  # None for a 1D histogram
    y_max: Mapped[Optional[float]] = mapped_column(Float)
    y_bins: Mapped[Optional[int]]
    lumisections: Mapped[int]  # how many lumisections the object holds
    first_lumisection: Mapped[int]
    last_lumisection: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def group(self) -> str:
        """pixel, strip, tracking or other: see group_of."""
        return group_of(self.name)
