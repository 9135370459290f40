"""Reading what OMS says of runs: per-lumisection conditions as OMS files and the OMS API give them, parsed and
checked whole into a ``RunConditions`` before anything is written (the importer writes it)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.models.runs import DCS_FLAGS, dcs_ok
from app.services.errors import Refused

Format = Literal["oms", "dcs", "golden"]
# OMS attribute (a column of the OMS file, an attribute of the API's lumisections) -> lumisections column.
OMS_COLUMNS = {
    "run_number": "run_number",
    "lumisection_number": "number",
    "fill_number": None,  # a run attribute
    "delivered_lumi_per_lumisection": "delivered_lumi",
    "recorded_lumi_per_lumisection": "recorded_lumi",
    "pileup": "pileup",
    "physics_flag": "physics_flag",
    **{flag: flag for flag in DCS_FLAGS},
}
REQUIRED_OMS = ("run_number", "lumisection_number")
LUMINOSITY_COLUMNS = ("delivered_lumi_per_lumisection", "recorded_lumi_per_lumisection")  # pb⁻¹
NUMBER_COLUMNS = (*LUMINOSITY_COLUMNS, "pileup")
FLAG_COLUMNS = ("physics_flag", *DCS_FLAGS)
RUN_ATTRIBUTES = ("fill_number", "start_time", "end_time", "b_field", "energy", "hlt_key", "run_class")


@dataclass(frozen=True)
class RunConditions:
    """Runs and their lumisections as a source describes them, checked and ready to write.

    ``runs`` maps each run number to the run attributes the source knows (names of
    ``RUN_ATTRIBUTES``); ``lumisections`` holds columns of the lumisections table, named as
    there, one value per lumisection; ``clamped`` counts the negative luminosities set to 0.
    """

    runs: dict[int, dict[str, Any]]
    lumisections: dict[str, list]
    clamped: int = 0

    @property
    def size(self) -> int:
        """How many lumisections."""
        return len(self.lumisections["run_number"])


def detect_format(document: Any, name: str = "") -> Format:
    """OMS when the JSON is column-oriented; otherwise a mask, golden or DCS-only as the file name says."""
    if isinstance(document, dict) and "lumisection_number" in document and "run_number" in document:
        return "oms"
    lowered = name.lower()
    if "dcs" in lowered:
        return "dcs"
    if "golden" in lowered or "cert" in lowered:
        return "golden"
    raise Refused(
        "cannot tell a golden JSON from a DCS-only JSON by its content; name the format with --as golden or --as dcs"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


CHECKS = {
    **{name: (_is_number, "a finite number") for name in NUMBER_COLUMNS},
    **{name: (lambda value: isinstance(value, bool), "true or false") for name in FLAG_COLUMNS},
    "fill_number": (_is_count, "a positive whole number"),
}


def parse_oms(document: Mapping) -> RunConditions:
    """The runs and lumisections of a column-oriented OMS document, checked: equal lengths, valid values."""
    missing = [c for c in REQUIRED_OMS if c not in document]
    if missing:
        raise Refused(f"the OMS file lacks the column(s) {', '.join(missing)}")
    columns = {name: values for name, values in document.items() if name in OMS_COLUMNS}
    for name, values in columns.items():
        if not isinstance(values, list):
            raise Refused(f"column {name!r} must be a list, one value per lumisection")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in sorted(lengths.items()))
        raise Refused(f"the columns have different lengths ({detail}); row i must be one lumisection")
    runs, numbers = columns["run_number"], columns["lumisection_number"]
    for i, (run, number) in enumerate(zip(runs, numbers, strict=True)):
        if not (_is_count(run) and _is_count(number)):
            raise Refused(f"row {i}: run {run!r} and lumisection {number!r} must be positive whole numbers")
    for name, values in columns.items():
        check, what = CHECKS.get(name, (None, ""))
        bad = next((i for i, v in enumerate(values) if v is not None and not check(v)), None) if check else None
        if bad is not None:
            where = f"row {bad} (run {runs[bad]}, lumisection {numbers[bad]})"
            raise Refused(f"{where}: {name} must be {what} or null, not {values[bad]!r}")
    seen: set[tuple[int, int]] = set()
    for key in zip(runs, numbers, strict=True):
        if key in seen:
            raise Refused(f"run {key[0]} lumisection {key[1]} appears twice")
        seen.add(key)
    clamped = 0
    for name in LUMINOSITY_COLUMNS:
        if name in columns:
            columns[name], negative = clamp_negative(columns[name])
            clamped += negative
    lumisections = {target: columns[source] for source, target in OMS_COLUMNS.items() if target and source in columns}
    flags = [columns.get(name, [None] * len(runs)) for name in DCS_FLAGS]
    lumisections["dcs_ok"] = [dcs_ok(dict(zip(DCS_FLAGS, values, strict=True))) for values in zip(*flags, strict=True)]
    attributes: dict[int, dict[str, Any]] = {run: {} for run in runs}
    for run, fill in zip(runs, columns.get("fill_number", ()), strict=False):
        if fill is not None:
            attributes[run]["fill_number"] = fill
    return RunConditions(attributes, lumisections, clamped)


def clamp_negative(values: list) -> tuple[list, int]:
    """The values with negative ones set to 0.0, and how many there were.

    OMS rounds a luminometer's noise around zero to small negative luminosities (about -1e-9 pb⁻¹) where there
    was no beam; a luminosity is never negative, and sums and weights must not go below zero.
    """
    negative = sum(1 for v in values if v is not None and v < 0)
    if not negative:
        return values, 0
    return [0.0 if v is not None and v < 0 else v for v in values], negative


def load_json(path: str | Path) -> Any:
    """The parsed JSON of a file, or Refused naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise Refused(f"{path.name} is not JSON: {error}") from None


def oms_conditions(document: Any) -> RunConditions:
    """The runs and lumisections of a parsed OMS per-lumisection file."""
    if not isinstance(document, dict):
        raise Refused("an OMS file is a JSON object of columns")
    return parse_oms(document)
