"""Importing the Run Registry's tracker ranges, against a local server answering the recorded answers of
tests/fixtures/rr, as RR answers its official client."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import Role, RrRange
from app.services.errors import Refused
from app.services.runs.importer import import_file
from app.services.runs.run_registry import Range, RunRegistryClient, edit_body
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


def test_the_official_client_edits_through_the_fake_and_reads_the_new_status(rr, monkeypatch):
    """The official client's edit_rr_lumisections (runregistry 3.1.2) round-trips: edit, then read it back."""
    official = pytest.importorskip("runregistry.runregistry", reason="the runregistry package is not installed")
    monkeypatch.setattr(official, "api_url", rr.url)
    monkeypatch.setattr(official, "_get_token", lambda: TOKEN)
    example = json.loads((ANSWERS / "edit_rr_lumisections.json").read_text())
    answer = official.edit_rr_lumisections(378856, 121, 140, "tracker-pixel", "GOOD")
    assert rr.edits == [example["request"]["body"]]
    assert set(answer) == set(example["answer"]) and answer["run_number"] == 378856
    after = official.get_lumisection_ranges_by_component(378856)
    assert after["tracker-pixel"] == [{"start": 1, "end": 163, "status": "GOOD", "comment": "", "cause": ""}]
    assert after["tracker-strip"] == json.loads((ANSWERS / "378856.json").read_text())["tracker-strip"]

    official.edit_rr_lumisections(378856, 160, 170, "tracker-track", "BAD", comment="tracking hole", cause="FED")
    track = RunRegistryClient(rr.url, token=TOKEN).ranges(378856)["tracker-track"]
    assert track == [Range(1, 159, "GOOD", "", ""), Range(160, 170, "BAD", "FED", "tracking hole")]
    assert RunRegistryClient(rr.url, token=TOKEN).ranges(378856)["tracker-strip"][-1] == Range(
        164, 170, "EMPTY", "", ""
    )  # beyond the run's last lumisection until then, as RR shows lumisections without a flag


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "BAD", "comment": "hv"}, "When setting lumisections as BAD, there MUST be a comment"),
        ({"status": ""}, "No status present when trying to edit lumisections"),
        ({"start": 30, "end": 20}, "Start Lumisection must be less than end lumisection"),
        ({"status": "EMPTY"}, "status 'EMPTY' is not one of GOOD, BAD, STANDBY, EXCLUDED, NOTSET"),
        ({"start": 0}, "start and end are lumisection numbers"),
    ],
)
def test_the_fake_refuses_edits_as_rr_does(rr, change, message):
    body = edit_body(378856, "online", "tracker-pixel", 1, 10, "GOOD", "", "")
    body["new_lumisection_range"] |= change
    with pytest.raises(
        Refused, match=r"answered 500 Internal Server Error for run 378856 \(online\) tracker-pixel"
    ) as e:
        RunRegistryClient(rr.url, token=TOKEN).edit(body)
    assert message in e.value.message and rr.edits == []


def test_an_edit_of_a_run_rr_does_not_know_or_without_the_token_is_refused(rr):
    unknown = edit_body(1, "online", "tracker-pixel", 1, 10, "GOOD", "", "")
    with pytest.raises(Refused, match=r"answered 500 .* run number: 1: no such run"):
        RunRegistryClient(rr.url, token=TOKEN).edit(unknown)
    known = edit_body(378856, "online", "tracker-pixel", 1, 10, "GOOD", "", "")
    with pytest.raises(Refused, match="answered 401 Unauthorized"):
        RunRegistryClient(rr.url, token="wrong").edit(known)
    assert rr.edits == []


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
