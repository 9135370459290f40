"""Importing runs and lumisections from the real CMS files; bad files change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Lumisection, Run
from app.models.runs import RunClass, derive_run_class
from app.services.certification import lumimask
from app.services.errors import Refused
from app.services.runs.importer import import_file, lumisection_counts

CMS = Path(__file__).resolve().parents[2] / "fixtures" / "cms"
pytestmark = pytest.mark.databases("sqlite", "postgresql")


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def test_oms_file_gives_36_runs_and_3374_lumisections(app):
    with app.app_context():
        report = import_file(CMS / "oms_lumisections_2024A.json")
        assert (report.format, report.runs, report.lumisections) == ("oms", 36, 3374)
        assert (_count(Run), _count(Lumisection)) == (36, 3374)
        first = db.session.execute(
            db.select(Lumisection).where(Lumisection.run_number == 378856, Lumisection.number == 1)
        ).scalar_one()
        assert first.recorded_lumi == 0.0 and first.cms_active is True  # OMS says -2e-10: noise, clamped
        assert first.bpix_ready is False and first.dcs_ok is False  # commissioning: tracker not ready
        run = db.session.get(Run, 378856)
        assert run.fill_number == 9461 and run.ls_count == max(ls.number for ls in run.lumisections)


def _negative_luminosities(document: dict) -> int:
    """How many per-lumisection luminosities, delivered or recorded, a file gives below zero."""
    names = ("delivered_lumi_per_lumisection", "recorded_lumi_per_lumisection")
    return sum(1 for name in names for value in document[name] if value is not None and value < 0)


def test_negative_luminosities_are_stored_as_zero_and_counted(app):
    """OMS's noise below zero is stored as 0, the lumisections' and the runs' alike; the import says how many."""
    document = json.loads((CMS / "oms_lumisections_2024A.json").read_text())
    negative = _negative_luminosities(document)
    assert negative > 0  # the real file has them
    with app.app_context():
        assert import_file(CMS / "oms_lumisections_2024A.json").clamped == negative
        lowest = db.session.execute(
            db.select(db.func.min(Lumisection.recorded_lumi), db.func.min(Lumisection.delivered_lumi))
        ).one()
        assert min(lowest) == 0.0
        expected: dict[int, float] = {}
        for run, value in zip(document["run_number"], document["recorded_lumi_per_lumisection"], strict=True):
            expected[run] = expected.get(run, 0.0) + max(value, 0.0)
        stored = dict(db.session.execute(db.select(Run.run_number, Run.recorded_lumi)).all())
        assert stored == pytest.approx(expected, rel=1e-9, abs=1e-15)
        assert import_file(CMS / "oms_lumisections_2024A.json").clamped == negative  # counted on every import


def test_cli_import_counts_the_negative_luminosities_it_clamped(app, runner):
    negative = _negative_luminosities(json.loads((CMS / "oms_lumisections_2024A.json").read_text()))
    result = runner.invoke(args=["runs", "import", str(CMS / "oms_lumisections_2024A.json")])
    assert result.exit_code == 0, result.output
    assert "imported 3374 lumisections of 36 runs (oms)" in result.output
    assert f"{negative} negative luminosity values clamped to 0" in result.output


def test_importing_twice_changes_nothing(app):
    with app.app_context():
        import_file(CMS / "oms_lumisections_2024A.json")
        import_file(CMS / "oms_lumisections_2024A.json")
        assert (_count(Run), _count(Lumisection)) == (36, 3374)


def _row_versions() -> list:
    """Something that changes whenever a row is written: PostgreSQL's xmin, SQLite's change counter."""
    if db.engine.dialect.name == "postgresql":
        return [
            db.session.execute(db.text(f"SELECT {key}, xmin::text FROM {table} ORDER BY 1")).all()
            for table, key in (("runs", "run_number"), ("lumisections", "id"))
        ]
    connection = db.session.connection().connection.dbapi_connection
    return [id(connection), connection.total_changes]  # the counter is the connection's


def test_reimporting_writes_no_row(app):
    """Unchanged runs and lumisections are not even rewritten, whatever the source."""
    with app.app_context():
        import_file(CMS / "oms_lumisections_2024A.json")
        import_file(CMS / "dcsonly_2024.json", "dcs")
        db.session.commit()
        before = _row_versions()
        import_file(CMS / "oms_lumisections_2024A.json")
        import_file(CMS / "dcsonly_2024.json", "dcs")
        assert _row_versions() == before


