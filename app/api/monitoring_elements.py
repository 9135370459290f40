"""API routes of a run's monitoring elements: the list, one lumisection's histogram, the trend along the run.

Element names may hold ``+`` and ``/`` (``PixelPhase1_..._PXDisk_+1``): clients percent-encode the name as a
path segment (``+`` as ``%2B``; ``/`` may be sent as it is, the name runs to the end of the path); a name never
ends with ``/trend``, so the trend route is never confused with an element.
"""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.api.auth import roles_required
from app.api.certification import READERS
from app.extensions import db
from app.models import Run
from app.services.errors import Refused
from app.services.runs import element_store


def _run(run_number: int) -> Run:
    return db.get_or_404(Run, run_number, description=f"No run {run_number} was imported.")


@bp.get("/runs/<int:run_number>/monitoring-elements")
@roles_required(*READERS)
def run_monitoring_elements(run_number: int):
    """The run's monitoring elements: pixel, strip, tracking, then others."""
    run = _run(run_number)
    return jsonify(
        [
            {"name": me.name, "dimension": me.dimension, "lumisections": me.lumisections}
            for me in element_store.elements_of(run.run_number)
        ]
    )


@bp.get("/runs/<int:run_number>/monitoring-elements/<path:name>")
@roles_required(*READERS)
def monitoring_element_histogram(run_number: int, name: str):
    """One lumisection's histogram of the element (``?lumisection=N``)."""
    text = request.args.get("lumisection")
    if text is None or not text.strip():
        raise Refused("Say which lumisection: ?lumisection=N (a positive whole number).")
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 2**31 - 1:
        raise Refused(f"lumisection must be a positive whole number, not {text[:40]!r}.")
    me = element_store.element(_run(run_number).run_number, name)
    return jsonify(element_store.histogram_at(me, int(text)))


@bp.get("/runs/<int:run_number>/monitoring-elements/<path:name>/trend")
@roles_required(*READERS)
def monitoring_element_trend(run_number: int, name: str):
    """The element along the run: per-lumisection shares of each bin (1D) or summaries (2D)."""
    me = element_store.element(_run(run_number).run_number, name)
    return jsonify(element_store.trend(me))
