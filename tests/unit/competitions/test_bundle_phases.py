"""The phases of a bundle: checked whole with the rest of it, every problem named after its phase, and imported
with each phase's files, solution and dates; a bundle without phases gets one, as before."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from app.extensions import db
from app.models import DatasetFile, FileKind
from app.services.certification.tasks import create_task
from app.services.competitions import bundle_checks, phases
from app.services.competitions.bundle_reader import read_bundle
from app.services.competitions.bundles import import_bundle
from app.services.errors import Refused
from app.services.runs.importer import import_oms
from tests.helpers import write_bundle, write_phased_bundle
from tests.integration.datasets.test_publishing import oms_document

BOUNDARY = "2026-12-20T00:00:00Z"


def test_a_two_phase_bundle_gives_each_phase_its_files_solution_and_dates(app, tmp_path):
    folder, *_ = write_phased_bundle(
        tmp_path / "bundle", dev_closes=BOUNDARY, spec={"opens_at": "2026-01-01T00:00:00Z"}, final={"daily_limit": 2}
    )
    with app.app_context():
        competition = import_bundle(folder)
        development, final = competition.phases
        assert [p.name for p in competition.phases] == ["development", "final"]
        windows = phases.windows_of(competition)
        assert [(w.opens_at, w.closes_at) for w in windows] == [
            (competition.opens_at, final.opens_at),
            (final.opens_at, None),
        ]
        assert final.opens_at.isoformat() == "2026-12-20T00:00:00+00:00" == development.closes_at.isoformat()
        assert [f.name for f in development.public_files] == ["train.csv", "test.csv", "sample_submission.csv"]
        assert [f.name for f in final.public_files] == ["test_final.csv", "sample_submission_final.csv"]
        assert development.solution.name == "solution.csv" and final.solution.name == "solution_final.csv"
        assert (development.effective_daily_limit, final.effective_daily_limit) == (5, 2)
        stored = db.session.execute(db.select(DatasetFile.name, DatasetFile.kind)).all()
        assert sorted(stored) == sorted(
            [(n, FileKind.PUBLIC) for n in ("train.csv", "test.csv", "sample_submission.csv", "test_final.csv")]
            + [("sample_submission_final.csv", FileKind.PUBLIC)]
            + [("solution.csv", FileKind.SOLUTION), ("solution_final.csv", FileKind.SOLUTION)]
        )


def test_a_bundle_without_phases_has_one_that_takes_the_competition_s_settings(app, tmp_path):
    folder, *_ = write_bundle(tmp_path / "bundle", spec={"closes_at": "2026-12-31T00:00:00Z"})
    with app.app_context():
        competition = import_bundle(folder)
        (phase,) = competition.phases
        assert (phase.name, phase.opens_at, phase.closes_at, phase.files, phase.solution_file) == (
            "main",
            None,
            None,
            None,
            None,
        )
        assert phase.solution is competition.solution_file and phase.effective_metric == "roc_auc"
        assert phases.windows_of(competition)[0].closes_at == competition.closes_at


def test_every_problem_of_the_phases_is_listed_at_once(app, tmp_path):
    declared = [
        {"name": "development", "closes_at": BOUNDARY, "colour": "blue"},
        {"name": "development", "opens_at": "2026-12-01T00:00:00Z", "daily_limit": 0},
        {"name": "Final Round", "files": ["missing.csv"], "solution": "nowhere.csv", "metric": "accuracy?"},
        {"name": "late", "from_task": 4242},
    ]
    folder, *_ = write_bundle(tmp_path / "bundle", spec={"phases": declared, "title": None})
    with app.app_context(), pytest.raises(Refused) as refused:
        bundle_checks.validate(read_bundle(folder))
    problems = refused.value.problems
    expected = [
        "title is missing.",
        "Phase 'development': unknown settings colour",
        "Phase 'development': daily_limit must be a whole number",
        "Phase 'Final Round': name 'Final Round' must be 1 to 50 lowercase letters",
        "Phase 'Final Round': the bundle has no file 'missing.csv'.",
        "Phase 'Final Round': the bundle has no file 'nowhere.csv'.",
        "Phase 'Final Round': metric: unknown metric 'accuracy?'",
        "Phase 'late': there is no labelling task 4242.",
        "Phase 'late': from_task and approved_after go together",
        "Two phases are named 'development'",
        "Phase 'development' opens at 2026-12-01 00:00 UTC, before phase 'development' closes at 2026-12-20 00:00 UTC",
        "The phases 'development', 'development' would all be scored against 'solution.csv'",
    ]
    for text in expected:
        assert any(text in problem for problem in problems), (text, problems)


def test_a_phase_s_solution_is_checked_as_the_competition_s_and_its_sample_against_it(app, tmp_path):
    folder, *_ = write_phased_bundle(tmp_path / "bundle", dev_closes=BOUNDARY)
    pd.DataFrame({"id": ["fin00000", "elsewhere"], "label": [0.5, 0.5]}).to_csv(
        folder / "sample_submission_final.csv", index=False
    )
    with app.app_context(), pytest.raises(Refused) as refused:
        bundle_checks.validate(read_bundle(folder))
    (problem,) = refused.value.problems
    assert problem.startswith("Phase 'final': 'sample_submission_final.csv' would be refused as a submission:")
    assert "elsewhere" in problem
    (folder / "solution_final.csv").write_text("id,label\nfin00000,1\nfin00001,1\n")  # one label only
    with app.app_context(), pytest.raises(Refused, match=re.escape("Phase 'final': solution 'solution_final.csv'")):
        bundle_checks.validate(read_bundle(folder))


def test_two_phases_may_not_score_the_same_solution(app, tmp_path):
    folder, *_ = write_phased_bundle(tmp_path / "bundle", dev_closes=BOUNDARY, final={"files": ["test.csv"]})
    (folder / "solution_final.csv").write_bytes((folder / "solution.csv").read_bytes())
    with app.app_context(), pytest.raises(Refused) as refused:
        bundle_checks.validate(read_bundle(folder))
    assert any("is the same file as 'solution.csv'" in p for p in refused.value.problems)


def test_the_competition_s_dates_and_its_phases_agree(app, tmp_path):
    spec = {"closes_at": "2027-01-31T00:00:00Z"}
    folder, *_ = write_phased_bundle(
        tmp_path / "bundle", dev_closes=BOUNDARY, spec=spec, final={"closes_at": "2027-02-28T00:00:00Z"}
    )
    with app.app_context(), pytest.raises(Refused, match="closes_at of the competition and of its last phase"):
        bundle_checks.validate(read_bundle(folder))
    settings = yaml.safe_load((folder / "competition.yaml").read_text())
    settings.pop("closes_at")
    (folder / "competition.yaml").write_text(yaml.safe_dump(settings))
    with app.app_context():
        checked = bundle_checks.validate(read_bundle(folder))
    assert checked["closes_at"].isoformat() == "2027-02-28T00:00:00+00:00"
    assert [p["closes_at"] for p in checked["phases"]][-1] is None  # stored as the competition's


def test_a_phase_from_a_task_without_runs_approved_since_is_refused_and_leaves_nothing_behind(app, tmp_path):
    final = {"from_task": None, "approved_after": "2026-01-01T00:00:00Z", "files": None, "solution": None}
    with app.app_context():
        import_oms(oms_document())
        final["from_task"] = create_task("Express 2026A", "express").id
    declared = [{"name": "development", "closes_at": BOUNDARY}, {"name": "final", **final}]
    declared[1] = {k: v for k, v in declared[1].items() if v is not None}
    folder, *_ = write_bundle(tmp_path / "bundle", spec={"phases": declared})
    with app.app_context(), pytest.raises(Refused) as refused:
        import_bundle(folder)
    assert refused.value.status == 409
    assert (
        "No run of the labelling task 'Express 2026A' was approved after 2026-01-01 00:00 UTC" in refused.value.message
    )
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(DatasetFile.id))).scalar_one() == 0
    assert not list((tmp_path / "storage").rglob("*.csv")), "the bundle's files were stored before the refusal"