def test_reimport_updates_changed_lumisections_and_adds_new_ones(app, tmp_path):
    """A run seen before gets its changed and new lumisections; a new run arrives whole; others stay."""
    document = json.loads((CMS / "oms_lumisections_2024A.json").read_text())
    with app.app_context():
        import_file(CMS / "oms_lumisections_2024A.json")
        other_run = db.select(Lumisection.id, Lumisection.pileup).where(Lumisection.run_number == 378869)
        untouched = db.session.execute(other_run).all()
        changed = {name: [values[0]] * 3 for name, values in document.items()}  # rows of run 378856, LS 1
        changed["pileup"] = [61.5, 62.5, 30.0]
        changed["lumisection_number"] = [1, 164, 1]
        changed["run_number"] = [378856, 378856, 390001]
        path = tmp_path / "oms.json"
        path.write_text(json.dumps(changed))
        assert import_file(path).lumisections == 3

        def pileup(run, number):
            return db.session.execute(
                db.select(Lumisection.pileup).where(Lumisection.run_number == run, Lumisection.number == number)
            ).scalar_one()

        assert (pileup(378856, 1), pileup(378856, 164), pileup(390001, 1)) == (61.5, 62.5, 30.0)
        assert pileup(378856, 2) == 0.0
        assert db.session.get(Run, 378856).ls_count == 164 and db.session.get(Run, 390001).ls_count == 1
        assert db.session.execute(other_run).all() == untouched
        assert _count(Lumisection) == 3374 + 2


def test_dcs_then_golden_reproduces_the_golden_json_exactly(app):
    with app.app_context():
        assert import_file(CMS / "dcsonly_2018.json").lumisections == 258_508
        import_file(CMS / "golden_2018.json")
        assert lumisection_counts() == {"dcs_ok": 258_508, "golden": 234_529}
        golden = db.session.execute(
            db.select(Lumisection.run_number, Lumisection.number).where(Lumisection.golden.is_(True))
        ).all()
        assert lumimask.from_lumisections(golden) == lumimask.load(CMS / "golden_2018.json")


def test_format_needs_naming_when_the_file_name_does_not_say(app, tmp_path):
    mask = tmp_path / "mask.json"
    mask.write_text('{"315257": [[1, 3]]}')
    with app.app_context():
        with pytest.raises(Refused, match="--as golden or --as dcs"):
            import_file(mask)
        assert import_file(mask, "golden").lumisections == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"run_number": [1, 1], "lumisection_number": [1]}, "different lengths"),
        ({"run_number": [1], "lumisection_number": [-4]}, "must be positive whole numbers"),
        ({"run_number": [1, 1], "lumisection_number": [2, 2]}, "lumisection 2 appears twice"),
        ({"run_number": 5, "lumisection_number": [1]}, "must be a list"),
        ({"run_number": [True], "lumisection_number": [1]}, "must be positive whole numbers"),
        ({"run_number": [1], "lumisection_number": [1], "pileup": ["high"]}, "pileup must be a finite number"),
        ({"run_number": [1], "lumisection_number": [1], "pileup": [float("nan")]}, "pileup must be a finite number"),
        ({"run_number": [1], "lumisection_number": [1], "bpix_ready": [1]}, "bpix_ready must be true or false"),
        ({"run_number": [1], "lumisection_number": [1], "fill_number": [0]}, "fill_number must be a positive"),
    ],
)
def test_bad_oms_files_are_refused_and_change_nothing(app, tmp_path, document, message):
    path = tmp_path / "oms.json"
    # A valid row first: a half-written import would leave it behind.
    document = {k: ([378999, *v] if isinstance(v, list) else v) for k, v in document.items()}
    document["lumisection_number"] = (
        [1, *document["lumisection_number"][1:]]
        if isinstance(document["lumisection_number"], list)
        else document["lumisection_number"]
    )
    path.write_text(json.dumps(document))
    with app.app_context():
        with pytest.raises(Refused, match=message):
            import_file(path, "oms")
        assert (_count(Run), _count(Lumisection)) == (0, 0)


def test_bad_mask_is_refused_and_changes_nothing(app, tmp_path):
    path = tmp_path / "dcs.json"
    path.write_text('{"315257": [[1, 5]], "315258": [[9, 3]]}')
    with app.app_context():
        with pytest.raises(Refused, match=r"range \[9, 3\]"):
            import_file(path)
        assert _count(Lumisection) == 0


def test_cli_import_says_what_it_did(app, runner):
    result = runner.invoke(args=["runs", "import", str(CMS / "dcsonly_2024.json"), "--as", "dcs"])
    assert result.exit_code == 0 and "imported 70527 lumisections of 172 runs (dcs)" in result.output
    bad = runner.invoke(args=["runs", "import", str(CMS / "README.md")])
    assert bad.exit_code != 0 and "nothing was imported" in bad.output and "not JSON" in bad.output


def test_run_class_follows_the_hlt_key_and_stable_beams():
    assert derive_run_class("/cdaq/physics/Run2024/2e34/v1.2.3", True) is RunClass.COLLISIONS
    assert derive_run_class("/cdaq/special/2024/LHCcollisions", True) is RunClass.COLLISIONS
    assert derive_run_class("/cdaq/physics/Run2024/2e34/v1.2.3", False) is None
    assert derive_run_class("/cdaq/cosmic/commissioning2024/v1", False) is RunClass.COSMICS
    assert derive_run_class(None, True) is None
