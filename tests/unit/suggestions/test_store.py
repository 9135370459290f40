"""Sources in the database: bulk writes all or nothing, run summaries, the task's ranks, one run's scores."""

from __future__ import annotations

import random

import numpy as np
import pytest

from app.extensions import db
from app.models import BadRange, LabellingTask, QueueOrder, Role, SourceEvaluation, SourceKind, SourceRunStat
from app.models.suggestions import SuggestionScore, SuggestionSource, TaskRunRank
from app.services.errors import Refused
from app.services.suggestions import ordering, store, summaries
from app.services.suggestions.ordering import SourceRun
from tests.helpers import make_user
from tests.unit.suggestions.tasks import add_source, certify, make_task, scores_of

pytestmark = pytest.mark.databases("sqlite", "postgresql")


def count(model) -> int:
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


def random_scores(runs, lumisections: int, seed: int) -> dict[int, dict[int, float]]:
    rng = np.random.default_rng(seed)
    return {run: dict(zip(range(1, lumisections + 1), rng.random(lumisections).tolist(), strict=True)) for run in runs}


def test_a_sources_scores_are_stored_exactly_with_a_summary_per_run(app):
    with app.app_context():
        task = make_task({101: range(1, 301), 102: range(1, 201)})
        table = random_scores([101, 102], 200, seed=1) | {101: {n: 1 / n for n in range(1, 301)}}
        source = add_source(task, table, threshold=0.3)
        assert (source.rows, source.active, count(SuggestionScore)) == (500, True, 500)
        stored = db.session.execute(
            db.select(SuggestionScore.run_number, SuggestionScore.lumisection, SuggestionScore.score)
        ).all()
        assert {(r, n): s for r, n, s in stored} == {
            (r, n): s for r, scored in table.items() for n, s in scored.items()
        }
        for run, scored in table.items():
            stat = db.session.get(SourceRunStat, (source.id, run))
            expected = ordering.run_stat(list(scored.values()), 0.3)
            assert (stat.lumisections, stat.bad_lumisections) == (expected.lumisections, expected.bad_lumisections)
            assert stat.mean_distance == pytest.approx(expected.mean_distance, rel=1e-12)


def test_an_import_rolled_back_leaves_no_source_score_summary_or_rank(app):
    """The COPY goes through the session's own transaction: the caller's rollback takes everything back."""
    with app.app_context():
        task = make_task({101: range(1, 2001)})
        store.add_source(task, scores_of(random_scores([101], 2000, seed=2)), name="m", kind="upload")
        assert count(SuggestionScore) == 2000
        db.session.rollback()
        assert [count(m) for m in (SuggestionSource, SuggestionScore, SourceRunStat, TaskRunRank)] == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"name": " ", "threshold": 0.5}, "a source needs a name"),
        ({"name": "m", "threshold": 1.5}, "the threshold is a number in [0, 1]"),
        ({"name": "m", "threshold": True}, "the threshold is a number in [0, 1]"),
        ({"name": "m", "threshold": 0.5, "version": "v" * 101}, "at most 100 characters"),
    ],
)
def test_a_source_with_bad_settings_is_refused_and_nothing_is_written(app, settings, message):
    with app.app_context():
        task = make_task({101: range(1, 11)})
        with pytest.raises(Refused, match=message.replace("[", r"\[")) as caught:
            store.add_source(task, scores_of(random_scores([101], 10, seed=3)), kind="upload", **settings)
        assert caught.value.status == 400
        db.session.rollback()
        assert count(SuggestionScore) == count(SuggestionSource) == 0


def test_the_tasks_lumisections_come_as_ranges_with_gaps_where_none_were_recorded(app):
    with app.app_context():
        task = make_task({101: [1, 2, 3, 7, 8, 10], 102: range(1, 5000)})
        make_task({103: range(1, 10)})  # another task's run is not this task's
        lumisections = store.task_lumisections(task.id)
        assert lumisections.size == 6 + 4999
        runs = np.array([101, 101, 101, 101, 102, 102, 103])
        numbers = np.array([3, 4, 8, 10, 4999, 5000, 1])
        assert lumisections.contains(runs, numbers).tolist() == [True, False, True, True, True, False, False]


