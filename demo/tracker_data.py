"""Synthetic tracker data for the demo and for tests: runs, conditions, monitoring elements and injected anomalies.

``generate(seed)`` gives, the same for the same seed, what CMS gives for some weeks of 2024 data taking:
run records as the OMS API describes runs; per-lumisection conditions in the column-oriented layout of an
OMS per-lumisection JSON file, so that ``run_import`` reads a JSON dump of them; per-lumisection monitoring
elements in the long layout of the DQMIO dumps, so that ``monitoring_elements`` reads them as it reads real
ones; and the ground truth, which lumisections carry which injected anomaly.

This module schedules the runs (fills of collision runs, cosmics runs between them), draws their conditions
and where anomalies fall; ``tracker_histograms`` holds the monitoring elements and how anomalies change them.
Only collision runs have monitoring elements; cosmics runs, taken between fills, have conditions only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from demo.tracker_histograms import (
    CHARGE,
    DISK,
    STON,
    ZPHI,
    Anomaly,
    AnomalyBlock,
    Detector,
    Layout,
    dead_rectangle,
    dqmio_columns,
    histograms,
    hot_bins,
    long_table,
)

LS_SECONDS = 2**18 / 11245.5  # a lumisection is 2^18 LHC orbits
ENERGY_GEV = 6800.0
B_FIELD_T = 3.8
COLLISIONS_HLT_KEY = "/cdaq/physics/Run2024/2e34/v1.0.0/HLT/V2"
COSMICS_HLT_KEY = "/cdaq/cosmic/commissioning2024/v1.0.0/HLT/V1"
FIRST_FILL = 9500
START = datetime(2024, 5, 1, 6, tzinfo=UTC)
PEAK_LUMI = 2.0e34  # cm^-2 s^-1 at the start of a fill
INELASTIC_CROSS_SECTION = 80e-27  # cm^2
COLLIDING_BUNCHES = 2340
REVOLUTION_HZ = 11245.5
CM2_PER_INV_PB = 1e36
TRACKER_READY = ("bpix_ready", "fpix_ready", "tibtid_ready", "tob_ready", "tecp_ready", "tecm_ready")
COSMICS_SHARE = 0.35  # of the gaps between fills with a cosmics run
RAMP_SHARE = 0.6  # of fills whose first run starts before the tracker is ready

INJECTED = {  # kind -> share of the injected blocks
    Anomaly.DEAD_REGION: 0.3,
    Anomaly.HV_OFF: 0.15,
    Anomaly.HOT_SPOTS: 0.2,
    Anomaly.LOW_STATISTICS: 0.15,
    Anomaly.CHARGE_SHIFT: 0.2,
}
MEAN_BLOCK_LS = 4  # anomalies last a few lumisections: a trip, a masked module, a noisy channel


@dataclass(frozen=True)
class TrackerData:
    """Everything one seed generates."""

    runs: list[dict[str, Any]]  # OMS run records (run_sources.run_attributes reads them), plus ls_count
    conditions: dict[str, list]  # OMS per-lumisection columns: row i is one lumisection
    monitoring_elements: pd.DataFrame  # DQMIO long layout: one row per (run, lumisection, monitoring element)
    truth: pd.DataFrame  # run_number, lumisection_number, anomaly (an Anomaly value, None when good)
    anomalies: list[AnomalyBlock]
    layout: Layout


@dataclass(frozen=True)
class _Run:
    """A run as scheduled: when, how long, and where in its fill."""

    number: int
    fill: int | None
    start: datetime
    ls_count: int
    cosmics: bool = False
    fill_seconds: float = 0.0  # since the fill's stable beams, at the run's start
    peak_lumi: float = 0.0  # of the fill, cm^-2 s^-1
    lifetime_hours: float = 15.0
    ramp_ls: int = 0  # first lumisections with the tracker not ready


def generate(
    seed: int,
    runs: int = 20,
    first_run: int = 380000,
    max_ls_per_run: int | None = None,
    anomaly_rate: float = 0.03,
    zphi_bins: tuple[int, int] = (60, 40),
    disk_bins: tuple[int, int] = (40, 40),
) -> TrackerData:
    """Runs, conditions, monitoring elements and ground truth; the same seed and arguments give the same data.

    anomaly_rate is the expected share of lumisections in injected anomalies (DCS-off ramps come on top);
    max_ls_per_run caps run lengths, which keeps memory small (about 16 kB per lumisection by default).
    """
    rng = np.random.default_rng(seed)
    layout, detector = Layout.of(zphi_bins, disk_bins), Detector.draw(rng)
    records, columns, blocks = [], [], []
    elements: list[dict[str, Any]] = []
    for run in _schedule(rng, runs, first_run, max_ls_per_run):
        conditions = _conditions(rng, run)
        columns.append(conditions)
        records.append(_run_record(run, conditions))
        if run.cosmics:
            continue
        run_blocks = _ramp(run) + _anomalies(rng, run, anomaly_rate, layout)
        blocks.extend(run_blocks)
        counts = histograms(rng, conditions["recorded_lumi_per_lumisection"], run_blocks, layout, detector)
        elements.extend(dqmio_columns(run.number, me, counts[me.hname]) for me in layout.all)
    merged = {name: np.concatenate([c[name] for c in columns]).tolist() for name in columns[0]}
    return TrackerData(records, merged, long_table(elements), _truth(merged, blocks), blocks, layout)


def _schedule(rng: np.random.Generator, runs: int, first_run: int, max_ls: int | None) -> list[_Run]:
    """Fills of one to four collision runs back to back, a cosmics run now and then between fills."""
    plan: list[_Run] = []
    number, fill, now = first_run, FIRST_FILL, START
    while len(plan) < runs:
        if plan and rng.random() < COSMICS_SHARE:
            ls_count = min(int(rng.integers(20, 300)), max_ls or 300)
            plan.append(_Run(number, None, now, ls_count, cosmics=True))
            now += timedelta(seconds=ls_count * LS_SECONDS + rng.uniform(600, 3600))
            number += int(rng.integers(1, 4))
            continue
        fill += int(rng.integers(1, 4))
        peak, lifetime = PEAK_LUMI * rng.normal(1.0, 0.05), rng.uniform(10.0, 20.0)
        ramp = int(rng.integers(3, 16)) if rng.random() < RAMP_SHARE else 0
        fill_seconds = 0.0
        for _ in range(min(int(rng.integers(1, 5)), runs - len(plan))):
            ls_count = _ls_count(rng, max_ls)
            plan.append(
                _Run(number, fill, now, ls_count, False, fill_seconds, peak, lifetime, min(ramp, ls_count // 4))
            )
            seconds = ls_count * LS_SECONDS + rng.uniform(60, 600)
            now, fill_seconds, ramp = now + timedelta(seconds=seconds), fill_seconds + seconds, 0
            number += int(rng.integers(1, 4))
        now += timedelta(hours=rng.uniform(1.0, 6.0))
    return plan


def _ls_count(rng: np.random.Generator, max_ls: int | None) -> int:
    """Tens to a few thousand lumisections, most a few hundred."""
    count = int(np.clip(rng.lognormal(math.log(200), 0.9), 20, 3000))
    return min(count, max_ls) if max_ls else count


def _conditions(rng: np.random.Generator, run: _Run) -> dict[str, np.ndarray]:
    """The OMS per-lumisection columns of one run: luminosity decaying over the fill, flags off while ramping."""
    n = run.ls_count
    if run.cosmics:
        delivered = np.abs(rng.normal(0.0, 5e-10, n))  # no beam: a luminometer's noise, never below zero
        recorded, pileup = delivered * 0.3, np.zeros(n)
        beams, physics, ready = np.zeros(n, bool), np.zeros(n, bool), np.ones(n, bool)
    else:
        seconds = run.fill_seconds + (np.arange(n) + 0.5) * LS_SECONDS
        decay = np.exp(-seconds / (run.lifetime_hours * 3600)) * rng.normal(1.0, 0.01, n)
        instantaneous = np.maximum(run.peak_lumi * decay, 0.0)
        delivered = instantaneous * LS_SECONDS / CM2_PER_INV_PB
        recorded = delivered * np.clip(rng.normal(0.975, 0.01, n), 0.9, 1.0)
        pileup = instantaneous * INELASTIC_CROSS_SECTION / (COLLIDING_BUNCHES * REVOLUTION_HZ)
        beams, ready = np.ones(n, bool), np.arange(n) >= run.ramp_ls
        physics = ready
    columns = {
        "run_number": np.full(n, run.number),
        "lumisection_number": np.arange(1, n + 1),
        "fill_number": np.full(n, run.fill, dtype=object),
        "delivered_lumi_per_lumisection": delivered,
        "recorded_lumi_per_lumisection": recorded,
        "pileup": pileup,
        "physics_flag": physics,
        "beams_stable": beams,
        "cms_active": np.ones(n, bool),
    }
    return columns | {flag: ready for flag in TRACKER_READY}


def _run_record(run: _Run, conditions: dict[str, np.ndarray]) -> dict[str, Any]:
    """The run as the OMS API's /runs describes it, and its lumisection count."""
    end = run.start + timedelta(seconds=run.ls_count * LS_SECONDS)
    return {
        "run_number": run.number,
        "fill_number": run.fill,
        "start_time": run.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "b_field": B_FIELD_T,
        "energy": None if run.cosmics else ENERGY_GEV,
        "hlt_key": COSMICS_HLT_KEY if run.cosmics else COLLISIONS_HLT_KEY,
        "stable_beam": not run.cosmics,
        "delivered_lumi": float(conditions["delivered_lumi_per_lumisection"].sum()),
        "recorded_lumi": float(conditions["recorded_lumi_per_lumisection"].sum()),
        "last_lumisection_number": run.ls_count,
        "ls_count": run.ls_count,
    }


