"""Request ids, JSON log lines (LOG_FORMAT=json) and /metrics of an embedded platform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config, ConfigError

REPO = Path(__file__).resolve().parents[2]
# In a process of its own: JSON logging takes over the root logger, which pytest's own capture relies on.
SCRIPT = """
import json, sys
from app import create_app
from app.extensions import db
from config import Config
config = Config({"SECRET_KEY": "t", "DATABASE_URL": "sqlite:///%(db)s", "STORAGE_URL": "file://%(storage)s",
                 "LOG_FORMAT": "json"})
app = create_app(config, REAPER_INTERVAL=0)
with app.app_context():
    db.create_all()
client = app.test_client()
ids = [client.get(path, headers=headers).headers["X-Request-ID"] for path, headers in (
    ("/healthz", {"X-Request-ID": "router-4f2a9c"}),
    ("/no-such-page", {"X-Request-ID": "bad id"}),
)]
print(json.dumps(ids))
"""


def test_json_logs_name_each_request_by_the_id_its_response_carries(tmp_path):
    script = SCRIPT % {"db": tmp_path / "t.db", "storage": tmp_path / "storage"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    kept, replaced = json.loads(result.stdout.strip().splitlines()[-1])
    assert kept == "router-4f2a9c"  # a proxy's id that looks like one is kept
    assert replaced != "bad id" and len(replaced) == 32
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    requests = {line["request_id"]: line for line in lines if line["logger"] == "playground.requests"}
    assert requests[kept] | {"duration_ms": 0} == requests[kept] | {
        "method": "GET",
        "path": "/healthz",
        "status": 200,
        "endpoint": "main.healthz",
        "level": "info",
        "message": "GET /healthz 200",
        "duration_ms": 0,
    }
    assert requests[replaced]["status"] == 404 and requests[replaced]["endpoint"] == "unmatched"


def test_an_unknown_log_format_is_refused_by_name():
    with pytest.raises(ConfigError, match="LOG_FORMAT is 'xml'; it must be one of: text, json"):
        Config({"LOG_FORMAT": "xml"})


def test_embedded_metrics_count_requests_and_the_in_process_queue(client):
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'playground_http_request_duration_seconds_count{endpoint="main.healthz",method="GET",status="200"}' in text
    assert 'playground_queue_depth{queue="playground"} 0.0' in text
    assert 'playground_submissions{status="queued"} 0.0' in text
    assert 'playground_dependency_up{dependency="database"} 1.0' in text
