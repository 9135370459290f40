"""Migrations: they build the whole schema from nothing, tear it down again, and match the models."""

from __future__ import annotations

import json
import uuid
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import User
from tests import services
from tests.conftest import _postgres_admin, _with_database, make_app


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path, worker_id):
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = services.postgres_url()
    name = f"dqm_empty_{worker_id}_{uuid.uuid4().hex[:8]}"
    _postgres_admin(url, f'CREATE DATABASE "{name}"')
    yield _with_database(url, name)
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(app) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_every_table_and_downgrade_removes_them(empty_database, tmp_path):
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        assert _tables(app) == set()
        upgrade()
        assert _tables(app) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(app) == set()
        upgrade()
        assert _tables(app) == set(db.metadata.tables)
        db.engine.dispose()


def test_models_and_migrations_agree(empty_database, tmp_path):
    """Every model change ships a migration: autogenerate finds nothing left to do."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*expression-based index")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                diff
                for diff in compare_metadata(context, db.metadata)
                # Expression indexes (lower(username)) cannot be reflected by every backend.
                if not (diff[0] in ("add_index", "remove_index") and diff[1].name == "uq_users_username_lower")
            ]
        db.engine.dispose()
    assert differences == []


def test_usernames_are_unique_regardless_of_case_in_the_schema(empty_database, tmp_path):
    """The schema, not only Python, keeps "Alice" and "alice" from being two accounts."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        db.session.add(User(username="Alice", password_hash="x"))
        db.session.commit()
        db.session.add(User(username="alice", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()


def test_checklists_named_before_0006_become_groups_with_an_item_and_back(empty_database, tmp_path):
    """Tasks created when checklists were bare names keep them, as groups a certification still ticks by name."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO labelling_tasks (name, reco, checklists, open, created_at) "
                    "VALUES ('old', 'express', :checklists, true, CURRENT_TIMESTAMP)"
                ),
                {"checklists": json.dumps(["general", "pixel"])},
            )
        upgrade(revision="0006")
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT checklists, double_certification FROM labelling_tasks")).one()
        checklists = row[0] if isinstance(row[0], list) else json.loads(row[0])
        assert checklists == [
            {"name": "general", "items": ["general checklist done"]},
            {"name": "pixel", "items": ["pixel checklist done"]},
        ]
        assert not row[1]
        downgrade(revision="0005")
        with db.engine.connect() as connection:
            value = connection.execute(text("SELECT checklists FROM labelling_tasks")).scalar_one()
        assert (value if isinstance(value, list) else json.loads(value)) == ["general", "pixel"]
        db.engine.dispose()


def test_versions_published_before_0008_get_their_task_and_publisher(empty_database, tmp_path):
    """The rule on who may compete needs the task and the publisher of versions published at revision 0007."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:

            def insert(sql: str, **values) -> int:
                connection.execute(text(sql), values)
                return connection.execute(text("SELECT MAX(id) FROM " + sql.split()[2])).scalar_one()

            now = "CURRENT_TIMESTAMP"
            lea = insert(
                f"INSERT INTO users (username, password_hash, active, created_at) VALUES ('lea', 'x', true, {now})"
            )
            olga = insert(
                f"INSERT INTO users (username, password_hash, active, created_at) VALUES ('olga', 'x', true, {now})"
            )
            task = insert(
                "INSERT INTO labelling_tasks (name, reco, checklists, open, double_certification, created_at) "
                f"VALUES ('Express 2026A', 'express', '[]', true, false, {now})"
            )
            dataset = insert(
                f"INSERT INTO datasets (slug, title, description, created_at) VALUES ('d', 'D', '', {now})"
            )
            notes = {
                "published": f"Approved labels of task 'Express 2026A' (#{task}): runs split by run with seed 7.",
                "imported": "Imported from a competition bundle.",
            }
            versions = {
                kind: insert(
                    "INSERT INTO dataset_versions (dataset_id, number, notes, created_at) "
                    f"VALUES (:dataset, :number, :notes, {now})",
                    dataset=dataset,
                    number=number,
                    notes=text_,
                )
                for number, (kind, text_) in enumerate(notes.items(), start=1)
            }
            for user, action in ((lea, "approve"), (olga, "publish")):
                insert(
                    "INSERT INTO audit_log (at, user_id, action, entity, entity_id) "
                    f"VALUES ({now}, :user, :action, 'dataset_version', :version)",
                    user=user,
                    action=action,
                    version=versions["published"],
                )
        upgrade(revision="0008")
        with db.engine.connect() as connection:
            rows = dict(
                (row[0], (row[1], row[2]))
                for row in connection.execute(text("SELECT id, task_id, published_by_id FROM dataset_versions"))
            )
        db.engine.dispose()
    assert rows == {versions["published"]: (task, olga), versions["imported"]: (None, None)}


def test_a_baseline_without_participation_survives_a_downgrade_below_0009(empty_database, tmp_path):
    """Before 0009 every submission had a participation: downgrading gives each baseline its author's."""
    import io

    from app.models import Role, Submission
    from app.services.competitions import submissions
    from tests.helpers import make_competition, make_user, predictions_csv, write_bundle

    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        competition = make_competition(tmp_path)
        _, ids, *_ = write_bundle(tmp_path / "ids")
        olga = make_user("olga", Role.ORGANISER)
        olga_id = olga.id
        submissions.submit(
            competition, olga, io.BytesIO(predictions_csv(ids, [0.5] * len(ids))), file_name="p.csv", baseline=True
        )
        app.extensions["job_queue"].join()
        db.session.remove()
        downgrade(revision="0008")
        with db.engine.connect() as connection:
            linked = connection.execute(
                text(
                    "SELECT p.user_id FROM submissions s JOIN participations p ON p.id = s.participation_id "
                    "WHERE s.is_baseline"
                )
            ).scalar_one()
        upgrade()
        assert linked == olga_id and db.session.execute(db.select(Submission)).scalar_one().is_baseline
        db.session.remove()
        db.engine.dispose()


def test_tasks_certifications_and_bad_ranges_from_before_0010_get_the_loops_defaults(empty_database, tmp_path):
    """Existing tasks follow run order with a blind seed each, certifications were not blind, ranges were manual."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            now = "CURRENT_TIMESTAMP"
            connection.execute(
                text(
                    f"INSERT INTO users (username, password_hash, active, created_at) VALUES ('sam', 'x', true, {now})"
                )
            )
            connection.execute(text(f"INSERT INTO runs (run_number, imported_at) VALUES (378981, {now})"))
            for name in ("a", "b", "c"):
                connection.execute(
                    text(
                        "INSERT INTO labelling_tasks (name, reco, checklists, open, double_certification, created_at) "
                        f"VALUES (:name, 'express', '[]', true, false, {now})"
                    ),
                    {"name": name},
                )
            connection.execute(
                text(
                    "INSERT INTO certifications (task_id, run_number, reco, copy, pixel, strip, tracking, "
                    "pixel_lowstat, strip_lowstat, tracking_lowstat, trackermap, checklist, problem_categories, "
                    "bad_reason, comment, certifier_id, review_state, created_at, updated_at) VALUES ((SELECT MIN(id) "
                    "FROM labelling_tasks), 378981, 'express', 1, 'good', 'good', 'bad', false, false, false, "
                    f"'exists', '{{}}', '[]', '', '', (SELECT id FROM users), 'pending', {now}, {now})"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO bad_ranges (certification_id, first, last, components, comment) "
                    "VALUES ((SELECT id FROM certifications), 10, 20, '[\"tracking\"]', '')"
                )
            )
        upgrade(revision="0010")
        with db.engine.connect() as connection:
            tasks = connection.execute(
                text('SELECT "order", blind_fraction, blind_seed, runs_from FROM labelling_tasks')
            )
            tasks = tasks.all()
            blind = connection.execute(text("SELECT blind FROM certifications")).scalar_one()
            ranges = connection.execute(text("SELECT origin, source_id, first, last FROM bad_ranges")).all()
        downgrade(revision="0009")
        with db.engine.connect() as connection:
            kept = connection.execute(text("SELECT first, last FROM bad_ranges")).all()
        db.engine.dispose()
    assert [(order, fraction, runs_from) for order, fraction, _, runs_from in tasks] == [("run", 0.1, None)] * 3
    assert len({seed for *_, seed, _ in tasks}) == 3  # a seed of its own each, not all 0
    assert not blind
    assert [tuple(r) for r in ranges] == [("manual", None, 10, 20)] and [tuple(r) for r in kept] == [(10, 20)]


def test_competitions_and_sources_from_before_0011_are_not_live_and_survive_a_downgrade(empty_database, tmp_path):
    """Existing competitions are not live (one live post a day once made live), sources have no description,
    evaluations name no stored snapshot; going back to 0010 keeps every competition, source and evaluation."""
    from app.models import SourceEvaluation
    from tests.helpers import make_competition
    from tests.unit.suggestions.tasks import add_source, make_task

    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        make_competition(tmp_path)
        source = add_source(make_task({101: range(1, 4)}), {101: {1: 0.1, 2: 0.9, 3: 0.5}})
        db.session.add(
            SourceEvaluation(
                source_id=source.id, runs=1, lumisections=3, labels_sha256="0" * 64, scorer_version="roc_auc:1"
            )
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")
        with db.engine.connect() as connection:
            kept = [
                connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("competitions", "suggestion_sources", "source_evaluations", "suggestion_scores")
            ]
            columns = {c["name"] for c in inspect(connection).get_columns("competitions")}
        upgrade()
        with db.engine.connect() as connection:
            competition = connection.execute(text("SELECT live, live_daily_limit FROM competitions")).one()
            description = connection.execute(text("SELECT description FROM suggestion_sources")).scalar_one()
            evaluation = connection.execute(text("SELECT predictions_sha256, labels_key FROM source_evaluations")).one()
            pending = connection.execute(text("SELECT COUNT(*) FROM pending_files")).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert kept == [1, 1, 1, 3] and "live" not in columns
    assert (bool(competition[0]), competition[1]) == (False, 1)
    assert description == "" and tuple(evaluation) == (None, None) and pending == 0


def test_a_run_registry_range_is_stored_once_per_run_dataset_and_component_start(empty_database, tmp_path):
    """0012's table keeps one range per start of a component in a run's dataset; going below 0012 drops it."""
    app = make_app(empty_database, tmp_path)
    insert = text(
        "INSERT INTO rr_ranges (run_number, dataset_name, component, first, last, status, cause, comment) "
        "VALUES (378856, :dataset, 'tracker-pixel', 1, 10, 'GOOD', '', '')"
    )
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as connection:
            connection.execute(insert, {"dataset": "online"})
            connection.execute(insert, {"dataset": "/Express/Collisions2024/DQM"})
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(insert, {"dataset": "online"})
        downgrade(revision="0011")
        assert "rr_ranges" not in _tables(app)
        db.engine.dispose()


def test_competitions_before_phases_get_one_phase_holding_their_submissions(empty_database, tmp_path):
    """Migrating existing competitions gives each exactly one phase, main, with every submission in it."""
    from app.models import Competition, Submission
    from tests.helpers import add_submission, make_competition, make_user

    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade()
        first, second = make_competition(tmp_path), make_competition(tmp_path, slug="other-comp", split_seed=4)
        rita = make_user("rita")
        for competition, score in ((first, 0.7), (first, 0.8), (second, 0.6)):
            add_submission(competition, rita, public=score, private=score)
        db.session.remove()
        downgrade(revision="0015")  # as the database stood before phases
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM submissions")).scalar_one() == 3
        upgrade()
        for competition in db.session.execute(db.select(Competition)).scalars():
            (phase,) = competition.phases
            assert (phase.name, phase.opens_at, phase.closes_at, phase.files, phase.solution_file_id) == (
                "main",
                None,
                None,
                None,
                None,
            )
            made = db.session.execute(db.select(Submission).where(Submission.competition_id == competition.id))
            assert {s.phase_id for s in made.scalars()} == {phase.id}
        db.session.remove()
        db.engine.dispose()


def test_negative_luminosities_imported_before_0013_become_zero_and_runs_are_summed_again(empty_database, tmp_path):
    """OMS's noise below zero, stored by imports before 0013, is clamped as imports now do; untouched runs stay."""
    app = make_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as connection:
            rows = [(378856, 1, -2e-10, -1e-10), (378856, 2, 1e-4, 1.1e-4), (378857, 1, 3e-4, None)]
            for run in (378856, 378857):
                connection.execute(
                    text(
                        "INSERT INTO runs (run_number, recorded_lumi, delivered_lumi, imported_at) "
                        "VALUES (:run, 7.0, 7.0, CURRENT_TIMESTAMP)"  # 7.0: a total the migration must leave or redo
                    ),
                    {"run": run},
                )
            for run, number, recorded, delivered in rows:
                connection.execute(
                    text(
                        "INSERT INTO lumisections (run_number, number, recorded_lumi, delivered_lumi) "
                        "VALUES (:run, :number, :recorded, :delivered)"
                    ),
                    {"run": run, "number": number, "recorded": recorded, "delivered": delivered},
                )
        upgrade(revision="0013")
        with db.engine.connect() as connection:
            lumisections = connection.execute(
                text("SELECT run_number, number, recorded_lumi, delivered_lumi FROM lumisections ORDER BY 1, 2")
            ).all()
            runs = connection.execute(
                text("SELECT run_number, recorded_lumi, delivered_lumi FROM runs ORDER BY 1")
            ).all()
        db.engine.dispose()
    assert [tuple(row) for row in lumisections] == [
        (378856, 1, 0.0, 0.0),
        (378856, 2, 1e-4, 1.1e-4),
        (378857, 1, 3e-4, None),
    ]
    assert [tuple(row) for row in runs] == [(378856, pytest.approx(1e-4), pytest.approx(1.1e-4)), (378857, 7.0, 7.0)]
