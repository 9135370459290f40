"""The CMS Run Registry's API: reading the tracker's per-component lumisection ranges of runs and storing them,
and the lumisection edit that writes one range of one component.

RR answers ``POST {RR_API_URL}/lumisections/rr_lumisection_ranges_by_component`` with the JSON body
``{"run_number": N, "dataset_name": "online"}`` by an object of component name to its ranges,
``{"tracker-pixel": [{"start", "end", "status", "comment", "cause"}], ...}``, as the official
``runregistry`` client reads it. Only the tracker's components are kept. Every run is fetched and
checked before anything is written; a failure of RR, or an answer that is not what RR sends, raises
Refused (502) naming the run. An edit is ``PUT {RR_API_URL}/lumisections/edit_rr_lumisections`` with the
body the official client's ``edit_rr_lumisections`` sends (``edit_body``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import requests

from app.extensions import db
from app.models import RrRange
from app.services.errors import Refused
from app.services.runs.api_client import JsonApiClient, configured_url

PATH = "/lumisections/rr_lumisection_ranges_by_component"
EDIT_PATH = "/lumisections/edit_rr_lumisections"
COMPONENTS = ("tracker-pixel", "tracker-strip", "tracker-track")
STATUSES = ("GOOD", "BAD", "STANDBY", "EXCLUDED", "NOTSET", "EMPTY")
EDIT_STATUSES = ("GOOD", "BAD", "STANDBY", "EXCLUDED", "NOTSET")  # what an edit may set (EMPTY is RR's own gap)
DEFAULT_DATASET = "online"


@dataclass(frozen=True)
class Range:
    """Lumisections first..last (inclusive) of one component, as RR flags them."""

    first: int
    last: int
    status: str
    cause: str
    comment: str

    def as_json(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "last": self.last,
            "status": self.status,
            "cause": self.cause,
            "comment": self.comment,
        }


# A run's tracker components and their ranges, in lumisection order.
Ranges = dict[str, list[Range]]


class RunRegistryClient(JsonApiClient):
    """Fetches lumisection ranges from one RR API base URL, e.g. https://cmsrunregistry.web.cern.ch/api."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunRegistryClient:
        """The client the app's configuration describes; Refused when RR_API_URL is not set."""
        example = "the Run Registry API (e.g. https://cmsrunregistry.web.cern.ch/api)"
        return cls(
            configured_url(config, "RR_API_URL", example, "read runs from the Run Registry"),
            token=config.get("RR_TOKEN"),
            verify_tls=config.get("RR_VERIFY_TLS", True),
            timeout=config.get("RR_TIMEOUT", 60.0),
        )

    def ranges(self, run_number: int, dataset_name: str = DEFAULT_DATASET) -> Ranges:
        """The tracker components' ranges of one run in one dataset, checked."""
        body = {"run_number": run_number, "dataset_name": dataset_name}
        answer = self._call("POST", PATH, serialised(body), f"run {run_number} ({dataset_name})")
        return parse_ranges(answer, run_number, dataset_name)

    def edit(self, body: Mapping[str, Any]) -> Any:
        """Send one lumisection edit (an ``edit_body``, sent as ``serialised`` gives it) and return RR's answer."""
        range_ = body["new_lumisection_range"]
        what = (
            f"run {body['run_number']} ({body['dataset_name']}) {body['component']} "
            f"{range_['start']}-{range_['end']} {range_['status']}"
        )
        return self._call("PUT", EDIT_PATH, serialised(body), what)

    def _call(self, method: str, path: str, body: str, what: str) -> Any:
        """RR's JSON answer to one request; Refused (502) naming ``what`` when RR fails or answers no JSON."""
        url = self.base_url + path
        try:
            response = self.session.request(
                method, url, data=body, headers={"Content-Type": "application/json"}, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise Refused(f"cannot reach the Run Registry for {what}: {method} {url}: {error}", 502) from None
        if response.status_code != 200:
            detail = " ".join(response.text.split())[:200]
            raise Refused(
                f"the Run Registry answered {response.status_code} {response.reason} for {what}: {detail}", 502
            )
        try:
            return response.json()
        except ValueError:
            raise Refused(f"the Run Registry's answer for {what} is not JSON", 502) from None


def serialised(body: Mapping[str, Any]) -> str:
    """A request body exactly as it is sent to RR."""
    return json.dumps(body)


def edit_body(
    run_number: int, dataset_name: str, component: str, first: int, last: int, status: str, comment: str, cause: str
) -> dict[str, Any]:
    """The body of one lumisection edit, as the official client's ``edit_rr_lumisections`` sends it."""
    return {
        "new_lumisection_range": {"start": first, "end": last, "status": status, "comment": comment, "cause": cause},
        "run_number": run_number,
        "dataset_name": dataset_name,
        "component": component,
    }


def parse_ranges(answer: Any, run_number: int, dataset_name: str = DEFAULT_DATASET) -> Ranges:
    """The tracker components' ranges of RR's answer for a run; Refused (502) naming the run when malformed.

    A component RR does not list has no ranges; ranges must be whole lumisection numbers, first <= last,
    with an RR status, and a component's ranges must not overlap.
    """
    what = f"run {run_number} ({dataset_name})"

    def malformed(problem: str) -> Refused:
        return Refused(f"the Run Registry's answer for {what} is malformed: {problem}", 502)

    if not isinstance(answer, Mapping):
        raise malformed("not a JSON object of components")
    if "err" in answer:
        raise Refused(f"the Run Registry refused {what}: {answer['err']}", 502)
    ranges: Ranges = {}
    for component in COMPONENTS:
        items = answer.get(component)
        if items is None:
            continue
        if not isinstance(items, list):
            raise malformed(f"{component} is not a list of ranges")
        parsed = [_range(item, f"{component} range {i}", malformed) for i, item in enumerate(items)]
        parsed.sort(key=lambda r: r.first)
        for before, after in pairwise(parsed):
            if after.first <= before.last:
                raise malformed(
                    f"{component} ranges {before.first}-{before.last} and {after.first}-{after.last} overlap"
                )
        ranges[component] = parsed
    return ranges


def _range(item: Any, where: str, malformed: Callable[[str], Refused]) -> Range:
    if not isinstance(item, Mapping):
        raise malformed(f"{where} is not an object")
    first, last = (_lumisection(item.get(name), f"{where} has {name}", malformed) for name in ("start", "end"))
    status = item.get("status")
    if first > last:
        raise malformed(f"{where} starts at {first} after its end {last}")
    if status not in STATUSES:
        raise malformed(f"{where} has status {status!r}, not one of {', '.join(STATUSES)}")
    texts = {}
    for name in ("cause", "comment"):
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            raise malformed(f"{where} has a {name} that is not text")
        texts[name] = value or ""
    return Range(first, last, status, texts["cause"], texts["comment"])


def _lumisection(value: Any, where: str, malformed: Callable[[str], Refused]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise malformed(f"{where} {value!r}, not a lumisection number")
    return value


@dataclass(frozen=True)
class RrReport:
    """What an import from RR wrote."""

    dataset_name: str
    runs: dict[int, int]  # run number to its number of ranges


def fetch_ranges(client: RunRegistryClient, run_numbers: Iterable[int], dataset_name: str) -> dict[int, Ranges]:
    """Every run's ranges, all fetched and checked before the caller writes any."""
    return {run: client.ranges(run, dataset_name) for run in dict.fromkeys(run_numbers)}


def store_ranges(fetched: Mapping[int, Ranges], dataset_name: str) -> RrReport:
    """Replace the stored ranges of each run in this dataset by the fetched ones, in one transaction."""
    try:
        for run_number, ranges in fetched.items():
            db.session.execute(
                db.delete(RrRange).where(RrRange.run_number == run_number, RrRange.dataset_name == dataset_name)
            )
            db.session.add_all(
                RrRange(
                    run_number=run_number,
                    dataset_name=dataset_name,
                    component=component,
                    first=r.first,
                    last=r.last,
                    status=r.status,
                    cause=r.cause,
                    comment=r.comment,
                )
                for component, items in ranges.items()
                for r in items
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return RrReport(dataset_name, {run: sum(map(len, ranges.values())) for run, ranges in fetched.items()})


def import_from_rr(
    client: RunRegistryClient, run_numbers: Iterable[int], dataset_name: str = DEFAULT_DATASET
) -> RrReport:
    """Fetch the runs' tracker ranges from RR, then store them all; nothing is written if one fetch fails."""
    return store_ranges(fetch_ranges(client, run_numbers, dataset_name), dataset_name)


def run_ranges(run_number: int) -> dict[str, list[dict[str, Any]]] | None:
    """A run's imported RR ranges by component, of dataset ``online`` when imported, else of the first
    dataset by name; None when none was imported."""
    rows = db.session.execute(
        db.select(RrRange)
        .where(RrRange.run_number == run_number)
        .order_by(RrRange.dataset_name != DEFAULT_DATASET, RrRange.dataset_name, RrRange.component, RrRange.first)
    ).scalars()
    ranges: dict[str, list[dict[str, Any]]] = {}
    dataset = None
    for row in rows:
        dataset = dataset or row.dataset_name
        if row.dataset_name == dataset:
            ranges.setdefault(row.component, []).append(
                Range(row.first, row.last, row.status, row.cause, row.comment).as_json()
            )
    return ranges if dataset else None
