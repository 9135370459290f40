"""Checking a bundle's settings: every problem listed at once, live competitions naming their task."""

from __future__ import annotations

import pytest

from app.services.competitions import bundle_checks
from app.services.competitions.bundle_reader import read_bundle
from app.services.errors import Refused
from tests.helpers import write_bundle


def test_a_valid_bundle_gives_its_settings_with_defaults(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        settings = bundle_checks.validate(read_bundle(folder))
    assert settings["live"] is False and settings["live_daily_limit"] == 1 and settings["task"] is None
    assert settings["final_selections"] == 2


def test_every_problem_is_listed_at_once(app, tmp_path):
    spec = {"daily_limit": 0, "colour": "blue", "live": "yes"}
    folder, *_ = write_bundle(tmp_path / "bundle", spec=spec)
    with app.app_context(), pytest.raises(Refused) as refused:
        bundle_checks.validate(read_bundle(folder))
    problems = " | ".join(refused.value.problems)
    assert "Unknown settings" in problems and "colour" in problems
    assert "daily_limit" in problems
    assert "live must be true or false" in problems


def test_a_live_bundle_names_a_task_that_exists(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "live", spec={"live": True})
    with app.app_context(), pytest.raises(Refused, match="name it with task"):
        bundle_checks.validate(read_bundle(folder))
    folder, *_ = write_bundle(tmp_path / "missing", spec={"live": True, "task": 4242})
    with app.app_context(), pytest.raises(Refused, match="no labelling task 4242"):
        bundle_checks.validate(read_bundle(folder))