def _ramp(run: _Run) -> list[AnomalyBlock]:
    """The lumisections before the tracker is ready: every monitoring element as with high voltage off."""
    if not run.ramp_ls:
        return []
    every = (ZPHI, DISK, CHARGE, STON)
    return [AnomalyBlock(run.number, 1, run.ramp_ls, Anomaly.DCS_OFF, every, scale=0.1, peak=0.45)]


def _anomalies(rng: np.random.Generator, run: _Run, rate: float, layout: Layout) -> list[AnomalyBlock]:
    """Blocks of contiguous lumisections with an injected anomaly, not overlapping each other or the ramp."""
    free = np.arange(run.ls_count) >= run.ramp_ls
    blocks = []
    kinds, shares = list(INJECTED), np.array(list(INJECTED.values()))
    for _ in range(rng.poisson(rate * free.sum() / MEAN_BLOCK_LS)):
        kind = kinds[rng.choice(len(kinds), p=shares / shares.sum())]
        length = min(int(rng.geometric(1 / (MEAN_BLOCK_LS - 1))) + 1, run.ls_count // 4)
        if kind is Anomaly.LOW_STATISTICS:  # where a run starts or ends
            length = min(int(rng.integers(1, 6)), length)
            start = run.ramp_ls if rng.random() < 0.5 else run.ls_count - length
        else:
            start = int(rng.integers(run.ramp_ls, run.ls_count - length + 1))
        if length < 1 or not free[start : start + length].all():
            continue
        free[start : start + length] = False
        blocks.append(_block(rng, kind, run.number, start + 1, start + length, layout))
    return blocks


def _block(rng: np.random.Generator, kind: Anomaly, run: int, first: int, last: int, layout: Layout) -> AnomalyBlock:
    """One anomaly of a kind, with its strength and place drawn."""
    where = (run, first, last, kind)
    target = layout.zphi if rng.random() < 0.6 else layout.disk
    if kind is Anomaly.DEAD_REGION:
        return AnomalyBlock(*where, (target.hname,), region=dead_rectangle(rng, target))
    if kind is Anomaly.HV_OFF:
        scale, peak = rng.uniform(0.05, 0.3), rng.uniform(0.35, 0.6)
        hnames = [(ZPHI, CHARGE), (DISK,), (STON,)][rng.choice(3, p=[0.5, 0.25, 0.25])]
        return AnomalyBlock(*where, hnames, scale=scale, peak=peak)
    if kind is Anomaly.HOT_SPOTS:
        bins = hot_bins(rng, target, int(rng.integers(1, 5)))
        return AnomalyBlock(*where, (target.hname,), hot_bins=bins, hot_strength=rng.uniform(0.1, 5.0))
    if kind is Anomaly.LOW_STATISTICS:
        return AnomalyBlock(*where, (ZPHI, DISK, CHARGE, STON), scale=rng.uniform(0.03, 0.6))
    shift = rng.uniform(0.02, 0.12) * rng.choice([-1.0, 1.0])
    return AnomalyBlock(*where, (CHARGE,), peak=1.0 + shift)


def _truth(conditions: dict[str, list], blocks: list[AnomalyBlock]) -> pd.DataFrame:
    """One row per lumisection: its run, number and injected anomaly (None when good)."""
    runs, numbers = conditions["run_number"], conditions["lumisection_number"]
    row = {key: i for i, key in enumerate(zip(runs, numbers, strict=True))}
    anomaly = np.full(len(runs), None, dtype=object)
    for block in blocks:
        for number in block.lumisections:
            anomaly[row[block.run_number, number]] = block.kind.value
    return pd.DataFrame(
        {"run_number": runs, "lumisection_number": numbers, "anomaly": pd.Series(anomaly, dtype=object)}
    )
