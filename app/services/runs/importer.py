"""Importing runs and lumisections: OMS per-lumisection conditions, and golden or DCS-only JSON masks.

Whatever the source (a file, or the OMS API through ``run_sources``), it is parsed and
checked whole into a ``RunConditions`` before anything is written, then written in one
transaction; importing the same data twice changes nothing the second time, not even
a row version. On PostgreSQL lumisections go through COPY, as a DCS-only file holds
hundreds of thousands; on SQLite, the embedded default, through executemany.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import bindparam, func, or_, select, update

from app.extensions import db
from app.models.certification import LabellingTask, TaskRun
from app.models.competitions import Competition
from app.models.runs import DCS_FLAGS, Lumisection, Run, dcs_ok
from app.models.types import utcnow
from app.services.certification import lumimask
from app.services.errors import Refused
from app.services.queue import enqueue

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
NUMBER_COLUMNS = ("delivered_lumi_per_lumisection", "recorded_lumi_per_lumisection", "pileup")
FLAG_COLUMNS = ("physics_flag", *DCS_FLAGS)
RUN_ATTRIBUTES = ("fill_number", "start_time", "end_time", "b_field", "energy", "hlt_key", "run_class")
KEY = ("run_number", "number")
# pending.csv of the live competitions whose task holds imported runs (enqueued by path: never app -> workers)
LIVE_RUNS_JOB = "workers.live.runs_imported"


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    format: str
    runs: int
    lumisections: int


@dataclass(frozen=True)
class RunConditions:
    """Runs and their lumisections as a source describes them, checked and ready to write.

    ``runs`` maps each run number to the run attributes the source knows (names of
    ``RUN_ATTRIBUTES``); ``lumisections`` holds columns of the lumisections table, named as
    there, one value per lumisection.
    """

    runs: dict[int, dict[str, Any]]
    lumisections: dict[str, list]

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
    lumisections = {target: columns[source] for source, target in OMS_COLUMNS.items() if target and source in columns}
    flags = [columns.get(name, [None] * len(runs)) for name in DCS_FLAGS]
    lumisections["dcs_ok"] = [dcs_ok(dict(zip(DCS_FLAGS, values, strict=True))) for values in zip(*flags, strict=True)]
    attributes: dict[int, dict[str, Any]] = {run: {} for run in runs}
    for run, fill in zip(runs, columns.get("fill_number", ()), strict=False):
        if fill is not None:
            attributes[run]["fill_number"] = fill
    return RunConditions(attributes, lumisections)


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


class _ColumnRows:
    """Lumisection rows given as columns, as OMS gives them."""

    def __init__(self, columns: dict[str, list]) -> None:
        self.names = list(columns)
        self.columns = columns

    def tuples(self) -> list[tuple]:
        return list(zip(*self.columns.values(), strict=True))

    def copy_blocks(self) -> dict[int, str]:
        """COPY text of the rows, one block per run."""
        text = [_copy_column(values) for values in self.columns.values()]
        lines: dict[int, list[str]] = defaultdict(list)
        for run, line in zip(self.columns["run_number"], map("\t".join, zip(*text, strict=True)), strict=True):
            lines[run].append(line)
        return {run: "\n".join(block) + "\n" for run, block in lines.items()}


class _MaskRows:
    """Lumisection rows given as a mask: every lumisection of its ranges gets the flag column set."""

    def __init__(self, mask: lumimask.Mask, column: str) -> None:
        self.names = ["run_number", "number", column]
        self.mask = mask

    def tuples(self) -> list[tuple]:
        return [(run, n, True) for run, ranges in self.mask.items() for a, b in ranges for n in range(a, b + 1)]

    def copy_blocks(self) -> dict[int, str]:
        """COPY text of the rows, one block per run."""
        # Joined a range at a time rather than formatted a row at a time: ten times faster
        # on a DCS-only file of 277,000 lumisections, where it is most of the Python time.
        blocks = {}
        for run, ranges in self.mask.items():
            head, tail = f"{run}\t", "\tt\n"
            blocks[run] = "".join(head + (tail + head).join(map(str, range(a, b + 1))) + tail for a, b in ranges)
        return blocks


def _copy_column(values: list) -> list[str]:
    """COPY text of one column: \\N for null, t or f for a flag, the shortest exact text of a number."""
    return ["\\N" if v is None else "t" if v is True else "f" if v is False else repr(v) for v in values]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _upsert_runs(runs: dict[int, dict[str, Any]]) -> set[int]:
    """Create the runs not imported yet, and set the attributes given on the others where they change; returns
    the run numbers created."""
    table = Run.__table__
    now = utcnow()
    existing = set(db.session.execute(db.select(table.c.run_number).where(table.c.run_number.in_(runs))).scalars())
    # Plain INSERT and UPDATE rather than one upsert: SQLAlchemy batches the rows of a plain INSERT
    # into a few statements, but sends those of an INSERT ... ON CONFLICT one at a time.
    new: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    changed: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for run, attributes in runs.items():
        if run not in existing:
            new[tuple(sorted(attributes))].append({"run_number": run, "imported_at": now, **attributes})
        elif attributes:
            changed[tuple(sorted(attributes))].append({"run": run, **{f"new_{k}": v for k, v in attributes.items()}})
    for rows in new.values():
        db.session.execute(table.insert(), rows)
    for names, rows in changed.items():
        statement = (
            update(table)
            .where(table.c.run_number == bindparam("run"))
            .where(or_(*(table.c[name].is_distinct_from(bindparam(f"new_{name}")) for name in names)))
            .values({name: bindparam(f"new_{name}") for name in names} | {"imported_at": now})
        )
        db.session.execute(statement, rows)
    return set(runs) - existing


def _join_open_tasks(new_runs: set[int]) -> None:
    """Add newly created runs to every task with an open range (runs_from) that they fall in.

    The one place runs are created, so that whatever the import (OMS file or API, DCS or golden JSON, and any
    later importer going through _write), a task created with `--runs FIRST-` sees runs as they arrive.
    """
    if not new_runs:
        return
    following = db.session.execute(
        db.select(LabellingTask.id, LabellingTask.runs_from).where(LabellingTask.runs_from.is_not(None))
    ).all()
    rows = [
        {"task_id": task_id, "run_number": run}
        for task_id, first in following
        for run in sorted(new_runs)
        if run >= first
    ]
    if rows:
        db.session.execute(TaskRun.__table__.insert(), rows)


def _copy_lumisections(names: list[str], blocks: dict[int, str]) -> None:
    """Insert or update lumisections on PostgreSQL: COPY for runs that have none yet, a merge for the others."""
    with db.session.connection().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.run FROM unnest(%s::bigint[]) AS r(run)"
            " WHERE EXISTS (SELECT 1 FROM lumisections AS l WHERE l.run_number = r.run)",
            (list(blocks),),
        )
        known = {run for (run,) in cursor.fetchall()}
        new = "".join(text for run, text in blocks.items() if run not in known)
        if new:
            cursor.copy_expert(f"COPY lumisections ({', '.join(names)}) FROM STDIN", io.StringIO(new))
        if known:
            _merge_lumisections(cursor, names, "".join(blocks[run] for run in known))


def _merge_lumisections(cursor, names: list[str], text: str) -> None:
    """Stage the COPY text, then update the lumisections that differ and insert the missing ones.

    Unchanged rows are not touched, so a re-import writes nothing; an INSERT ... ON CONFLICT would lock
    every row it meets, and took twice as long on a re-imported DCS-only file.
    """
    listed = ", ".join(names)
    cursor.execute(f"CREATE TEMP TABLE lumisections_import ON COMMIT DROP AS SELECT {listed} FROM lumisections LIMIT 0")
    cursor.copy_expert(f"COPY lumisections_import ({listed}) FROM STDIN", io.StringIO(text))
    cursor.execute("ANALYZE lumisections_import")
    same_key = "l.run_number = i.run_number AND l.number = i.number"
    values = [name for name in names if name not in KEY]
    if values:
        assignments = ", ".join(f"{name} = i.{name}" for name in values)
        changed = " OR ".join(f"l.{name} IS DISTINCT FROM i.{name}" for name in values)
        cursor.execute(
            f"UPDATE lumisections AS l SET {assignments} FROM lumisections_import AS i WHERE {same_key} AND ({changed})"
        )
    cursor.execute(
        f"INSERT INTO lumisections ({listed}) SELECT {listed} FROM lumisections_import AS i"
        f" WHERE NOT EXISTS (SELECT 1 FROM lumisections AS l WHERE {same_key})"
    )
    cursor.execute("DROP TABLE lumisections_import")


def _executemany_lumisections(names: list[str], rows: list[tuple]) -> None:
    """Insert or update lumisections on SQLite, only those that change."""
    values = [name for name in names if name not in KEY]
    action = "NOTHING"
    if values:
        assignments = ", ".join(f"{name} = excluded.{name}" for name in values)
        changed = " OR ".join(f"lumisections.{name} IS NOT excluded.{name}" for name in values)
        action = f"UPDATE SET {assignments} WHERE {changed}"
    placeholders = ", ".join("?" for _ in names)
    connection = db.session.connection().connection.dbapi_connection
    connection.executemany(
        f"INSERT INTO lumisections ({', '.join(names)}) VALUES ({placeholders})"
        f" ON CONFLICT (run_number, number) DO {action}",
        rows,
    )


def _refresh_run_totals(run_numbers: set[int]) -> None:
    """Lumisection count and luminosity totals of the runs, in one UPDATE of those that change."""
    lumisection, run = Lumisection.__table__.c, Run.__table__.c
    totals = (
        db.select(
            lumisection.run_number,
            func.max(lumisection.number).label("ls_count"),
            func.sum(lumisection.delivered_lumi).label("delivered_lumi"),
            func.sum(lumisection.recorded_lumi).label("recorded_lumi"),
        )
        .where(lumisection.run_number.in_(run_numbers))
        .group_by(lumisection.run_number)
        .subquery()
    )
    names = ("ls_count", "delivered_lumi", "recorded_lumi")
    db.session.execute(
        update(Run.__table__)
        .where(run.run_number == totals.c.run_number)
        .where(or_(*(run[name].is_distinct_from(totals.c[name]) for name in names)))
        .values({name: totals.c[name] for name in names} | {"imported_at": utcnow()})
    )


def _write(runs: dict[int, dict[str, Any]], rows: _ColumnRows | _MaskRows) -> None:
    """Write runs and lumisections in one transaction, leaving unchanged rows untouched."""
    try:
        postgres = _dialect() == "postgresql"
        if postgres:
            # Imports run one at a time, so that the lumisections a run has, looked up before
            # writing, are still all it has when COPY adds the others; readers are not blocked.
            db.session.execute(db.text("LOCK TABLE lumisections IN SHARE ROW EXCLUSIVE MODE"))
        if runs:
            _join_open_tasks(_upsert_runs(runs))
            if postgres:
                _copy_lumisections(rows.names, rows.copy_blocks())
            else:
                _executemany_lumisections(rows.names, rows.tuples())
            _refresh_run_totals(set(runs))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _after_import(list(runs))


def _after_import(run_numbers: list[int]) -> None:
    """Live competitions serve the lumisections still to certify: their pending.csv is rewritten by a job."""
    if run_numbers and db.session.execute(select(Competition.id).where(Competition.live.is_(True)).limit(1)).first():
        try:
            enqueue(LIVE_RUNS_JOB, sorted(run_numbers))
        except Exception:  # a queue outage must not hide the import that was committed
            logging.getLogger(__name__).exception("could not enqueue %s", LIVE_RUNS_JOB)


def import_conditions(conditions: RunConditions, kind: str = "oms") -> ImportReport:
    """Write the runs and lumisections a source described (one transaction)."""
    _write(conditions.runs, _ColumnRows(conditions.lumisections))
    return ImportReport(kind, len(conditions.runs), conditions.size)


def import_oms(document: dict) -> ImportReport:
    """Import OMS per-lumisection conditions (one transaction)."""
    return import_conditions(parse_oms(document))


def import_mask(mask: lumimask.Mask, kind: Literal["dcs", "golden"]) -> ImportReport:
    """Flag the mask's lumisections as DCS-ok or golden, creating runs and lumisections as needed."""
    rows = _MaskRows(mask, "dcs_ok" if kind == "dcs" else "golden")
    _write({run: {} for run in mask}, rows)
    return ImportReport(kind, len(mask), sum(b - a + 1 for ranges in mask.values() for a, b in ranges))


def import_file(path: str | Path, as_format: Format | None = None) -> ImportReport:
    """Import one OMS, golden or DCS-only JSON file; Refused, with nothing written, saying what is wrong and where."""
    path = Path(path)
    document = load_json(path)
    kind = as_format or detect_format(document, path.name)
    if kind == "oms":
        return import_conditions(oms_conditions(document))
    try:
        mask = lumimask.from_json(document)
    except Refused as refused:
        raise Refused(f"{path.name}: {refused.message}") from None
    return import_mask(mask, kind)


def lumisection_counts() -> dict[str, int]:
    """How many lumisections are DCS-ok and golden, for reports and tests."""
    counts: dict[str, int] = defaultdict(int)
    for column in ("dcs_ok", "golden"):
        counts[column] = db.session.execute(
            db.select(func.count()).select_from(Lumisection).where(getattr(Lumisection, column).is_(True))
        ).scalar_one()
    return dict(counts)
