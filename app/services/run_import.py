"""Importing runs and lumisections: OMS per-lumisection conditions, and golden or DCS-only JSON masks.

Each file is parsed and checked whole before anything is written, then written in
one transaction; importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, insert, update

from app.extensions import db
from app.models.runs import DCS_FLAGS, Lumisection, Run, dcs_ok
from app.models.types import utcnow
from app.services import lumimask

Format = Literal["oms", "dcs", "golden"]
OMS_COLUMNS = {
    "run_number": "run_number",
    "lumisection_number": "number",
    "fill_number": None,
    "delivered_lumi_per_lumisection": "delivered_lumi",
    "recorded_lumi_per_lumisection": "recorded_lumi",
    "pileup": "pileup",
    "physics_flag": "physics_flag",
    **{flag: flag for flag in DCS_FLAGS},
}
REQUIRED_OMS = ("run_number", "lumisection_number")


class RunImportError(ValueError):
    """A file that cannot be imported; the message says what is wrong and where."""


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    format: str
    runs: int
    lumisections: int


def detect_format(document: Any, name: str = "") -> Format:
    """OMS when the JSON is column-oriented; otherwise a mask, golden or DCS-only as the file name says."""
    if isinstance(document, dict) and "lumisection_number" in document and "run_number" in document:
        return "oms"
    lowered = name.lower()
    if "dcs" in lowered:
        return "dcs"
    if "golden" in lowered or "cert" in lowered:
        return "golden"
    raise RunImportError(
        "cannot tell a golden JSON from a DCS-only JSON by its content; name the format with --as golden or --as dcs"
    )


def parse_oms(document: dict) -> list[dict[str, Any]]:
    """Rows of a column-oriented OMS per-lumisection document, checked: equal lengths, valid numbers."""
    missing = [c for c in REQUIRED_OMS if c not in document]
    if missing:
        raise RunImportError(f"the OMS file lacks the column(s) {', '.join(missing)}")
    columns = {name: values for name, values in document.items() if name in OMS_COLUMNS}
    for name, values in columns.items():
        if not isinstance(values, list):
            raise RunImportError(f"column {name!r} must be a list, one value per lumisection")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in sorted(lengths.items()))
        raise RunImportError(f"the columns have different lengths ({detail}); row i must be one lumisection")
    rows = []
    for i in range(lengths["run_number"]):
        run, number = columns["run_number"][i], columns["lumisection_number"][i]
        if not (isinstance(run, int) and run > 0 and isinstance(number, int) and number > 0):
            raise RunImportError(f"row {i}: run {run!r} and lumisection {number!r} must be positive whole numbers")
        row = {target: columns[source][i] for source, target in OMS_COLUMNS.items() if target and source in columns}
        row["dcs_ok"] = dcs_ok(row)
        if "fill_number" in columns:
            row["_fill"] = columns["fill_number"][i]
        rows.append(row)
    seen = set()
    for row in rows:
        key = (row["run_number"], row["number"])
        if key in seen:
            raise RunImportError(f"run {key[0]} lumisection {key[1]} appears twice")
        seen.add(key)
    return rows


def _upsert(columns: list[str], rows: list[tuple], update: list[str]) -> None:
    """Insert lumisections, or update the given columns of those already there, in the session's transaction.

    Hundreds of thousands of rows go through the database driver directly (COPY on PostgreSQL, executemany
    on SQLite): building ORM or Core parameter sets per row would take a minute.
    """
    if not rows:
        return
    names = ", ".join(columns)
    assignments = ", ".join(f"{column} = excluded.{column}" for column in update)
    conflict = f"ON CONFLICT (run_number, number) DO UPDATE SET {assignments}"
    connection = db.session.connection().connection.dbapi_connection
    if db.engine.dialect.name == "postgresql":
        buffer = io.StringIO("".join("\t".join(map(_copy_value, row)) + "\n" for row in rows))
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE lumisections_import ON COMMIT DROP AS SELECT {names} FROM lumisections WITH NO DATA"
            )
            cursor.copy_expert(f"COPY lumisections_import ({names}) FROM STDIN", buffer)
            cursor.execute(f"INSERT INTO lumisections ({names}) SELECT {names} FROM lumisections_import {conflict}")
            cursor.execute("DROP TABLE lumisections_import")
    else:
        placeholders = ", ".join("?" for _ in columns)
        connection.executemany(f"INSERT INTO lumisections ({names}) VALUES ({placeholders}) {conflict}", rows)


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return repr(value) if isinstance(value, float) else str(value)


def _ensure_runs(run_numbers: set[int], fills: dict[int, int] | None = None) -> None:
    """Create the runs not imported yet (one multi-row INSERT), and record fill numbers."""
    existing = set(db.session.execute(db.select(Run.run_number).where(Run.run_number.in_(run_numbers))).scalars())
    new = sorted(run_numbers - existing)
    if new:
        db.session.execute(insert(Run), [{"run_number": n, "imported_at": utcnow()} for n in new])
    for run_number, fill in (fills or {}).items():
        db.session.execute(update(Run).where(Run.run_number == run_number).values(fill_number=fill))


def _refresh_run_totals(run_numbers: set[int]) -> None:
    """Lumisection count and luminosity totals of the runs, in one UPDATE."""
    of_run = Lumisection.run_number == Run.run_number

    def total(expression):
        return db.select(expression).where(of_run).scalar_subquery()

    db.session.execute(
        update(Run)
        .where(Run.run_number.in_(run_numbers))
        .values(
            ls_count=total(func.max(Lumisection.number)),
            delivered_lumi=total(func.sum(Lumisection.delivered_lumi)),
            recorded_lumi=total(func.sum(Lumisection.recorded_lumi)),
        ),
        execution_options={"synchronize_session": False},
    )


def import_oms(document: dict) -> ImportReport:
    """Import OMS per-lumisection conditions (one transaction)."""
    rows = parse_oms(document)
    fills = {row["run_number"]: row.pop("_fill") for row in rows if "_fill" in row}
    runs = {row["run_number"] for row in rows}
    columns = list(rows[0]) if rows else []
    try:
        _ensure_runs(runs, fills)
        changed = [c for c in columns if c not in ("run_number", "number")]
        _upsert(columns, [tuple(row[c] for c in columns) for row in rows], changed)
        _refresh_run_totals(runs)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return ImportReport("oms", len(runs), len(rows))


def import_mask(mask: lumimask.Mask, kind: Literal["dcs", "golden"]) -> ImportReport:
    """Flag the mask's lumisections as DCS-ok or golden, creating runs and lumisections as needed."""
    column = "dcs_ok" if kind == "dcs" else "golden"
    rows = [
        (run, number, True)
        for run, ranges in mask.items()
        for first, last in ranges
        for number in range(first, last + 1)
    ]
    try:
        _ensure_runs(set(mask))
        _upsert(["run_number", "number", column], rows, [column])
        _refresh_run_totals(set(mask))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return ImportReport(kind, len(mask), len(rows))


def import_file(path: str | Path, as_format: Format | None = None) -> ImportReport:
    """Import one OMS, golden or DCS-only JSON file."""
    path = Path(path)
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise RunImportError(f"{path.name} is not JSON: {error}") from None
    kind = as_format or detect_format(document, path.name)
    if kind == "oms":
        if not isinstance(document, dict):
            raise RunImportError("an OMS file is a JSON object of columns")
        return import_oms(document)
    try:
        mask = lumimask.from_json(document)
    except lumimask.MaskError as error:
        raise RunImportError(f"{path.name}: {error}") from None
    return import_mask(mask, kind)


def lumisection_counts() -> dict[str, int]:
    """How many lumisections are DCS-ok and golden, for reports and tests."""
    counts: dict[str, int] = defaultdict(int)
    for column in ("dcs_ok", "golden"):
        counts[column] = db.session.execute(
            db.select(func.count()).select_from(Lumisection).where(getattr(Lumisection, column).is_(True))
        ).scalar_one()
    return dict(counts)
