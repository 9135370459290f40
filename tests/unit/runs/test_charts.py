"""The conditions chart of a run: one point per lumisection, DCS gaps left open, bad ranges shaded whole."""

from __future__ import annotations

from app.models import Lumisection, Run
from app.services.runs import charts


def run_with(*lumisections: tuple[int, float, float, bool | None]) -> Run:
    run = Run(run_number=315257)
    for number, recorded, pileup, dcs in lumisections:
        run.lumisections.append(Lumisection(number=number, recorded_lumi=recorded, pileup=pileup, dcs_ok=dcs))
    return run


def test_each_lumisection_is_one_point_of_each_curve():
    figure = charts.run_conditions(run_with((1, 0.5, 30.0, True), (2, 0.4, 29.0, False), (3, 0.3, 28.0, None)), [])
    lumi, pileup, dcs = figure["data"]
    assert lumi["x"] == pileup["x"] == dcs["x"] == [1, 2, 3]
    assert (lumi["y"], pileup["y"]) == ([500.0, 400.0, 300.0], [30.0, 29.0, 28.0])  # 0.5 pb⁻¹ is 500 nb⁻¹
    assert dcs["y"] == [1, 0, None]  # no DCS information is a gap, not a "bad"
    assert figure["layout"]["shapes"] == []


def test_the_luminosity_axis_and_curve_carry_the_unit_of_the_largest_value():
    """A commissioning run's 1e-4 pb⁻¹ per lumisection is drawn in μb⁻¹, and the axis says so."""
    figure = charts.run_conditions(run_with((1, 1.2e-4, 0.1, True), (2, 1.81e-4, 0.1, True), (3, 0.0, 0.0, None)), [])
    lumi = figure["data"][0]
    assert lumi["y"] == [120.0, 181.0, 0.0]
    assert figure["layout"]["yaxis"]["title"]["text"] == lumi["name"] == "recorded luminosity (μb⁻¹)"


def test_bad_ranges_shade_their_first_and_last_lumisections_whole():
    figure = charts.run_conditions(run_with(*[(n, 0.5, 30.0, True) for n in range(1, 11)]), [(2, 4), (9, 9)])
    shapes = figure["layout"]["shapes"]
    assert [(shape["x0"], shape["x1"]) for shape in shapes] == [(1.5, 4.5), (8.5, 9.5)]
    assert all(shape["yref"] == "paper" and (shape["y0"], shape["y1"]) == (0, 1) for shape in shapes)  # full height


def test_a_run_without_lumisections_draws_no_curve():
    figure = charts.run_conditions(run_with(), [(1, 5)])
    assert figure["data"] == []
    assert len(figure["layout"]["shapes"]) == 1


def test_shaded_ranges_alone_follow_the_same_rule():
    assert [(s["x0"], s["x1"]) for s in charts.shaded_ranges([(10, 20)])] == [(9.5, 20.5)]
    assert charts.shaded_ranges([]) == []
