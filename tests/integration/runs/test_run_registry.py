"""Importing the Run Registry's tracker ranges, against a local server answering the recorded answers of
tests/fixtures/rr, as RR answers its official client."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import Role, RrRange
from app.services.errors import Refused
from app.services.runs.importer import import_file
from app.services.runs.run_registry import Range, RunRegistryClient
from tests.fakes.run_registry import ANSWERS, TOKEN, RunRegistryServer
from tests.helpers import bearer, make_token, make_user

RUNS = (378856, 378960)


def _stored() -> list[tuple]:
    columns = [c for c in RrRange.__table__.c if c.name != "id"]
    return db.session.execute(db.select(*columns).order_by(*columns[:4])).all()


def test_the_client_posts_run_and_dataset_with_the_token(rr):
    ranges = RunRegistryClient(rr.url, token=TOKEN).ranges(378960)
    assert ranges["tracker-pixel"] == [Range(1, 58, "EXCLUDED", "Excluded from run", "pixel out of the run")]
    body, headers = rr.requests[0]
    assert body == {"run_number": 378960, "dataset_name": "online"}
    assert headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("token", "fault", "message"),
    [
        ("wrong", None, r"the Run Registry answered 401 Unauthorized for run 378856 \(online\)"),
        (TOKEN, (500, b"upstream down"), r"answered 500 Internal Server Error for run 378856 \(online\): upstream"),
        (TOKEN, (200, b"<html>login</html>"), r"answer for run 378856 \(online\) is not JSON"),
        (TOKEN, (200, b'{"tracker-pixel": 1}'), r"run 378856 \(online\) is malformed: tracker-pixel is not a list"),
    ],
)
def test_failures_are_refused_naming_the_run(rr, token, fault, message):
    if fault:
        rr.faults[378856] = fault
    with pytest.raises(Refused, match=message) as refused:
        RunRegistryClient(rr.url, token=token).ranges(378856)
    assert refused.value.status == 502


def test_an_unreachable_server_is_named():
    server = RunRegistryServer()
    server.stop()
    with pytest.raises(Refused, match=r"cannot reach the Run Registry for run 1 \(online\): POST http://127"):
        RunRegistryClient(server.url, timeout=5).ranges(1)


def test_the_official_client_reads_the_fake_as_it_reads_rr(rr, monkeypatch):
    """The fake answers the request of the official client (runregistry 3.1.2) the same as ours."""
    official = pytest.importorskip("runregistry.runregistry", reason="the runregistry package is not installed")
    monkeypatch.setattr(official, "api_url", rr.url)
    monkeypatch.setattr(official, "_get_token", lambda: TOKEN)
    answer = official.get_lumisection_ranges_by_component(378856)
    assert answer == json.loads((ANSWERS / "378856.json").read_text())
    assert rr.requests[-1][0] == {"run_number": 378856, "dataset_name": "online"}


@pytest.mark.databases("sqlite", "postgresql")
def test_cli_imports_every_run_in_one_transaction_idempotently(app, runner, rr):
    app.config.update(RR_API_URL=rr.url, RR_TOKEN=TOKEN)
    result = runner.invoke(args=["runs", "import", "--from-rr", *map(str, RUNS)])
    assert result.exit_code == 0, result.output
    assert "run 378856: 6 tracker ranges" in result.output and "run 378960: 4 tracker ranges" in result.output
    assert "imported the Run Registry ranges of 2 runs (dataset online)" in result.output
    with app.app_context():
        first = _stored()
    assert len(first) == 10 and {row.component for row in first} == {"tracker-pixel", "tracker-strip", "tracker-track"}
    assert (378856, "online", "tracker-pixel", 121, 140, "BAD", "Hardware failure", "BPix layer 1 HV trip") in first

    again = runner.invoke(args=["runs", "import", "--from-rr", "378856"])
    assert again.exit_code == 0, again.output
    with app.app_context():
        assert _stored() == first  # re-importing replaces the run's ranges, it does not add to them


@pytest.mark.databases("sqlite", "postgresql")
def test_cli_writes_nothing_when_one_run_fails(app, runner, rr):
    app.config.update(RR_API_URL=rr.url, RR_TOKEN=TOKEN)
    assert runner.invoke(args=["runs", "import", "--from-rr", "378856"]).exit_code == 0
    with app.app_context():
        before = _stored()
    changed = json.loads((ANSWERS / "378856.json").read_text())
    changed["tracker-track"] = [{"start": 1, "end": 163, "status": "BAD", "comment": "", "cause": ""}]
    rr.faults[378856] = (200, json.dumps(changed).encode())  # read first, then the next run fails
    rr.faults[378960] = (503, b"maintenance")
    failed = runner.invoke(args=["runs", "import", "--from-rr", "378856", "378960"])
    assert failed.exit_code == 1
    assert "nothing was imported: the Run Registry answered 503 Service Unavailable for run 378960" in failed.output
    with app.app_context():
        assert _stored() == before


def test_cli_refuses_without_rr_api_url_and_bad_arguments(app, runner):
    app.config.update(RR_API_URL="")
    result = runner.invoke(args=["runs", "import", "--from-rr", "378856"])
    assert result.exit_code == 1 and "RR_API_URL is not set" in result.output
    assert (
        "--dataset names a Run Registry dataset" in runner.invoke(args=["runs", "import", "--dataset", "x", "f"]).output
    )
    assert "positive whole numbers" in runner.invoke(args=["runs", "import", "--from-rr", "37x"]).output


@pytest.mark.databases("sqlite", "postgresql")
def test_the_dataset_is_asked_for_and_named(app, runner, rr):
    app.config.update(RR_API_URL=rr.url, RR_TOKEN=TOKEN)
    failed = runner.invoke(args=["runs", "import", "--from-rr", "378856", "--dataset", "/Express/Collisions2024/DQM"])
    assert failed.exit_code == 1 and "no dataset /Express/Collisions2024/DQM of run 378856" in failed.output
    assert rr.requests[-1][0]["dataset_name"] == "/Express/Collisions2024/DQM"


@pytest.mark.databases("sqlite", "postgresql")
def test_the_run_api_shows_the_imported_ranges(app, client, runner, rr, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"378856": [[1, 163]], "378960": [[1, 58]]}')
    with app.app_context():
        import_file(mask, "dcs")
        token = make_token(make_user("sam", Role.SHIFTER))
    assert "rr" not in client.get("/api/v1/runs/378856", headers=bearer(token)).get_json()
    app.config.update(RR_API_URL=rr.url, RR_TOKEN=TOKEN)
    assert runner.invoke(args=["runs", "import", "--from-rr", "378856"]).exit_code == 0
    run = client.get("/api/v1/runs/378856", headers=bearer(token)).get_json()
    assert run["rr"]["tracker-pixel"][1] == {
        "first": 121,
        "last": 140,
        "status": "BAD",
        "cause": "Hardware failure",
        "comment": "BPix layer 1 HV trip",
    }
    assert [r["status"] for r in run["rr"]["tracker-strip"]] == ["STANDBY", "GOOD"]
    assert set(run["rr"]) == {"tracker-pixel", "tracker-strip", "tracker-track"}
