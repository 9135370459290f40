"""Luminosity as people read it: a value in pb⁻¹ (as OMS records it per lumisection and the runs table sums it)
shown in the unit that reads well, fb⁻¹, pb⁻¹, nb⁻¹ or μb⁻¹, to three significant digits; and a chart series in
one unit for all its points. Plain functions on plain numbers.

1 fb⁻¹ = 1,000 pb⁻¹; 1 pb⁻¹ = 1,000 nb⁻¹ = 1,000,000 μb⁻¹.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# From the largest: (unit, the power of ten of pb⁻¹ it stands for).
UNITS = (("fb⁻¹", 3), ("pb⁻¹", 0), ("nb⁻¹", -3), ("μb⁻¹", -6))
STORED_UNIT = "pb⁻¹"  # what the database, the API and the CSV files hold
# OMS's per-lumisection values carry luminometer noise of about 1e-9 pb⁻¹ around zero where there was no
# beam; below this a value reads as zero (three decimals of μb⁻¹).
NOISE = 1e-9
DIGITS = 3


def _unit_for(exponent: int) -> tuple[str, int]:
    """The largest unit in which a value of 10**exponent pb⁻¹ is at least 1 (μb⁻¹ below that)."""
    return next(((unit, power) for unit, power in UNITS if exponent >= power), UNITS[-1])


def _fixed(mantissa: str, exponent: int) -> str:
    """Digits 'd.dd' times 10**exponent written out without an exponent, trailing zeros dropped."""
    digits = mantissa.replace(".", "")
    point = exponent + 1  # digits before the decimal point
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_luminosity(value: float | None) -> str:
    """A luminosity given in pb⁻¹ as '12.3 nb⁻¹': three significant digits, never an exponent; '' for none."""
    if value is None or not math.isfinite(value):
        return ""
    if abs(value) < NOISE:
        return f"0 {STORED_UNIT}"
    # Rounded before the unit is chosen, so that 999.6 nb⁻¹ reads 1 pb⁻¹ and not 1000 nb⁻¹.
    mantissa, exponent_text = f"{abs(value):.{DIGITS - 1}e}".split("e")
    exponent = int(exponent_text)
    unit, power = _unit_for(exponent)
    sign = "-" if value < 0 else ""
    return f"{sign}{_fixed(mantissa, exponent - power)} {unit}"


@dataclass(frozen=True)
class LuminositySeries:
    """Luminosities of a chart in one unit: the values scaled to it (None kept) and the axis title naming it."""

    unit: str
    values: list[float | None]
    title: str


def series_unit(values: Sequence[float | None]) -> tuple[str, int]:
    """The unit (and its power of ten of pb⁻¹) in which the largest value of a series reads well."""
    largest = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if largest < NOISE:
        return STORED_UNIT, 0
    return _unit_for(int(f"{largest:.{DIGITS - 1}e}".split("e")[1]))


def luminosity_series(values: Sequence[float | None], title: str = "recorded luminosity") -> LuminositySeries:
    """Values in pb⁻¹ scaled to the unit of the series' largest value, with '<title> (<unit>)' for its axis."""
    unit, power = series_unit(values)
    # Scaled in decimal, so that 1e-4 pb⁻¹ becomes 100 μb⁻¹ and not 100.00000000000001.
    scaled = [
        None if v is None or not math.isfinite(v) else float(Decimal(repr(float(v))).scaleb(-power)) for v in values
    ]
    return LuminositySeries(unit, scaled, f"{title} ({unit})")
