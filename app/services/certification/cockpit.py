"""The shifter's cockpit: what the certification page shows of a run's monitoring elements.

The page itself carries only the index (``page_elements``: names, groups, dimensions, lumisection spans) and the
shading of the bad and suggested ranges; its script fetches each element's trend (``trend_as_json``) when the
element comes into view, and a selected lumisection beside its reference (``compare_as_json``, the reference
chosen by ``references``). Large arrays travel as Plotly's typed arrays (``typed``: base64 of little-endian
numbers with their dtype and shape), which Plotly.js draws without parsing a JSON number per bin: a 1D element
of 100 bins over 3,000 lumisections is 1.6 MB of base64 rather than about 6 MB of decimals, and reads in a
fraction of the time.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.extensions import db
from app.models import Certification, LabellingTask, MonitoringElement, Run
from app.models.runs import GROUPS
from app.services.certification import references
from app.services.errors import Refused
from app.services.runs import element_store

# Plotly.js's names of the typed arrays it decodes, by the numpy type written.
PLOTLY_DTYPES = {"<f4": "f4", "<f8": "f8", "<i4": "i4"}


def typed(values, dtype: str = "<f4") -> dict:
    """An array as a Plotly typed-array spec: ``{"dtype", "bdata"}``, and ``"shape"`` ("rows,columns") for 2D."""
    array = np.ascontiguousarray(values, dtype=dtype)
    spec = {"dtype": PLOTLY_DTYPES[dtype], "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim == 2:
        spec["shape"] = f"{array.shape[0]},{array.shape[1]}"
    return spec


@dataclass(frozen=True)
class PageElements:
    """The index of a run's monitoring elements on its certification page: by group (pixel, strip, tracking,
    other; each by name), the span of lumisections they cover, and the ranges shaded on every trend."""

    groups: list[tuple[str, list[MonitoringElement]]]
    first: int
    last: int
    shading: list[dict]


def page_elements(run_number: int, shading: list[dict]) -> PageElements | None:
    """The run's monitoring elements for its certification page; None when none are imported."""
    elements = element_store.elements_of(run_number)
    if not elements:
        return None
    groups = [(group, [e for e in elements if e.group == group]) for group in GROUPS]
    return PageElements(
        groups=[(group, members) for group, members in groups if members],
        first=min(e.first_lumisection for e in elements),
        last=max(e.last_lumisection for e in elements),
        shading=shading,
    )


def trend_as_json(element: MonitoringElement) -> dict:
    """The element along its run, as the page draws it.

    1D: ``shares`` (the share of each bin in its lumisection's entries) as a typed array of shape
    (bins, lumisections), the rows of the lumisection x bin heatmap, with ``x_edges``; 2D: the per-lumisection
    ``occupancy`` (fraction of bins filled), ``mean`` (bin content), ``mean_x`` and ``mean_y``. Both carry
    ``lumisections`` and ``entries``.
    """
    trend = element_store.trend_arrays(element)
    shaped = {
        "name": element.name,
        "dimension": element.dimension,
        "group": element.group,
        "lumisections": typed(trend["lumisections"], "<i4"),
        "entries": typed(trend["entries"], "<f8"),
    }
    if element.dimension == 1:
        return shaped | {"x_edges": np.round(trend["x_edges"], 10).tolist(), "shares": typed(trend["shares"].T)}
    return shaped | {key: typed(trend[key]) for key in ("occupancy", "mean", "mean_x", "mean_y")}


def histogram_as_json(histogram: dict) -> dict:
    """One lumisection of an element as shares of its entries, so that lumisections of different luminosity
    compare: 1D ``shares`` per bin; 2D a typed array of shape (y bins, x bins), the rows of a heatmap."""
    values = np.asarray(histogram["values"], dtype=np.float64)
    total = values.sum()
    shares = values / total if total > 0 else np.zeros_like(values)
    shaped = {"lumisection": histogram["lumisection"], "x_edges": list(histogram["x_edges"])}
    if values.ndim == 1:
        return shaped | {"shares": np.round(shares, 6).tolist()}
    return shaped | {"y_edges": list(histogram["y_edges"]), "shares": typed(shares.T)}


def holdings(run_number: int, name: str) -> Sequence[int]:
    """The lumisections the run holds of the monitoring element, in order; empty without the element."""
    element = db.session.execute(
        db.select(MonitoringElement).where(MonitoringElement.run_number == run_number, MonitoringElement.name == name)
    ).scalar_one_or_none()
    if element is None:
        return []
    if element.lumisections == element.last_lumisection - element.first_lumisection + 1:
        return range(element.first_lumisection, element.last_lumisection + 1)
    return element_store.trend_arrays(element)["lumisections"].tolist()


def chosen_reference(certifications: list[Certification]) -> int | None:
    """The reference run the run's current certification names: the last changed one that names one."""
    latest = sorted(certifications, key=lambda c: (c.updated_at, c.id), reverse=True)
    return next((c.reference_run for c in latest if c.reference_run), None)


def compare_as_json(
    task: LabellingTask,
    run: Run,
    element: MonitoringElement,
    lumisection: int,
    *,
    chosen: int | None,
    bad_ranges: list[tuple[int, int]],
) -> dict:
    """The element at this lumisection of the run beside its reference (``references.reference_for``), both
    as shares; ``reference`` is None when there is nothing to compare with. A lumisection the element does
    not cover is Refused (400)."""
    if not element.first_lumisection <= lumisection <= element.last_lumisection:
        raise Refused(
            f"{element.name} covers lumisections {element.first_lumisection} to {element.last_lumisection},"
            f" not {lumisection}",
            field="lumisection",
        )
    mine = histogram_as_json(element_store.histogram_at(element, lumisection))
    reference = references.reference_for(
        task, run, element.name, lumisection, chosen=chosen, bad_ranges=bad_ranges, holdings=holdings
    )
    theirs = None
    if reference is not None:
        source = (
            element
            if reference.run_number == run.run_number
            else element_store.element(reference.run_number, element.name)
        )
        histogram = histogram_as_json(element_store.histogram_at(source, reference.lumisection))
        theirs = reference.as_json(lumisection) | {"histogram": histogram}
    return {"name": element.name, "dimension": element.dimension, "lumisection": mine, "reference": theirs}
