"""The loop from the command line and beyond the API: `tasks create` with an order, a blind share and an open
range that follows new runs, `tasks suggest` all or nothing, `playground suggest`, and the reports' count of bad
ranges that came from suggestions."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from playground_client.cli import main as playground

from app.extensions import db
from app.models import LabellingTask, QueueOrder, Role, SuggestionSource
from app.models.types import utcnow
from app.services.certification import reports
from app.services.certification import workflow as service
from app.services.certification.tasks import create_task
from app.services.runs.importer import import_file, import_oms
from app.services.suggestions import sources
from tests import services
from tests.helpers import make_token, make_user

RUN = 315259
CHECKLIST = {"general": True, "pixel": True, "strip": True, "tracking": True}


@pytest.fixture
def imported(app, tmp_path):
    mask = tmp_path / "dcs.json"
    mask.write_text('{"315257": [[1, 88]], "315259": [[1, 172]], "315264": [[32, 261]]}')
    with app.app_context():
        import_file(mask, "dcs")
    return tmp_path


def create(runner, *args: str):
    return runner.invoke(args=["tasks", "create", *args, "--reco", "express"])


def task_of(app, task_id: int) -> tuple[QueueOrder, float, int | None, list[int]]:
    with app.app_context():
        task = db.session.get(LabellingTask, task_id)
        return task.order, task.blind_fraction, task.runs_from, [r.run_number for r in task.runs]


def scores_file(tmp_path, rows, name="scores.csv"):
    path = tmp_path / name
    path.write_text("run,lumisection,score\n" + "".join(f"{r},{n},{s}\n" for r, n, s in rows))
    return str(path)


def test_tasks_create_takes_an_order_and_a_blind_share(app, runner, imported):
    result = create(runner, "loop", "--runs", "315257-315259", "--order", "disagreement", "--blind-fraction", "0.25")
    assert result.exit_code == 0, result.output
    assert task_of(app, int(result.stdout.split()[-1])) == (QueueOrder.DISAGREEMENT, 0.25, None, [315257, 315259])
    default = create(runner, "plain")
    assert task_of(app, int(default.stdout.split()[-1]))[:3] == (QueueOrder.RUN, 0.1, None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--order", "random"], "'random' is not one of"),
        (["--blind-fraction", "1.5"], "1.5 is not in the range"),
        (["--runs", "315264-315257"], "ends before it starts"),
        (["--runs", "-315257"], "write a run range as FIRST-LAST"),
    ],
)
def test_tasks_create_refuses_bad_options_and_creates_nothing(app, runner, imported, options, message):
    result = create(runner, "loop", *options)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.execute(db.select(LabellingTask)).first() is None


def test_an_open_range_gains_every_run_imported_later_and_a_closed_one_does_not(app, runner, imported):
    open_task = int(create(runner, "open", "--runs", "315259-").stdout.split()[-1])
    closed_task = int(create(runner, "closed", "--runs", "315257-315264").stdout.split()[-1])
    later = int(create(runner, "later", "--runs", "400000-").stdout.split()[-1])
    assert task_of(app, open_task)[2:] == (315259, [315259, 315264])
    assert task_of(app, later)[3] == []
    mask = imported / "golden.json"
    mask.write_text('{"315260": [[1, 10]], "400001": [[1, 5]], "315000": [[1, 5]]}')
    with app.app_context():
        import_file(mask, "golden")
        import_oms({"run_number": [400002, 400002], "lumisection_number": [1, 2]})
        import_file(mask, "golden")  # importing the same runs again adds nothing twice
    assert task_of(app, open_task)[3] == [315259, 315260, 315264, 400001, 400002]
    assert task_of(app, later)[3] == [400001, 400002]
    assert task_of(app, closed_task)[3] == [315257, 315259, 315264]


def test_tasks_suggest_imports_a_source_and_prints_its_id_last(app, runner, imported):
    task = int(create(runner, "loop").stdout.split()[-1])
    rows = [(RUN, n, 0.9 if n < 10 else 0.1) for n in range(1, 173)]
    path = scores_file(imported, rows)
    result = runner.invoke(
        args=["tasks", "suggest", str(task), path, "--name", "ae", "--version", "2", "--threshold", "0.8"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        source = db.session.get(SuggestionSource, int(result.stdout.strip().splitlines()[-1]))
        assert (source.name, source.version, source.threshold, source.rows, source.active) == (
            "ae",
            "2",
            0.8,
            172,
            True,
        )


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        ([(RUN, 1, 0.5), (RUN, 2, -0.1)], [], "1 row has a score outside [0, 1]: row 2 (315259:2)"),
        ([(RUN, 1, 0.5), (999, 2, 0.1)], [], "names a lumisection of none of the task's runs: row 2 (999:2)"),
        ([(RUN, 1, 0.5)], ["--threshold", "3"], "the threshold is a number in [0, 1]"),
    ],
)
def test_tasks_suggest_refuses_a_bad_file_whole(app, runner, imported, rows, options, message):
    task = int(create(runner, "loop").stdout.split()[-1])
    result = runner.invoke(args=["tasks", "suggest", str(task), scores_file(imported, rows), "--name", "ae", *options])
    assert result.exit_code == 1 and "nothing was imported" in result.output and message in result.output
    with app.app_context():
        assert db.session.execute(db.select(SuggestionSource)).first() is None
    assert not (imported / "storage" / "suggestions").exists()
    unknown = runner.invoke(args=["tasks", "suggest", "999", scores_file(imported, rows), "--name", "ae"])
    assert unknown.exit_code == 1 and "no labelling task 999" in unknown.output


def test_playground_suggest_uploads_a_source_and_prints_its_id(app, runner, imported):
    task = int(create(runner, "loop", "--blind-fraction", "0").stdout.split()[-1])
    with app.app_context():
        leader, shifter = make_token(make_user("lea", Role.SHIFT_LEADER)), make_token(make_user("sam", Role.SHIFTER))
    path = scores_file(imported, [(RUN, n, 0.9 if 5 <= n <= 9 else 0.1) for n in range(1, 173)])
    url, stop = services.serve(app)
    try:
        cli = CliRunner()
        env = {"PLAYGROUND_URL": url, "XDG_CONFIG_HOME": str(imported)}
        args = ["suggest", str(task), path, "--name", "ae", "--threshold", "0.5"]
        added = cli.invoke(playground, args, env=env | {"PLAYGROUND_TOKEN": leader})
        refused = cli.invoke(playground, args, env=env | {"PLAYGROUND_TOKEN": shifter})
    finally:
        stop()
    assert added.exit_code == 0, added.output
    assert refused.exit_code == 1 and "needs the role shift_leader or organiser" in refused.output
    with app.app_context():
        source = db.session.get(SuggestionSource, int(added.stdout.strip().splitlines()[-1]))
        assert (source.task_id, source.name, source.rows) == (task, "ae", 172)


def test_reports_count_approved_bad_ranges_that_came_from_suggestions(app, imported):
    body = {"pixel": "good", "strip": "good", "tracking": "good", "checklist": CHECKLIST, "comment": "holes"}
    with app.app_context():
        sam, sue, lea = (
            make_user("sam", Role.SHIFTER),
            make_user("sue", Role.SHIFTER),
            make_user("lea", Role.SHIFT_LEADER),
        )
        task = create_task("loop", "express", blind_fraction=0)
        rows = "run,lumisection,score\n" + "".join(
            f"{r},{n},{0.9 if n < 10 else 0.1}\n" for r in (RUN, 315257) for n in range(1, 89)
        )
        source = sources.import_upload(task, io.BytesIO(rows.encode()), name="ae", user=lea)
        suggested = {"origin": "suggested", "source_id": source.id}
        approved = service.certify(
            task,
            sam,
            body
            | {
                "run_number": RUN,
                "bad_lumisections": [{"first": 1, "last": 9, **suggested}, {"first": 20, "last": 22}],
            },
        )
        service.review(approved, lea, "approve")
        service.certify(  # pending: its suggested range does not count yet
            task, sue, body | {"run_number": 315257, "bad_lumisections": [{"first": 1, "last": 12, **suggested}]}
        )
        start, end, title = reports.day_period(utcnow().date().isoformat())
        report = reports.build(start, end, title)
        text, table = reports.to_text(report), list(csv.DictReader(io.StringIO(reports.to_csv(report))))
    assert "Bad ranges of approved certifications: 2; from suggestions: 1 (1 accepted as suggested, 0 edited)" in text
    assert [row["range_origins"] for row in table] == ["suggested_edited", "suggested manual"]
