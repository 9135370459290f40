"""Importing runs from the OMS API, against a local server answering the recorded pages of tests/fixtures/oms.

The server is a real HTTP server on 127.0.0.1; the client pages through it as through OMS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db
from app.models import Lumisection, Run
from app.services.errors import Refused
from app.services.runs.importer import import_conditions, import_file
from app.services.runs.oms import OmsClient
from app.services.runs.sources import OmsApi

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PAGES = FIXTURES / "oms"
RECORDED_BASE = "https://cmsoms.cern.ch/agg/api/v1"
RUNS = (378856, 378960)  # 163 lumisections on 4 linked pages, 58 on 2 pages read by offset


class OmsServer:
    """A stand-in for the OMS API: serves the recorded pages, records each request, injects faults."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.faults: dict[tuple[str, str, str | None], tuple[int, bytes]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = server.answer(self.path, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/agg/api/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and body for a request: a fault when one is set for it, else the recorded page."""
        parts = urlsplit(target)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        self.requests.append((parts.path, query, headers))
        resource = parts.path.rsplit("/", 1)[-1]
        run = query.get("filter[run_number][EQ]", "")
        offset = query.get("page[offset]") if resource == "lumisections" else None
        if (resource, run, offset) in self.faults:
            status, body = self.faults[resource, run, offset]
        else:
            name = f"runs_{run}.json" if resource == "runs" else f"{resource}_{run}_offset{offset}_limit"
            name += "" if resource == "runs" else f"{query.get('page[limit]')}.json"
            page = PAGES / name
            status, body = (200, page.read_bytes()) if page.is_file() else (404, b'{"errors": ["not found"]}')
        return status, body.replace(RECORDED_BASE.encode(), self.url.encode())

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def oms() -> Iterator[OmsServer]:
    """A local OMS API serving the recorded pages."""
    server = OmsServer()
    yield server
    server.stop()


def _client(oms: OmsServer, **options) -> OmsClient:
    return OmsClient(oms.url, page_limit=50, **options)


def _conditions() -> tuple[list, list]:
    """What an import writes, without surrogate ids and import times: the lumisections and the run totals."""
    lumisection = [c for c in Lumisection.__table__.c if c.name != "id"]
    run = [Run.run_number, Run.fill_number, Run.ls_count, Run.delivered_lumi, Run.recorded_lumi]
    return (
        db.session.execute(db.select(*lumisection).order_by(Lumisection.run_number, Lumisection.number)).all(),
        db.session.execute(db.select(*run).order_by(Run.run_number)).all(),
    )


def _everything() -> tuple[list, list]:
    return (
        db.session.execute(db.select(Lumisection.__table__).order_by(Lumisection.id)).all(),
        db.session.execute(db.select(Run.__table__).order_by(Run.run_number)).all(),
    )


def _file_of_runs(path: Path, runs: tuple[int, ...]) -> Path:
    """The real 2024A OMS file cut down to these runs."""
    document = json.loads((FIXTURES / "cms" / "oms_lumisections_2024A.json").read_text())
    rows = [i for i, run in enumerate(document["run_number"]) if run in runs]
    path.write_text(json.dumps({name: [values[i] for i in rows] for name, values in document.items()}))
    return path


@pytest.mark.databases("sqlite", "postgresql")
def test_runs_from_the_api_equal_the_same_runs_from_the_file(app, oms, tmp_path):
    with app.app_context():
        report = import_conditions(OmsApi(_client(oms), RUNS).read())
        assert (report.format, report.runs, report.lumisections) == ("oms", 2, 221)
        from_api = _conditions()
        run = db.session.get(Run, 378856)
        assert run.start_time == datetime(2024, 3, 11, 9, 54, 21, tzinfo=UTC)
        assert (run.b_field, run.energy, run.hlt_key) == (3.8, 6800.0, "/cdaq/special/2024/Commissioning/v1.0.0/HLT/V2")

        db.session.execute(db.delete(Lumisection))
        db.session.execute(db.delete(Run))
        db.session.commit()
        from_file = import_file(_file_of_runs(tmp_path / "oms.json", RUNS))
        assert from_file.lumisections == 221
        assert _conditions() == from_api
        assert report.clamped == from_file.clamped > 0  # negative luminosities clamped from either source
        assert len(from_api[0]) == 221 and from_api[1][0][1:3] == (9461, 163)