def hand_made_task() -> tuple[LabellingTask, dict, dict, dict]:
    """Four runs of five lumisections, three sources; run 104 is scored by source A alone."""
    task = make_task({run: range(1, 6) for run in (101, 102, 103, 104)}, order=QueueOrder.UNCERTAINTY)
    a = {101: [0.9, 0.1, 0.5, 0.5, 0.5], 102: [0.9, 0.9, 0.9, 0.1, 0.1], 103: [0.6, 0.4, 0.5, 0.5, 0.1]}
    b = {101: [0.2, 0.2, 0.7, 0.7, 0.7], 102: [0.9, 0.9, 0.9, 0.1, 0.1], 103: [0.4, 0.6, 0.5, 0.5, 0.9]}
    c = {101: [0.1, 0.1, 0.1, 0.1, 0.1], 102: [0.9, 0.9, 0.9, 0.9, 0.9], 103: [0.5, 0.5, 0.5, 0.5, 0.5]}
    a[104] = [0.5] * 5
    return task, a, b, c


def as_table(scores: dict[int, list[float]]) -> dict[int, dict[int, float]]:
    return {run: dict(enumerate(values, start=1)) for run, values in scores.items()}


def expected_stats(scores, thresholds) -> dict[int, ordering.RunRankStats]:
    """The pure functions on the same scores: what rank_runs must store."""
    stats = {}
    for run in (101, 102, 103, 104):
        sources = [
            SourceRun(np.arange(1, 6), np.array(s[run]), t) for s, t in zip(scores, thresholds, strict=True) if run in s
        ]
        per_source = [ordering.run_stat(source.scores, source.threshold) for source in sources]
        stats[run] = ordering.RunRankStats(ordering.uncertainty(per_source), ordering.disagreement(sources))
    return stats


def stored_ranks(task: LabellingTask) -> dict[int, TaskRunRank]:
    rows = db.session.execute(db.select(TaskRunRank).where(TaskRunRank.task_id == task.id)).scalars()
    return {row.run_number: row for row in rows}


def test_rank_runs_stores_what_the_pure_orders_compute_from_the_same_scores(app):
    with app.app_context():
        task, a, b, c = hand_made_task()
        for scores, threshold in ((a, 0.5), (b, 0.6), (c, 0.5)):
            add_source(task, as_table(scores), threshold=threshold)
        expected = expected_stats((a, b, c), (0.5, 0.6, 0.5))
        stored = stored_ranks(task)
        for run, stats in expected.items():
            assert stored[run].uncertainty == pytest.approx(stats.uncertainty, abs=1e-12)
            assert stored[run].disagreement == pytest.approx(stats.disagreement, abs=1e-12)
        assert stored[104].disagreement is None  # one source only
        assert stored[102].disagreement == pytest.approx(2 / 5)  # C calls 4 and 5 bad, A and B good
        # Ranks follow the values: best first, the task's seed breaking ties.
        by_uncertainty = sorted(stored, key=lambda run: stored[run].uncertainty_rank)
        assert by_uncertainty == ordering.rank(QueueOrder.UNCERTAINTY, expected, random.Random(task.blind_seed))
        by_disagreement = sorted(stored, key=lambda run: stored[run].disagreement_rank)
        # Split verdicts on 5 of 5 lumisections of 103, 4 of 101, 2 of 102; 104 has one source.
        assert by_disagreement == [103, 101, 102, 104]


def test_ranks_follow_a_new_threshold_and_a_deactivated_source(app):
    with app.app_context():
        task, a, b, c = hand_made_task()
        sources = [add_source(task, as_table(s), threshold=0.5) for s in (a, b, c)]
        store.set_threshold(sources[1], 0.95)
        db.session.commit()
        stat = db.session.get(SourceRunStat, (sources[1].id, 101))
        assert stat.bad_lumisections == 0 and stat.mean_distance == pytest.approx(np.mean([0.75] * 2 + [0.25] * 3))
        expected = expected_stats((a, b, c), (0.5, 0.95, 0.5))
        assert stored_ranks(task)[101].disagreement == pytest.approx(expected[101].disagreement)

        store.set_active(sources[1], False)
        store.set_active(sources[2], False)
        db.session.commit()
        stored = stored_ranks(task)
        assert {run: row.disagreement for run, row in stored.items()} == dict.fromkeys(stored)  # one source left
        only_a = expected_stats((a,), (0.5,))
        assert stored[103].uncertainty == pytest.approx(only_a[103].uncertainty)


def test_a_live_source_waits_inactive_and_changes_no_rank(app):
    with app.app_context():
        task, a, _, _ = hand_made_task()
        live = add_source(task, as_table(a), kind=SourceKind.LIVE)
        assert not live.active and count(TaskRunRank) == 0
        assert store.run_suggestions(task, 101) == []


