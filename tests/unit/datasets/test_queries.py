"""Reading a dataset before modelling it: class balance per run and split, bad spans, the good reference."""

from __future__ import annotations

import pandas as pd

from app.services.datasets import queries


def table(*rows: tuple[int, int, str, int | None]) -> pd.DataFrame:
    """Lumisections as queries.lumisections lays them out: run, number, split, label (None where hidden)."""
    frame = pd.DataFrame(rows, columns=[queries.RUN, queries.LUMISECTION, "split", queries.LABEL])
    frame[queries.LABEL] = frame[queries.LABEL].astype("Int64")
    return frame


LUMISECTIONS = table(
    *[(100, n, "train", int(n in (2, 3, 5))) for n in range(1, 7)],
    *[(101, n, "train", 0) for n in range(1, 3)],
    *[(200, n, "test", None) for n in range(1, 5)],
)


def test_balance_counts_bad_lumisections_per_run_and_hides_the_test_side():
    runs = queries.balance(LUMISECTIONS)
    assert [(r.run_number, r.split, r.lumisections, r.bad) for r in runs] == [
        (100, "train", 6, 3),
        (101, "train", 2, 0),
        (200, "test", 4, None),
    ]
    assert runs[0].bad_share == 0.5 and runs[2].bad_share is None
    sides = queries.split_balance(runs)
    assert (sides["train"].runs, sides["train"].lumisections, sides["train"].bad) == (2, 8, 3)
    assert (sides["test"].runs, sides["test"].lumisections, sides["test"].bad, sides["test"].bad_share) == (
        1,
        4,
        None,
        None,
    )


def test_contiguous_bad_lumisections_make_one_span_each():
    run = LUMISECTIONS[LUMISECTIONS[queries.RUN] == 100]
    assert queries.bad_spans(run) == [(2, 3), (5, 5)]
    assert queries.bad_spans(LUMISECTIONS[LUMISECTIONS[queries.RUN] == 200]) == []  # hidden labels shade nothing
    figure = queries.run_figure(run.assign(pileup=30.0))
    assert [(s["x0"], s["x1"]) for s in figure["layout"]["shapes"]] == [(1.5, 3.5), (4.5, 5.5)]
    assert figure["data"][0]["name"] == "pileup"
    with_lumi = queries.run_figure(run.assign(recorded_lumi=[2e-3, None, 4e-3, 1e-3, 0.0, 3e-3], pileup=30.0))
    lumi = with_lumi["data"][0]
    assert lumi["name"] == with_lumi["layout"]["yaxis"]["title"]["text"] == "recorded luminosity (nb⁻¹)"
    assert lumi["y"] == [2.0, None, 4.0, 1.0, 0.0, 3.0]


def test_the_good_reference_is_the_nearest_in_the_run_else_another_runs_never_a_hidden_one():
    assert queries.good_reference(LUMISECTIONS, 100, 3) == (100, 4)
    assert queries.good_reference(LUMISECTIONS, 100, 6) == (100, 4)  # 5 is bad: 4 is the nearest good
    only_bad_run = table((100, 1, "train", 1), (101, 7, "train", 0), (200, 1, "test", None))
    assert queries.good_reference(only_bad_run, 100, 1) == (101, 7)
    assert queries.good_reference(table((200, 1, "test", None), (200, 2, "test", None)), 200, 1) is None


def test_a_lumisections_label_is_shown_only_where_public():
    assert queries.label_of(LUMISECTIONS.iloc[[1]]) == 1
    assert queries.label_of(LUMISECTIONS[LUMISECTIONS[queries.RUN] == 200].iloc[[0]]) is None
