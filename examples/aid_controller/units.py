"""Glucose quantities in one internal unit, mg/dL (SWR-063), and wrong-unit detection (SWR-065).

Values are exact fractions: a value converted in and out again is the value entered, and only
display rounds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

#: 1 mmol/L of glucose in mg/dL.
MGDL_PER_MMOLL = Fraction("18.0156")
#: Beyond these a value is plausible only in the other unit (SWR-065).
MMOLL_PLAUSIBLE_MAX = Fraction("33.3")
MGDL_PLAUSIBLE_MIN = Fraction(20)


class GlucoseUnit(enum.StrEnum):
    MG_DL = "mg/dL"
    MMOL_L = "mmol/L"

    @property
    def other(self) -> GlucoseUnit:
        return GlucoseUnit.MMOL_L if self is GlucoseUnit.MG_DL else GlucoseUnit.MG_DL


class WrongUnit(ValueError):
    """A value that is plausible only in the other glucose unit."""


@dataclass(frozen=True, order=True, slots=True)
class Glucose:
    """A glucose concentration, held in mg/dL. Compares only with another Glucose."""

    mg_dl: Fraction

    @classmethod
    def of(cls, value: str | int | float | Fraction, unit: GlucoseUnit) -> Glucose:
        """A value as entered or imported in ``unit``; refuses values plausible only in the other."""
        amount = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
        if (unit is GlucoseUnit.MMOL_L and amount > MMOLL_PLAUSIBLE_MAX) or (
            unit is GlucoseUnit.MG_DL and amount < MGDL_PLAUSIBLE_MIN
        ):
            raise WrongUnit(f"This looks like a value in {unit.other}")
        return cls(amount * MGDL_PER_MMOLL if unit is GlucoseUnit.MMOL_L else amount)

    @classmethod
    def mgdl(cls, value: str | int | float) -> Glucose:
        return cls.of(value, GlucoseUnit.MG_DL)

    def value_in(self, unit: GlucoseUnit) -> Fraction:
        """The exact value in ``unit`` (no rounding)."""
        return self.mg_dl / MGDL_PER_MMOLL if unit is GlucoseUnit.MMOL_L else self.mg_dl

    def display(self, unit: GlucoseUnit) -> str:
        """The value as shown: whole mg/dL or mmol/L to one decimal, always with the unit."""
        exact = self.value_in(unit)
        quantum = Decimal("0.1") if unit is GlucoseUnit.MMOL_L else Decimal(1)
        shown = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(quantum, rounding=ROUND_HALF_UP)
        return f"{shown} {unit}"

    def __float__(self) -> float:
        return float(self.mg_dl)