def test_a_runs_suggestions_are_the_active_sources_scores_of_that_run_with_their_ranges(app):
    with app.app_context():
        task = make_task({101: range(1, 11), 102: range(1, 11)})
        first = add_source(task, {101: {n: 0.9 if n in (2, 3, 4, 8) else 0.1 for n in range(1, 11)}, 102: {1: 0.9}})
        add_source(task, {101: {5: 0.4}}, kind=SourceKind.LIVE)  # inactive: not shown
        second = add_source(task, {102: {n: 0.7 for n in range(1, 11)}}, threshold=0.8)

        shown = store.run_suggestions(task, 101)
        assert [s.source_id for s in shown] == [first.id, second.id]
        assert shown[0].lumisections.tolist() == list(range(1, 11))
        assert shown[0].suggested_ranges == [(2, 4), (8, 8)]
        assert shown[1].as_json() == {
            "id": second.id,
            "name": second.name,
            "version": "",
            "threshold": 0.8,
            "scores": [],
            "suggested_ranges": [],
        }
        assert store.run_suggestions(task, 102)[1].as_json()["scores"][:2] == [[1, 0.7], [2, 0.7]]


def test_deleting_a_source_takes_its_scores_summaries_and_evaluations_and_leaves_its_ranges_sourceless(app):
    with app.app_context():
        task, a, b, _ = hand_made_task()
        kept, deleted = add_source(task, as_table(a)), add_source(task, as_table(b))
        certification = certify(task, 101, make_user("sam", Role.SHIFTER))
        certification.bad_ranges.append(BadRange(first=3, last=5, components=["strip"], source_id=deleted.id))
        deleted.evaluations.append(SourceEvaluation(runs=1, lumisections=5, labels_sha256="0" * 64, scorer_version="x"))
        db.session.commit()
        assert stored_ranks(task)[101].disagreement is not None

        store.delete_source(deleted)
        db.session.commit()
        assert db.session.execute(db.select(SuggestionScore.source_id).distinct()).scalars().all() == [kept.id]
        assert db.session.execute(db.select(SourceRunStat.source_id).distinct()).scalars().all() == [kept.id]
        assert count(SourceEvaluation) == 0 and count(SuggestionSource) == 1
        bad_range = db.session.execute(db.select(BadRange)).scalar_one()
        assert (bad_range.first, bad_range.last, bad_range.source_id) == (3, 5, None)
        assert stored_ranks(task)[101].disagreement is None  # one source left


def test_ranks_from_summaries_equal_the_pure_orders_when_sources_score_different_lumisections_with_gaps(app):
    """Sources that skip lumisections (gapped summaries) and overlap only in part, at their own thresholds."""
    with app.app_context():
        numbers = {101: [n for n in range(1, 61) if not 20 <= n <= 24], 102: range(1, 31), 103: range(5, 9)}
        task = make_task(numbers)
        rng = np.random.default_rng(11)
        tables, thresholds = [], [0.3, 0.5, 0.8]
        for threshold in thresholds:
            table = {}
            for run, available in numbers.items():
                chosen = sorted(n for n in available if rng.random() < 0.7)
                table[run] = {n: float(rng.choice([0.1, 0.3, 0.5, 0.79, 0.8, 0.95])) for n in chosen}
            tables.append(table)
            source = add_source(task, table, threshold=threshold)
            for run, scored in table.items():  # the stored verdicts are the suggested ranges
                stat = db.session.get(SourceRunStat, (source.id, run))
                span = stat.last_lumisection - stat.first_lumisection + 1
                bad = summaries.unpack(stat.bad_bits, span)
                expected = [n for n, s in scored.items() if s >= threshold]
                assert (np.flatnonzero(bad) + stat.first_lumisection).tolist() == expected
                contiguous = len(scored) == span
                assert (stat.scored_bits is None) == contiguous
        # The summaries made from the arrays written are those made again from the scores read back.
        everything = db.select(SourceRunStat.__table__).order_by("source_id", "run_number")
        made = db.session.execute(everything).all()
        for source in db.session.execute(db.select(SuggestionSource)).scalars():
            summaries.refresh_run_stats(source)
        db.session.commit()
        assert db.session.execute(everything).all() == made
        stored = stored_ranks(task)
        for run in numbers:
            sources = [
                SourceRun(np.array(list(t[run]), dtype=np.int64), np.array(list(t[run].values())), th)
                for t, th in zip(tables, thresholds, strict=True)
                if t[run]
            ]
            stats = [ordering.run_stat(s.scores, s.threshold) for s in sources]
            assert stored[run].uncertainty == pytest.approx(ordering.uncertainty(stats), abs=1e-12)
            assert stored[run].disagreement == pytest.approx(ordering.disagreement(sources), abs=1e-12)
