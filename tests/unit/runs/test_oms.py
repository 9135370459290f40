"""The OMS source without a server: run attributes, configuration, and what `flask runs import` refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import Run
from app.models.runs import RunClass
from app.services.errors import Refused
from app.services.runs.oms import OmsClient
from app.services.runs.sources import run_attributes
from config import Config

RECORD = {
    "run_number": 380000,
    "fill_number": 9500,
    "start_time": "2024-04-05T10:00:00Z",
    "end_time": None,
    "b_field": 3.8,
    "energy": 6800,
    "hlt_key": "/cdaq/physics/Run2024/2e34/v1.0.0/HLT/V1",
    "stable_beam": True,
}


def test_run_attributes_become_runs_columns():
    attributes = run_attributes(RECORD)
    assert attributes == {
        "fill_number": 9500,
        "start_time": datetime(2024, 4, 5, 10, tzinfo=UTC),
        "end_time": None,
        "b_field": 3.8,
        "energy": 6800.0,
        "hlt_key": "/cdaq/physics/Run2024/2e34/v1.0.0/HLT/V1",
        "run_class": RunClass.COLLISIONS,
    }


def test_a_time_without_zone_is_utc():
    assert run_attributes(RECORD | {"start_time": "2024-04-05T10:00:00"})["start_time"] == datetime(
        2024, 4, 5, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_time": "yesterday"}, "start_time must be an ISO 8601 time"),
        ({"b_field": "3.8"}, "b_field must be a number"),
        ({"fill_number": True}, "fill_number must be a whole number"),
        ({"stable_beam": "yes"}, "stable_beam must be true or false"),
        ({"hlt_key": "/" * 201}, "hlt_key is longer than 200"),
    ],
)
def test_bad_run_attributes_are_named(change, message):
    with pytest.raises(Refused, match=f"OMS run 380000: {message}"):
        run_attributes(RECORD | change)


def test_oms_settings_default_to_off_and_read_the_environment():
    default = Config({})
    assert (default.OMS_API_URL, default.OMS_TOKEN, default.OMS_VERIFY_TLS, default.OMS_PAGE_LIMIT) == (
        None,
        None,
        True,
        1000,
    )
    config = Config({"OMS_API_URL": "https://oms/api/v1", "OMS_TOKEN": "t", "OMS_VERIFY_TLS": "false"})
    client = OmsClient.from_config(vars(config))
    assert (client.base_url, client.session.verify) == ("https://oms/api/v1", False)
    assert client.session.headers["Authorization"] == "Bearer t"


def test_no_oms_url_is_refused_with_the_setting_named():
    with pytest.raises(Refused, match="OMS_API_URL is not set"):
        OmsClient.from_config(vars(Config({})))


def test_cli_refuses_oms_without_a_url_and_imports_nothing(app, runner):
    result = runner.invoke(args=["runs", "import", "--from-oms", "378856"])
    assert result.exit_code == 1
    assert "nothing was imported: OMS_API_URL is not set" in result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Run)).scalar_one() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-oms", "378856", "run2"], "run numbers are positive whole numbers, not 'run2'"),
        (["--from-oms", "--as", "oms", "378856"], "--as names the format of a file"),
        (["a.json", "b.json"], "give one PATH"),
        (["missing.json"], "does not exist"),
    ],
)
def test_cli_usage_errors(runner, args, message):
    result = runner.invoke(args=["runs", "import", *args])
    assert result.exit_code == 2 and message in result.output
