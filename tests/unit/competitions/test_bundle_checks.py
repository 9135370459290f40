"""Checking a bundle's settings: every problem listed at once, live competitions naming their task, teams."""

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


def test_teams_default_to_five_members_merging_until_the_close(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        settings = bundle_checks.validate(read_bundle(folder))
    assert (settings["team_max_size"], settings["merge_deadline"]) == (5, None)


def test_teams_give_the_size_and_merge_deadline(app, tmp_path):
    spec = {"closes_at": "2026-12-31T00:00:00Z", "teams": {"max_size": 3, "merge_deadline": "2026-12-20T00:00:00Z"}}
    folder, *_ = write_bundle(tmp_path / "bundle", spec=spec)
    with app.app_context():
        settings = bundle_checks.validate(read_bundle(folder))
    assert settings["team_max_size"] == 3
    assert settings["merge_deadline"].isoformat() == "2026-12-20T00:00:00+00:00"


def test_every_problem_of_teams_is_listed_at_once(app, tmp_path):
    spec = {
        "daily_limit": 0,
        "closes_at": "2026-12-10T00:00:00Z",
        "teams": {"max_size": 0, "merge_deadline": "2026-12-20T00:00:00Z", "colour": "red"},
    }
    folder, *_ = write_bundle(tmp_path / "bundle", spec=spec)
    with app.app_context(), pytest.raises(Refused) as refused:
        bundle_checks.validate(read_bundle(folder))
    problems = refused.value.problems
    assert any("daily_limit" in p for p in problems)
    assert any("Unknown settings in teams: colour" in p for p in problems)
    assert any("teams.max_size must be a whole number from 1" in p and "not 0" in p for p in problems)
    assert any("teams.merge_deadline must not come after closes_at" in p for p in problems)
    for teams in ([3], {"merge_deadline": "soon"}, {"max_size": True}):
        folder, *_ = write_bundle(tmp_path / f"bundle-{len(str(teams))}", spec={"teams": teams})
        with app.app_context(), pytest.raises(Refused, match="teams"):
            bundle_checks.validate(read_bundle(folder))
