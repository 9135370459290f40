"""Importing runs and lumisections: OMS per-lumisection conditions, and golden or DCS-only JSON masks.

Whatever the source (a file read by ``documents``, or the OMS API through ``sources``), it is parsed and
checked whole into a ``RunConditions`` before anything is written, then written in one
transaction; importing the same data twice changes nothing the second time, not even
a row version. On PostgreSQL lumisections go through COPY, as a DCS-only file holds
hundreds of thousands; on SQLite, the embedded default, through executemany.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import bindparam, func, or_, update

from app.extensions import db
from app.models.certification import LabellingTask, TaskRun
from app.models.runs import Lumisection, Run
from app.models.types import utcnow
from app.services.certification import lumimask
from app.services.errors import Refused
from app.services.runs.documents import Format, RunConditions, detect_format, load_json, oms_conditions, parse_oms
from app.services.suggestions import live_jobs

KEY = ("run_number", "number")


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote."""

    format: str
    runs: int
    lumisections: int
    clamped: int = 0  # negative luminosities from OMS stored as 0


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


def create_runs(run_numbers: set[int]) -> set[int]:
    """Create the runs not imported yet, bare (their conditions come with OMS), and add them to the tasks with an
    open range, as any import does; returns those created. Part of the caller's transaction."""
    created = _upsert_runs({run: {} for run in run_numbers}) if run_numbers else set()
    _join_open_tasks(created)
    return created


def _driver_connection() -> Any:
    """The session's connection as its driver (psycopg2, sqlite3) made it: COPY and executemany are its own."""
    connection = db.session.connection().connection.dbapi_connection
    if connection is None:
        raise RuntimeError("the session's database connection is closed")
    return connection


def _copy_lumisections(names: list[str], blocks: dict[int, str]) -> None:
    """Insert or update lumisections on PostgreSQL: COPY for runs that have none yet, a merge for the others."""
    with _driver_connection().cursor() as cursor:
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
    _driver_connection().executemany(
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
    live_jobs.runs_imported(runs)


def import_conditions(conditions: RunConditions, kind: str = "oms") -> ImportReport:
    """Write the runs and lumisections a source described (one transaction)."""
    _write(conditions.runs, _ColumnRows(conditions.lumisections))
    return ImportReport(kind, len(conditions.runs), conditions.size, conditions.clamped)


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
