"""A stand-in for the Run Registry API: ``POST /api/lumisections/rr_lumisection_ranges_by_component`` and
``PUT /api/lumisections/edit_rr_lumisections``.

Reads answer the recorded answers of tests/fixtures/rr (one ``RUN.json`` per run, dataset ``online``) to a
JSON body ``{"run_number", "dataset_name"}``, as the official ``runregistry`` client sends it, when the
request carries ``Authorization: Bearer <token>``; 401 without it, 404 for a run or dataset it has no
answer for, and any status and body set in ``faults`` for a run.

Edits take the body the official client's ``edit_rr_lumisections`` sends (the example of
``edit_rr_lumisections.json``) and check it as RR's backend does, answering RR's 500 ``{"err": ...}`` when
it would fail: no status, BAD without a comment of three characters or more, start after end, a run it does
not know. It is stricter than RR where RR would store nonsense: lumisections are positive whole numbers and
the status is one the official client allows. An accepted edit is recorded in ``edits`` and answered as RR
answers (the lumisection event it created); later reads show it, with ranges regrouped as RR groups them
(consecutive lumisections of equal status, comment and cause; lumisections without a flag are EMPTY).
``edit_faults`` sets the status and body of every edit of a run.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ANSWERS = Path(__file__).resolve().parents[1] / "fixtures" / "rr"
PATH = "/api/lumisections/rr_lumisection_ranges_by_component"
EDIT_PATH = "/api/lumisections/edit_rr_lumisections"
EDIT_EXAMPLE = ANSWERS / "edit_rr_lumisections.json"
TOKEN = "rr-test-token"
EDIT_STATUSES = ("GOOD", "BAD", "STANDBY", "EXCLUDED", "NOTSET")
EMPTY = {"status": "EMPTY", "comment": "", "cause": ""}

# A component's flags, one triplet per lumisection from 1.
Flags = list[dict[str, str]]


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"err": message}).encode()


class RunRegistryServer:
    """Serves the recorded answers on 127.0.0.1 and takes edits; records each read's body and headers."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.edits: list[dict[str, Any]] = []
        self.faults: dict[int, tuple[int, bytes]] = {}
        self.edit_faults: dict[int, tuple[int, bytes]] = {}
        self.edited: dict[tuple[int, str], dict[str, Flags]] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.reply(server.answer)

            def do_PUT(self) -> None:
                self.reply(server.answer_edit)

            def reply(self, answer: Any) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = answer(self.path, dict(self.headers), self.rfile.read(length))
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
        """The status and body for one read."""
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
        with self.lock:
            if (run, dataset) in self.edited:
                return 200, json.dumps(_ranges(self.edited[run, dataset])).encode()
        recorded = self._recorded(run, dataset)
        if recorded is None:
            return 404, json.dumps({"err": f"no dataset {dataset} of run {run}"}).encode()
        return 200, recorded.read_bytes()

    def answer_edit(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        """The status and body for one edit, checked as RR checks it."""
        if path != EDIT_PATH:
            return 404, b'{"err": "no such route"}'
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, b'{"err": "not authenticated"}'
        try:
            body = json.loads(raw)
            run, dataset, component = body["run_number"], body["dataset_name"], body["component"]
            new = body["new_lumisection_range"]
            start, end, status = new["start"], new["end"], new.get("status")
            comment, cause = new.get("comment") or "", new.get("cause") or ""
        except (ValueError, KeyError, TypeError) as error:
            return _error(500, f"Cannot destructure the edit: {error}")
        if run in self.edit_faults:
            return self.edit_faults[run]
        problem = _edit_problem(start, end, status, comment, cause, component)
        if problem:
            return _error(500, f"Error updating lumisections of {dataset} dataset, run number: {run}: {problem}")
        with self.lock:
            flags = self._flags(run, dataset)
            if flags is None:
                return _error(500, f"Error updating lumisections of {dataset} dataset, run number: {run}: no such run")
            _apply(flags, component, start, end, {"status": status, "comment": comment, "cause": cause})
            self.edits.append(body)
            version = len(self.edits)
        answer = json.loads(EDIT_EXAMPLE.read_text())["answer"]
        return 200, json.dumps(answer | {"version": version, "run_number": run, "name": dataset}).encode()

    def _recorded(self, run: Any, dataset: Any) -> Path | None:
        recorded = ANSWERS / f"{run}.json"
        if dataset != "online" or not isinstance(run, int) or isinstance(run, bool) or not recorded.is_file():
            return None
        return recorded

    def _flags(self, run: Any, dataset: Any) -> dict[str, Flags] | None:
        """A run's flags per lumisection, from its recorded answer when not edited yet."""
        if (run, dataset) not in self.edited:
            recorded = self._recorded(run, dataset)
            if recorded is None:
                return None
            self.edited[run, dataset] = {
                component: [
                    {"status": r["status"], "comment": r["comment"], "cause": r["cause"]}
                    for r in ranges
                    for _ in range(r["start"], r["end"] + 1)
                ]
                for component, ranges in json.loads(recorded.read_text()).items()
            }
        return self.edited[run, dataset]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def _edit_problem(start: Any, end: Any, status: Any, comment: Any, cause: Any, component: Any) -> str | None:
    """Why RR (or, where RR would store nonsense, the official client) refuses an edit; None when it takes it."""
    if not status:
        return "No status present when trying to edit lumisections"
    if status not in EDIT_STATUSES:
        return f"status {status!r} is not one of {', '.join(EDIT_STATUSES)}"
    if not all(isinstance(v, str) for v in (comment, cause, component)):
        return "component, comment and cause are text"
    if status == "BAD" and len(comment) < 3:
        return "When setting lumisections as BAD, there MUST be a comment for this action."
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in (start, end)):
        return "start and end are lumisection numbers"
    if start > end:
        return "Start Lumisection must be less than end lumisection"
    return None


def _apply(flags: dict[str, Flags], component: str, start: int, end: int, triplet: dict[str, str]) -> None:
    """Flag lumisections start..end of a component; every component reaches the run's last lumisection."""
    last = max([end, *(len(f) for f in flags.values())])
    flags.setdefault(component, [])
    for f in flags.values():
        f.extend(dict(EMPTY) for _ in range(last - len(f)))
    flags[component][start - 1 : end] = [dict(triplet) for _ in range(start, end + 1)]


def _ranges(flags: dict[str, Flags]) -> dict[str, list[dict[str, Any]]]:
    """RR's answer by component: consecutive lumisections of equal flags as one range."""
    answer: dict[str, list[dict[str, Any]]] = {}
    for component, triplets in flags.items():
        ranges = answer.setdefault(component, [])
        for number, triplet in enumerate(triplets, start=1):
            if ranges and ranges[-1]["end"] == number - 1 and all(ranges[-1][k] == v for k, v in triplet.items()):
                ranges[-1]["end"] = number
            else:
                ranges.append({"start": number, "end": number, **triplet})
    return answer
