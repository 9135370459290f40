"""Reading OMS documents: negative luminosities (OMS's noise around zero) become 0 and are counted."""

from __future__ import annotations

from app.services.runs.documents import clamp_negative, parse_oms


def test_negative_luminosities_become_zero_and_are_counted_other_numbers_stay():
    conditions = parse_oms(
        {
            "run_number": [390001, 390001, 390001],
            "lumisection_number": [1, 2, 3],
            "delivered_lumi_per_lumisection": [-1.3e-9, 2e-4, None],
            "recorded_lumi_per_lumisection": [-4.43e-10, 1.8e-4, -0.0],
            "pileup": [-0.5, 30.0, 0.0],  # not a luminosity: left as OMS gives it
        }
    )
    assert conditions.lumisections["delivered_lumi"] == [0.0, 2e-4, None]
    assert conditions.lumisections["recorded_lumi"] == [0.0, 1.8e-4, -0.0]
    assert conditions.lumisections["pileup"] == [-0.5, 30.0, 0.0]
    assert conditions.clamped == 2


def test_a_document_without_luminosity_clamps_nothing():
    assert parse_oms({"run_number": [390001], "lumisection_number": [1]}).clamped == 0


def test_clamping_keeps_the_list_when_nothing_is_negative():
    values = [0.0, 1e-4, None]
    assert clamp_negative(values) == (values, 0)
    assert clamp_negative([-1.0, None, 2.0]) == ([0.0, None, 2.0], 1)
