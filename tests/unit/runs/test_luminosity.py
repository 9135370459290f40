"""Luminosity shown with its unit: the unit that reads well, three significant digits, never an exponent; a chart
series in the unit of its largest value."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.runs.luminosity import UNITS, format_luminosity, luminosity_series

SHOWN = re.compile(r"^(-?)(\d+(?:\.\d+)?) (fb⁻¹|pb⁻¹|nb⁻¹|μb⁻¹)$")
POWER = dict(UNITS)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0, "0 pb⁻¹"),
        (1.0, "1 pb⁻¹"),
        (123.456, "123 pb⁻¹"),
        (999.0, "999 pb⁻¹"),
        (1000.0, "1 fb⁻¹"),
        (1234.0, "1.23 fb⁻¹"),
        (1.5e6, "1500 fb⁻¹"),  # fb⁻¹ is the largest unit
        (0.999, "999 nb⁻¹"),
        (0.1, "100 nb⁻¹"),
        (0.00123, "1.23 nb⁻¹"),
        (1e-3, "1 nb⁻¹"),
        (1.81e-4, "181 μb⁻¹"),  # a 2024A commissioning lumisection
        (1e-6, "1 μb⁻¹"),
        (4.2e-8, "0.042 μb⁻¹"),  # μb⁻¹ is the smallest unit
        (-0.5, "-500 nb⁻¹"),
    ],
)
def test_a_value_reads_in_the_unit_where_it_is_at_least_one(value, shown):
    assert format_luminosity(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.9996, "1 pb⁻¹"),  # not "1000 nb⁻¹"
        (999.6, "1 fb⁻¹"),
        (9.996e-4, "1 nb⁻¹"),
        (0.9994, "999 nb⁻¹"),
        (9.9996e-7, "1 μb⁻¹"),
    ],
)
def test_a_value_is_rounded_before_its_unit_is_chosen(value, shown):
    assert format_luminosity(value) == shown


@pytest.mark.parametrize("noise", [-4.43e-10, 2e-10, -9.9e-10, 1e-300, -0.0])
def test_luminometer_noise_around_zero_reads_as_zero(noise):
    assert format_luminosity(noise) == "0 pb⁻¹"


def test_no_value_shows_nothing():
    assert format_luminosity(None) == "" and format_luminosity(float("nan")) == ""


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_any_value_reads_with_a_unit_three_digits_and_no_exponent(value):
    shown = format_luminosity(value)
    match = SHOWN.match(shown)
    assert match, shown
    sign, number, unit = match.groups()
    assert len(number.replace(".", "").strip("0")) <= 3
    back = float(sign + number) * 10.0 ** POWER[unit]
    if abs(value) < 1e-9:
        assert shown == "0 pb⁻¹"
    else:
        assert back == pytest.approx(value, rel=5e-3)  # three significant digits
        assert unit == "fb⁻¹" or unit == "μb⁻¹" or 1 <= float(number) < 1000


def test_a_series_takes_the_unit_of_its_largest_value():
    series = luminosity_series([1.2e-5, None, 1.81e-4, 0.0, -1e-10])
    assert series.unit == "μb⁻¹" and series.title == "recorded luminosity (μb⁻¹)"
    assert series.values == [12.0, None, 181.0, 0.0, -0.0001]
    bigger = luminosity_series([0.5, 0.0004], "delivered luminosity")
    assert (bigger.unit, bigger.values, bigger.title) == ("nb⁻¹", [500.0, 0.4], "delivered luminosity (nb⁻¹)")


def test_a_series_of_nothing_or_noise_stays_in_pb():
    assert luminosity_series([]).unit == "pb⁻¹"
    assert luminosity_series([None, None]).values == [None, None]
    assert luminosity_series([2e-10, -4e-10]).unit == "pb⁻¹"


@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)), min_size=1, max_size=30))
def test_a_series_is_in_the_unit_its_largest_value_is_shown_in(values):
    series = luminosity_series(values)
    largest = max((v for v in values if v is not None), default=0.0)
    assert series.unit == format_luminosity(largest).split()[1]
    for raw, scaled in zip(values, series.values, strict=True):
        assert (raw is None) == (scaled is None)
        if raw is not None:
            assert scaled == pytest.approx(raw / 10.0 ** POWER[series.unit], rel=1e-12)