@pytest.mark.databases("sqlite", "postgresql")
def test_api_import_over_the_file_import_changes_no_lumisection(app, oms, tmp_path):
    with app.app_context():
        import_file(_file_of_runs(tmp_path / "oms.json", RUNS))
        before = db.session.execute(db.select(Lumisection.__table__).order_by(Lumisection.id)).all()
        import_conditions(OmsApi(_client(oms), RUNS).read())
        assert db.session.execute(db.select(Lumisection.__table__).order_by(Lumisection.id)).all() == before


def test_filters_pages_and_token_are_sent(oms):
    OmsApi(_client(oms, token="s3cret"), RUNS).read()
    pages = [
        (query["filter[run_number][EQ]"], query["page[offset]"], query["page[limit]"], query["sort"])
        for path, query, _ in oms.requests
        if path == "/agg/api/v1/lumisections"
    ]
    assert pages == [
        ("378856", "0", "50", "lumisection_number"),
        ("378856", "50", "50", "lumisection_number"),
        ("378856", "100", "50", "lumisection_number"),
        ("378856", "150", "50", "lumisection_number"),
        ("378960", "0", "50", "lumisection_number"),
        ("378960", "50", "50", "lumisection_number"),
    ]
    runs = [query["filter[run_number][EQ]"] for path, query, _ in oms.requests if path == "/agg/api/v1/runs"]
    assert runs == ["378856", "378960"]
    assert {headers.get("Authorization") for _, _, headers in oms.requests} == {"Bearer s3cret"}
    assert all("pileup" in query["fields"].split(",") for path, query, _ in oms.requests if "lumisections" in path)


def _bad_page(change) -> bytes:
    page = json.loads((PAGES / "lumisections_378856_offset100_limit50.json").read_text())
    change(page["data"][3]["attributes"])
    return json.dumps(page).encode()


@pytest.mark.databases("sqlite", "postgresql")
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ((500, b"<h1>upstream timed out</h1>"), "OMS answered 500 Internal Server Error to GET .*upstream timed out"),
        ((200, b"<html>Sign in with CERN SSO</html>"), "is not JSON"),
        ((200, b'{"data": {"id": "378856_101"}}'), "'data' must be a list of records"),
        ((200, b'{"data": [{"id": "378856_101"}]}'), "record 0 has no 'attributes' object"),
        ((200, _bad_page(lambda ls: ls.update(lumisection_number=-3))), "lumisection -3 must be positive"),
        ((200, _bad_page(lambda ls: ls.update(pileup="high"))), "pileup must be a finite number or null, not 'high'"),
        ((200, _bad_page(lambda ls: ls.update(run_number=378960))), "a record of run 378960"),
    ],
)
def test_a_failed_or_malformed_page_changes_nothing(app, oms, fault, message):
    oms.faults["lumisections", "378856", "100"] = fault
    with app.app_context():
        with pytest.raises(Refused, match=message):
            # 378960 is read whole first: a half-written import would leave it behind.
            import_conditions(OmsApi(_client(oms), (378960, 378856)).read())
        assert _everything() == ([], [])


def test_an_unknown_run_is_named(oms):
    oms.faults["runs", "378000", None] = (200, b'{"data": [], "links": {"next": null}, "meta": {}}')
    with pytest.raises(Refused, match="OMS knows no run 378000"):
        OmsApi(_client(oms), (378000,)).read()


def test_pages_that_link_to_themselves_stop(oms):
    page = json.loads((PAGES / "lumisections_378856_offset50_limit50.json").read_text())
    page["links"]["next"] = page["links"]["self"]
    oms.faults["lumisections", "378856", "50"] = (200, json.dumps(page).encode())
    with pytest.raises(Refused, match="pages loop"):
        OmsApi(_client(oms), (378856,)).read()


def test_an_unreachable_server_is_named():
    server = OmsServer()
    server.stop()
    with pytest.raises(Refused, match=r"cannot reach OMS: GET http://127\.0\.0\.1"):
        OmsClient(server.url, timeout=5).run(378856)


@pytest.mark.databases("sqlite", "postgresql")
def test_cli_imports_runs_from_oms(app, runner, oms):
    app.config.update(OMS_API_URL=oms.url, OMS_PAGE_LIMIT=50, OMS_TOKEN="s3cret")
    result = runner.invoke(args=["runs", "import", "--from-oms", "378856", "378960"])
    assert result.exit_code == 0, result.output
    assert "imported 221 lumisections of 2 runs (oms)" in result.output
    assert oms.requests[0][2]["Authorization"] == "Bearer s3cret"
    oms.faults["lumisections", "378856", "0"] = (503, b"maintenance")
    failed = runner.invoke(args=["runs", "import", "--from-oms", "378856"])
    assert failed.exit_code == 1 and "nothing was imported: OMS answered 503" in failed.output
