"""Monitoring elements of the synthetic tracker data and their histograms, for the demo and for tests.

The monitoring elements are Poisson samples of expected histograms: on-track cluster positions on pixel
barrel layer 1 (z-phi: modules along z, ladders along phi) and pixel forward disk +1 (x-y: two rings of
blades), the cluster charge on layer 1 and the signal-to-noise of strip clusters on TIB layer 1 (Landau-like
peaks), with entries following the recorded luminosity. The anomalies injected into them (``AnomalyBlock``)
are described here too, as changes to these histograms; ``tracker_data`` draws where they fall.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.services.runs.monitoring_elements import COLUMNS as ME_COLUMNS

CLUSTERS_PER_INV_PB = 1.4e6  # on-track clusters on barrel layer 1 per recorded inverse picobarn
DISK_SHARE, STRIP_SHARE = 0.3, 2.5  # clusters on disk +1 and on TIB layer 1, per cluster on layer 1
CHARGE_PEAK, STON_PEAK = 21500.0, 24.0  # most probable cluster charge on layer 1 (electrons), strip S/N on TIB 1
ZPHI = "PixelPhase1_Tracks_PXBarrel_clusterposition_zphi_ontrack_PXLayer_1"
DISK = "PixelPhase1_Tracks_PXForward_clusterposition_xy_ontrack_PXDisk_+1"
CHARGE = "PixelPhase1_Tracks_PXBarrel_charge_PXLayer_1"
STON = "Summary_ClusterStoNCorr__OnTrack__TIB__layer__1"
HALF_LENGTH = 26.7  # cm: the barrel layer 1 modules cover |z| < 26.7
MODULE_LENGTH = 2 * HALF_LENGTH / 8  # eight modules along z
LADDER_WIDTH = 2 * math.pi / 12  # twelve ladders around phi
OVERSAMPLE = 5  # points per bin and axis to average a density over a bin
DEAD_SHARE = 0.04  # of half modules of layer 1 and half blades of disk +1 masked for good, the same in every run


class Anomaly(enum.StrEnum):
    """What went wrong in a lumisection, as the ground truth names it."""

    DEAD_REGION = "dead_region"  # a module region of a 2D map is empty
    HV_OFF = "hv_off"  # a layer or disk without high voltage: few clusters, low charge
    HOT_SPOTS = "hot_spots"  # a few noisy bins far above the rest
    LOW_STATISTICS = "low_statistics"  # at the start or end of a run, every histogram nearly empty
    CHARGE_SHIFT = "charge_shift"  # the cluster charge peak moved (a wrong gain calibration)
    DCS_OFF = "dcs_off"  # the tracker not ready yet, high voltage still ramping: DCS flags off


@dataclass(frozen=True)
class MonitoringElement:
    """One monitoring element and its binning, as DQMIO describes it; ybins is 0 for a 1D histogram."""

    hname: str
    xmin: float
    xmax: float
    xbins: int
    ymin: float = 0.0
    ymax: float = 0.0
    ybins: int = 0

    @property
    def metype(self) -> int:
        """DQMIO's kind: 3 for a 1D histogram (TH1F), 6 for a 2D one (TH2F)."""
        return 6 if self.ybins else 3

    def centers(self, oversample: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Bin centres along x and y, each bin split in `oversample` parts to average a density over it."""
        return _centers(self.xmin, self.xmax, self.xbins * oversample), _centers(
            self.ymin, self.ymax, self.ybins * oversample
        )


@dataclass(frozen=True)
class Layout:
    """The monitoring elements generated; the 2D maps are down-sized by default (real: 300x200 and 200x200)."""

    zphi: MonitoringElement
    disk: MonitoringElement
    charge: MonitoringElement
    ston: MonitoringElement

    @classmethod
    def of(cls, zphi_bins: tuple[int, int] = (60, 40), disk_bins: tuple[int, int] = (40, 40)) -> Layout:
        """The layout with the 2D maps binned as asked."""
        return cls(
            MonitoringElement(ZPHI, -60.0, 60.0, zphi_bins[0], -3.2, 3.2, zphi_bins[1]),
            MonitoringElement(DISK, -20.0, 20.0, disk_bins[0], -20.0, 20.0, disk_bins[1]),
            MonitoringElement(CHARGE, 0.0, 80000.0, 80),
            MonitoringElement(STON, -0.5, 99.5, 100),
        )

    @property
    def all(self) -> tuple[MonitoringElement, ...]:
        """Every monitoring element, maps first."""
        return (self.zphi, self.disk, self.charge, self.ston)


@dataclass(frozen=True)
class AnomalyBlock:
    """One injected anomaly over contiguous lumisections of a run, and how it changes the monitoring elements."""

    run_number: int
    first_ls: int
    last_ls: int  # inclusive
    kind: Anomaly
    hnames: tuple[str, ...]  # the monitoring elements it changes
    scale: float = 1.0  # their entries are multiplied by this
    peak: float = 1.0  # their Landau peak (charge, signal-to-noise) is multiplied by this
    region: tuple[int, int, int, int] | None = None  # dead region: empty x bins [x0, x1) and y bins [y0, y1)
    hot_bins: tuple[tuple[int, int], ...] = ()  # hot spots: (x, y) bins
    hot_strength: float = 0.0  # hot spots: added to each hot bin, times the largest expected bin of the map

    @property
    def lumisections(self) -> range:
        """The lumisection numbers it covers."""
        return range(self.first_ls, self.last_ls + 1)


@dataclass(frozen=True)
class Detector:
    """What is masked for good, the same in every run: halves of layer 1 modules and halves of disk +1 blades.

    A layer 1 module has 2 halves along z and 2 along phi (4 read-out chips each); a blade, 2 halves along phi.
    """

    half_modules_alive: np.ndarray  # (16, 24)
    inner_half_blades_alive: np.ndarray  # (22,)
    outer_half_blades_alive: np.ndarray  # (34,)

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Detector:
        """A detector with a few half modules and half blades masked."""
        return cls(*(rng.random(shape) >= DEAD_SHARE for shape in ((16, 24), 22, 34)))


@dataclass(frozen=True)
class _Shape:
    """Per lumisection, how a run's anomalies change each monitoring element's entries and Landau peak."""

    scale: dict[str, np.ndarray]
    peak: dict[str, np.ndarray]


def _centers(low: float, high: float, bins: int) -> np.ndarray:
    return low + (np.arange(bins) + 0.5) * (high - low) / bins


def dead_rectangle(rng: np.random.Generator, me: MonitoringElement) -> tuple[int, int, int, int]:
    """A rectangle of bins the size of one or two modules (ladders by modules on layer 1), inside the acceptance."""
    x, y = me.centers()
    if me.hname == ZPHI:
        modules, ladders = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        first_module, first_ladder = int(rng.integers(0, 9 - modules)), int(rng.integers(0, 13 - ladders))
        z0 = -HALF_LENGTH + first_module * MODULE_LENGTH
        phi0 = -math.pi + first_ladder * LADDER_WIDTH
        x_range, y_range = (z0, z0 + modules * MODULE_LENGTH), (phi0, phi0 + ladders * LADDER_WIDTH)
    else:
        radius, angle, half = rng.uniform(6.0, 14.0), rng.uniform(-math.pi, math.pi), rng.uniform(1.0, 3.0)
        cx, cy = radius * math.cos(angle), radius * math.sin(angle)
        x_range, y_range = (cx - half, cx + half), (cy - half, cy + half)
    x0, x1 = np.searchsorted(x, x_range)
    y0, y1 = np.searchsorted(y, y_range)
    return int(x0), int(max(x1, x0 + 1)), int(y0), int(max(y1, y0 + 1))


def hot_bins(rng: np.random.Generator, me: MonitoringElement, count: int) -> tuple[tuple[int, int], ...]:
    """A few bins inside the acceptance of a map."""
    template = _zphi_template(me) if me.hname == ZPHI else _disk_template(me)
    chosen = rng.choice(np.flatnonzero(template > 0), size=count, replace=False)
    return tuple((int(i) // me.ybins, int(i) % me.ybins) for i in np.sort(chosen))


def _zphi_template(
    me: MonitoringElement, z0: float = 0.0, gains: np.ndarray | None = None, alive: np.ndarray | None = None
) -> np.ndarray:
    """Expected share of layer 1 clusters per (z, phi) bin: peaked at the beam spot, module gaps, ladder overlaps.

    gains multiply the modules (8 along z, 12 ladders); alive masks half modules (16 along z, 24 along phi).
    """
    oversample = OVERSAMPLE
    z, phi = np.meshgrid(*me.centers(oversample), indexing="ij")
    profile = 0.9 * np.exp(-0.5 * ((z - z0) / 9.0) ** 2) + 0.1 * np.exp(-np.abs(z - z0) / 12.0)
    along, around = (z + HALF_LENGTH) % MODULE_LENGTH, (phi + math.pi) % LADDER_WIDTH
    module = np.clip(((z + HALF_LENGTH) // MODULE_LENGTH).astype(int), 0, 7)
    ladder = ((phi + math.pi) // LADDER_WIDTH).astype(int) % 12
    half_z = np.clip(((z + HALF_LENGTH) // (MODULE_LENGTH / 2)).astype(int), 0, 15)
    half_phi = ((phi + math.pi) // (LADDER_WIDTH / 2)).astype(int) % 24
    gain = np.ones((8, 12)) if gains is None else gains
    alive = np.ones((16, 24)) if alive is None else alive
    density = (
        (np.abs(z) < HALF_LENGTH)
        * profile
        * gain[module, ladder]
        * alive[half_z, half_phi]
        * np.where((along < 0.2) | (along > MODULE_LENGTH - 0.2), 0.5, 1.0)  # gaps between modules
        * np.where((around < 0.05) | (around > LADDER_WIDTH - 0.05), 1.8, 1.0)  # neighbouring ladders overlap
        * (1.0 + 0.06 * (ladder % 2))  # inner and outer ladders alternate
    )
    return _bin_average(density, me, oversample)


def _disk_template(me: MonitoringElement, gains: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Expected share of disk +1 clusters per (x, y) bin: an inner ring of 11 blades, an outer one of 17.

    gains multiply the half blades of each ring (22 inner, 34 outer); a masked one has gain 0.
    """
    oversample = OVERSAMPLE
    x, y = np.meshgrid(*me.centers(oversample), indexing="ij")
    radius, angle = np.hypot(x, y), np.arctan2(y, x)
    inner_gain, outer_gain = gains or (np.ones(22), np.ones(34))
    inner = ((radius > 4.5) & (radius < 11.0)) * inner_gain[_sector(angle, 22)] * (1 + 0.25 * np.cos(11 * angle))
    outer = ((radius > 7.9) & (radius < 16.1)) * outer_gain[_sector(angle, 34)] * (1 + 0.25 * np.cos(17 * angle))
    return _bin_average(np.maximum(radius, 1.0) ** -1.5 * (inner + outer), me, oversample)


def _sector(angle: np.ndarray, count: int) -> np.ndarray:
    return ((angle + math.pi) // (2 * math.pi / count)).astype(int) % count


def _bin_average(density: np.ndarray, me: MonitoringElement, oversample: int) -> np.ndarray:
    """A density sampled `oversample` times per bin and axis, averaged per bin and normalised to sum one."""
    binned = density.reshape(me.xbins, oversample, me.ybins, oversample).mean(axis=(1, 3))
    return binned / binned.sum()


def _landau(me: MonitoringElement, peak: np.ndarray, width: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Share per bin of a Landau-like (Moyal) distribution, one row per peak position; nothing below threshold."""
    x = me.centers()[0]
    reduced = (x[None, :] - peak[:, None]) / width[:, None]
    density = np.exp(-0.5 * (reduced + np.exp(-reduced))) * (x[None, :] >= threshold)
    return density / density.sum(axis=1, keepdims=True)


def histograms(
    rng: np.random.Generator,
    recorded: np.ndarray,
    blocks: list[AnomalyBlock],
    layout: Layout,
    detector: Detector,
) -> dict[str, np.ndarray]:
    """Bin contents of every monitoring element, one row per lumisection of a collision run.

    recorded is the run's recorded luminosity per lumisection; the entries follow it.
    """
    n = len(recorded)
    shape = _shape(n, blocks, layout)
    clusters = recorded * CLUSTERS_PER_INV_PB * rng.normal(1.0, 0.03)
    zphi = _zphi_template(
        layout.zphi, rng.normal(0.0, 1.0), rng.normal(1.0, 0.05, (8, 12)), detector.half_modules_alive
    )
    blades = (
        rng.normal(1.0, 0.05, 22) * detector.inner_half_blades_alive,
        rng.normal(1.0, 0.05, 34) * detector.outer_half_blades_alive,
    )
    disk = _disk_template(layout.disk, blades)
    charge_peak = CHARGE_PEAK * rng.normal(1.0, 0.025) * rng.normal(1.0, 0.004, n) * shape.peak[CHARGE]
    ston_peak = STON_PEAK * rng.normal(1.0, 0.03) * rng.normal(1.0, 0.004, n) * shape.peak[STON]
    expected = {
        ZPHI: np.outer(clusters * shape.scale[ZPHI], zphi.ravel()),
        DISK: np.outer(clusters * DISK_SHARE * shape.scale[DISK], disk.ravel()),
        CHARGE: _landau(layout.charge, charge_peak, 0.1 * charge_peak, 3000.0)
        * (clusters * shape.scale[CHARGE])[:, None],
        STON: _landau(layout.ston, ston_peak, 0.11 * ston_peak) * (clusters * STRIP_SHARE * shape.scale[STON])[:, None],
    }
    for block in blocks:
        _mark_map(expected, block, layout)
    return {name: rng.poisson(values).astype(np.int32) for name, values in expected.items()}


def _shape(n: int, blocks: list[AnomalyBlock], layout: Layout) -> _Shape:
    """Entries and peak multipliers per lumisection, from the blocks of a run."""
    shape = _Shape({me.hname: np.ones(n) for me in layout.all}, {me.hname: np.ones(n) for me in layout.all})
    for block in blocks:
        rows = slice(block.first_ls - 1, block.last_ls)
        for name in block.hnames:
            shape.scale[name][rows] *= block.scale
            shape.peak[name][rows] *= block.peak
    return shape


def _mark_map(expected: dict[str, np.ndarray], block: AnomalyBlock, layout: Layout) -> None:
    """Empty a dead region, or add hot bins, in the expected contents of the block's lumisections."""
    if block.region is None and not block.hot_bins:
        return
    me = layout.zphi if block.hnames[0] == ZPHI else layout.disk
    rows = expected[me.hname][block.first_ls - 1 : block.last_ls].reshape(-1, me.xbins, me.ybins)
    if block.region is not None:
        x0, x1, y0, y1 = block.region
        rows[:, x0:x1, y0:y1] = 0.0
    if block.hot_bins:
        largest = rows.max(axis=(1, 2))
        for x, y in block.hot_bins:
            rows[:, x, y] += block.hot_strength * largest


def dqmio_columns(run_number: int, me: MonitoringElement, counts: np.ndarray) -> dict[str, Any]:
    """The long DQMIO columns of one monitoring element over a run."""
    n = len(counts)
    binning = {"Xmin": me.xmin, "Xmax": me.xmax, "Xbins": me.xbins, "Ymin": me.ymin, "Ymax": me.ymax, "Ybins": me.ybins}
    return {
        "fromrun": np.full(n, run_number, dtype=np.int64),
        "fromlumi": np.arange(1, n + 1, dtype=np.int64),
        "hname": np.full(n, me.hname, dtype=object),
        "metype": np.full(n, me.metype, dtype=np.int64),
        "histo": list(counts),
        "entries": counts.sum(axis=1, dtype=np.int64),
        **{name: np.full(n, value) for name, value in binning.items()},
    }


def long_table(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One DataFrame of the rows of every run and monitoring element, in the DQMIO columns."""
    columns: dict[str, Any] = {
        name: np.concatenate([part[name] for part in parts]) for name in ME_COLUMNS if name != "histo"
    }
    columns["histo"] = [row for part in parts for row in part["histo"]]
    return pd.DataFrame(columns, columns=list(ME_COLUMNS))
