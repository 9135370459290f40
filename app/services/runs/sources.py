"""Where runs and their per-lumisection conditions come from: an OMS JSON file, or the OMS API.

Each source reads and checks everything into a ``RunConditions`` before anything is written;
``run_import.import_conditions`` then writes it, the same way whatever the source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from app.models.runs import derive_run_class
from app.services.errors import Refused
from app.services.runs.documents import RunConditions, load_json, oms_conditions, parse_oms
from app.services.runs.oms import LUMISECTION_FIELDS, OmsClient

HLT_KEY_LENGTH = 200


class RunSource(Protocol):
    """Something that describes runs and their lumisections."""

    def read(self) -> RunConditions:
        """Everything the source says, checked; raises Refused, having written nothing."""
        ...


@dataclass(frozen=True)
class OmsFile:
    """An OMS per-lumisection JSON file: one list per column, row i is one lumisection."""

    path: Path

    def read(self) -> RunConditions:
        """The runs and lumisections of the file."""
        return oms_conditions(load_json(self.path))


@dataclass(frozen=True)
class OmsApi:
    """Runs fetched from the OMS API: their attributes from /runs, their conditions from /lumisections."""

    client: OmsClient
    run_numbers: tuple[int, ...]

    def read(self) -> RunConditions:
        """The runs and lumisections OMS has for the run numbers, as an OMS file of them would give."""
        columns: dict[str, list] = {field: [] for field in LUMISECTION_FIELDS}
        runs = {}
        try:
            for run_number in dict.fromkeys(self.run_numbers):
                runs[run_number] = run_attributes(self.client.run(run_number))
                lumisections = self.client.lumisections(run_number)
                if not lumisections:
                    raise Refused(f"OMS has no lumisections for run {run_number}", 404)
                for field, values in columns.items():
                    values.extend(record.get(field) for record in lumisections)
        finally:
            self.client.close()
        try:
            conditions = parse_oms(columns)
        except Refused as refused:
            raise Refused(f"OMS sent lumisections that cannot be imported: {refused.message}", 502) from None
        for run, attributes in runs.items():
            # The run record wins, but the lumisections still tell the fill when it does not.
            attributes |= {k: v for k, v in conditions.runs[run].items() if attributes.get(k) is None}
        return RunConditions(runs, conditions.lumisections, conditions.clamped)


def oms_api(config: dict[str, Any], run_numbers: Iterable[int]) -> OmsApi:
    """The OMS API source of the app's configuration for these runs; Refused when OMS_API_URL is unset."""
    return OmsApi(OmsClient.from_config(config), tuple(run_numbers))


def run_attributes(record: dict[str, Any]) -> dict[str, Any]:
    """The runs-table attributes of an OMS run record, checked; Refused naming the first bad one."""
    run = record.get("run_number")

    def value(name: str, kind: type | tuple[type, ...], what: str) -> Any:
        found = record.get(name)
        if found is not None and (isinstance(found, bool) or not isinstance(found, kind)):
            raise Refused(f"OMS run {run}: {name} must be {what} or null, not {found!r}", 502)
        return found

    hlt_key = value("hlt_key", str, "a string")
    if hlt_key is not None and len(hlt_key) > HLT_KEY_LENGTH:
        raise Refused(f"OMS run {run}: hlt_key is longer than {HLT_KEY_LENGTH} characters", 502)
    stable_beam = record.get("stable_beam")
    if stable_beam is not None and not isinstance(stable_beam, bool):
        raise Refused(f"OMS run {run}: stable_beam must be true or false or null, not {stable_beam!r}", 502)
    fill = value("fill_number", int, "a whole number")
    b_field, energy = value("b_field", (int, float), "a number"), value("energy", (int, float), "a number")
    return {
        "fill_number": fill,
        "start_time": _timestamp(run, "start_time", record.get("start_time")),
        "end_time": _timestamp(run, "end_time", record.get("end_time")),
        "b_field": None if b_field is None else float(b_field),
        "energy": None if energy is None else float(energy),
        "hlt_key": hlt_key,
        "run_class": derive_run_class(hlt_key, bool(stable_beam)),
    }


def _timestamp(run: Any, name: str, text: Any) -> datetime | None:
    """An OMS time (ISO 8601, UTC when it names no zone) as an aware datetime."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise Refused(f"OMS run {run}: {name} must be an ISO 8601 time or null, not {text!r}", 502) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
