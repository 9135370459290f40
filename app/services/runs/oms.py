"""A read-only client of the CMS OMS aggregation API: runs and their lumisections, page by page.

OMS answers JSON:API pages, ``{"data": [{"id": ..., "attributes": {...}}], "links": {"next": ...},
"meta": {...}}``, to ``GET {base}/runs?filter[run_number][EQ]=N`` and ``GET {base}/lumisections
?filter[run_number][EQ]=N&page[offset]=..&page[limit]=..``. Every failure, an unreachable server, an
HTTP error or a page that is not what OMS sends, raises Refused (502) naming the request, so that a caller
fetches everything before writing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from app.services.errors import Refused
from app.services.runs.api_client import JsonApiClient, configured_url

RUN_FIELDS = (
    "run_number",
    "fill_number",
    "start_time",
    "end_time",
    "b_field",
    "energy",
    "hlt_key",
    "stable_beam",
    "delivered_lumi",
    "recorded_lumi",
    "last_lumisection_number",
)
LUMISECTION_FIELDS = (
    "run_number",
    "lumisection_number",
    "fill_number",
    "delivered_lumi_per_lumisection",
    "recorded_lumi_per_lumisection",
    "pileup",
    "physics_flag",
    "beams_stable",
    "cms_active",
    "bpix_ready",
    "fpix_ready",
    "tibtid_ready",
    "tob_ready",
    "tecp_ready",
    "tecm_ready",
)
MAX_PAGES = 10_000  # a run has a few thousand lumisections: more pages means a server that never stops


class OmsClient(JsonApiClient):
    """Fetches runs and lumisections from one OMS API base URL, e.g. https://cmsoms.cern.ch/agg/api/v1."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        verify_tls: bool = True,
        page_limit: int = 1000,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        if page_limit < 1:
            raise ValueError("page_limit must be at least 1")
        super().__init__(base_url, token, verify_tls, timeout, session)
        self.page_limit = page_limit

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OmsClient:
        """The client the app's configuration describes; Refused when OMS_API_URL is not set."""
        example = "the OMS aggregation API (e.g. https://cmsoms.cern.ch/agg/api/v1)"
        return cls(
            configured_url(config, "OMS_API_URL", example, "fetch runs from OMS"),
            token=config.get("OMS_TOKEN"),
            verify_tls=config.get("OMS_VERIFY_TLS", True),
            page_limit=config.get("OMS_PAGE_LIMIT", 1000),
            timeout=config.get("OMS_TIMEOUT", 30.0),
        )

    def run(self, run_number: int) -> dict[str, Any]:
        """The attributes of one run (RUN_FIELDS); Refused when OMS does not know it."""
        records = self._records("runs", run_number, RUN_FIELDS)
        if not records:
            raise Refused(f"OMS knows no run {run_number}", 404)
        if len(records) > 1:
            raise Refused(f"OMS answered {len(records)} runs for run {run_number}", 502)
        return records[0]

    def lumisections(self, run_number: int) -> list[dict[str, Any]]:
        """The attributes of every lumisection of a run (LUMISECTION_FIELDS), all pages, by number."""
        return self._records("lumisections", run_number, LUMISECTION_FIELDS, sort="lumisection_number")

    def _records(self, resource: str, run_number: int, fields: tuple[str, ...], sort: str = "") -> list[dict]:
        """The attributes of every record of the resource for the run, following the pages to the end.

        A page's ``links.next`` is followed while OMS gives one; a server that gives no links is read
        by offset until a page comes back shorter than the limit.
        """
        query = {"filter[run_number][EQ]": run_number, "fields": ",".join(fields)}
        if sort:
            query["sort"] = sort
        records: list[dict] = []
        url: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            if url is None:
                query |= {"page[offset]": len(records), "page[limit]": self.page_limit}
                url = f"{self.base_url}/{resource}?{urlencode(query, safe='[],')}"
            if url in seen:
                raise Refused(f"OMS pages loop: GET {url} was already read", 502)
            seen.add(url)
            page = self._get(url)
            data = _page_data(page, url)
            for item in data:
                if item.get("run_number") != run_number:
                    raise Refused(f"OMS answered a record of run {item.get('run_number')!r} to GET {url}", 502)
            records.extend(data)
            links = page.get("links")
            if isinstance(links, Mapping) and "next" in links:
                if not links["next"] or not data:
                    return records
                if not isinstance(links["next"], str):
                    raise Refused(f"OMS page of GET {url} is malformed: links.next is not a URL", 502)
                url = urljoin(url, links["next"])
            elif len(data) < self.page_limit:
                return records
            else:
                url = None
        raise Refused(f"OMS kept sending pages for run {run_number} after {MAX_PAGES}", 502)

    def _get(self, url: str) -> Mapping[str, Any]:
        """One page, parsed."""
        try:
            response = self.session.get(url, timeout=self.timeout)
        except requests.RequestException as error:
            raise Refused(f"cannot reach OMS: GET {url}: {error}", 502) from None
        if response.status_code != 200:
            detail = " ".join(response.text.split())[:200]
            raise Refused(f"OMS answered {response.status_code} {response.reason} to GET {url}: {detail}", 502)
        try:
            page = response.json()
        except ValueError:
            raise Refused(f"OMS page of GET {url} is not JSON", 502) from None
        if not isinstance(page, Mapping):
            raise Refused(f"OMS page of GET {url} is malformed: not a JSON object", 502)
        return page


def _page_data(page: Mapping[str, Any], url: str) -> list[dict[str, Any]]:
    """The attributes of the records of one page, checked to be JSON:API records."""
    data = page.get("data")
    if not isinstance(data, list):
        raise Refused(f"OMS page of GET {url} is malformed: 'data' must be a list of records", 502)
    records = []
    for i, item in enumerate(data):
        attributes = item.get("attributes") if isinstance(item, Mapping) else None
        if not isinstance(attributes, Mapping):
            raise Refused(f"OMS page of GET {url} is malformed: record {i} has no 'attributes' object", 502)
        records.append(dict(attributes))
    return records
