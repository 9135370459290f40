"""A stand-in for the Run Registry API: ``POST /api/lumisections/rr_lumisection_ranges_by_component``.

It answers the recorded answers of tests/fixtures/rr (one ``RUN.json`` per run, dataset ``online``) to a
JSON body ``{"run_number", "dataset_name"}``, as the official ``runregistry`` client sends it, when the
request carries ``Authorization: Bearer <token>``; 401 without it, 404 for a run or dataset it has no
answer for, and any status and body set in ``faults`` for a run.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ANSWERS = Path(__file__).resolve().parents[1] / "fixtures" / "rr"
PATH = "/api/lumisections/rr_lumisection_ranges_by_component"
TOKEN = "rr-test-token"


class RunRegistryServer:
    """Serves the recorded answers on 127.0.0.1; records each request's body and headers."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.faults: dict[int, tuple[int, bytes]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = server.answer(self.path, dict(self.headers), self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/api"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        """The status and body for one request."""
        if path != PATH:
            return 404, b'{"err": "no such route"}'
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, b'{"err": "not authenticated"}'
        try:
            body = json.loads(raw)
            run, dataset = body["run_number"], body["dataset_name"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"err": "run_number and dataset_name are required"}'
        self.requests.append((body, headers))
        if run in self.faults:
            return self.faults[run]
        recorded = ANSWERS / f"{run}.json"
        if dataset != "online" or not isinstance(run, int) or not recorded.is_file():
            return 404, json.dumps({"err": f"no dataset {dataset} of run {run}"}).encode()
        return 200, recorded.read_bytes()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
