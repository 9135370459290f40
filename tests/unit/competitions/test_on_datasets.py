"""A competition on a published dataset version: the version's files checked as a bundle's are, every problem
listed at once, nothing written unless all holds, and the competition scores against the version's solution."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Competition, Dataset, DatasetFile, DatasetVersion, FileKind, Role
from app.models.types import utcnow
from app.services.competitions import submissions
from app.services.competitions.on_datasets import CompetitionSettings, create_competition, overview_for
from app.services.storage import get_storage
from tests.helpers import make_user, predictions_csv, write_bundle


@pytest.fixture
def version(app, tmp_path):
    """A published version holding a generated bundle's files: train, test and sample public, the solution hidden.

    Returns (version id, test ids, true labels)."""
    folder, ids, labels, _ = write_bundle(tmp_path / "bundle")
    with app.app_context():
        version = DatasetVersion(dataset=Dataset(slug="tracker-ls", title="Tracker lumisections"), number=1)
        files = [("train.csv", FileKind.PUBLIC), ("test.csv", FileKind.PUBLIC)]
        files += [("sample_submission.csv", FileKind.PUBLIC), ("solution.csv", FileKind.SOLUTION)]
        for position, (name, kind) in enumerate(files):
            key = f"{version.storage_prefix}/{kind.value}/{name}"
            stored = get_storage().put(key, io.BytesIO((folder / name).read_bytes()))
            version.files.append(
                DatasetFile(
                    kind=kind, name=name, position=position, storage_key=key, size=stored.size, sha256=stored.sha256
                )
            )
        version.notes = "Runs of 2018."
        db.session.add(version)
        db.session.commit()
        return version.id, ids, labels


def test_a_competition_on_a_version_scores_against_its_solution(app, version):
    version_id, ids, labels = version
    with app.app_context():
        dataset_version = db.session.get(DatasetVersion, version_id)
        olga = make_user("olga", Role.ORGANISER)
        settings = CompetitionSettings(slug="bad-ls", title="Find the bad lumisections", public_fraction=0.5)
        competition = create_competition(dataset_version, settings, created_by=olga)
        assert (competition.solution_file.name, competition.sample_submission) == (
            "solution.csv",
            "sample_submission.csv",
        )
        assert competition.created_by_id == olga.id
        assert sorted(f.name for f in competition.dataset_version.public_files) == [
            "sample_submission.csv",
            "test.csv",
            "train.csv",
        ]
        rita = make_user("rita")
        submissions.join(competition, rita)
        db.session.commit()
        submission = submissions.submit(
            competition, rita, io.BytesIO(predictions_csv(ids, labels)), file_name="perfect.csv"
        )
        app.extensions["job_queue"].join()
        db.session.refresh(submission)
        assert (submission.status.value, submission.public_score) == ("scored", 1.0)


def test_every_problem_is_named_at_once_and_nothing_is_created(app, version):
    now = utcnow()
    with app.app_context():
        dataset_version = db.session.get(DatasetVersion, version[0])
        settings = CompetitionSettings(
            slug="No Slug!",
            title="  ",
            metric="no_such_metric",
            public_fraction=1.5,
            opens_at=now,
            closes_at=now - timedelta(days=1),
            daily_limit=0,
        )
        with pytest.raises(Exception) as refused:
            create_competition(dataset_version, settings)
        problems = " ".join(refused.value.problems)
        for expected in (
            "slug 'No Slug!'",
            "title is missing",
            "metric",
            "public_fraction",
            "closes_at",
            "daily_limit",
        ):
            assert expected in problems
        assert db.session.execute(db.select(Competition)).first() is None


def test_a_taken_slug_or_a_second_competition_on_the_same_split_is_refused(app, version):
    with app.app_context():
        dataset_version = db.session.get(DatasetVersion, version[0])
        create_competition(dataset_version, CompetitionSettings(slug="bad-ls", title="First"))
        with pytest.raises(Exception, match="'bad-ls' already exists"):
            create_competition(dataset_version, CompetitionSettings(slug="bad-ls", title="Again"))
        # Same solution, same split: the first one's private board would reveal the second's.
        with pytest.raises(Exception, match="split_seed"):
            create_competition(dataset_version, CompetitionSettings(slug="bad-ls-2", title="Twin"))
        create_competition(dataset_version, CompetitionSettings(slug="bad-ls-3", title="Other split", split_seed=9))
        assert db.session.execute(db.select(db.func.count(Competition.id))).scalar() == 2


def test_the_starting_overview_names_the_dataset_and_its_version(app, version):
    with app.app_context():
        overview = overview_for(db.session.get(DatasetVersion, version[0]))
    assert overview.startswith("# Tracker lumisections\n")
    assert "Dataset `tracker-ls`, version 1. Runs of 2018." in overview
