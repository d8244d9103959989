"""Glucose units: one internal unit, exact conversion, display rounding, wrong-unit detection."""

from __future__ import annotations

from fractions import Fraction

import pytest

from aid_controller.units import Glucose, GlucoseUnit, WrongUnit

MGDL, MMOLL = GlucoseUnit.MG_DL, GlucoseUnit.MMOL_L


@pytest.mark.verifies("SWR-063", "SU-01")
def test_conversion_and_display() -> None:
    for text, shown in (("3.9", "70 mg/dL"), ("5.5", "99 mg/dL"), ("10.0", "180 mg/dL"), ("33.3", "600 mg/dL")):
        value = Glucose.of(text, MMOLL)
        assert value.mg_dl == Fraction(text) * Fraction("18.0156")
        assert value.value_in(MMOLL) == Fraction(text)  # stored exactly: the round trip is the identity
        assert value.display(MGDL) == shown
    assert [Glucose.mgdl(v).display(MMOLL) for v in (70, 99, 100, 180)] == [
        "3.9 mmol/L",
        "5.5 mmol/L",
        "5.6 mmol/L",
        "10.0 mmol/L",
    ]
    with pytest.raises(TypeError):
        _ = Glucose.mgdl(100) < 5.5  # a bare number has no unit: no comparison


@pytest.mark.verifies("SWR-065", "SU-01")
def test_values_plausible_only_in_the_other_unit() -> None:
    with pytest.raises(WrongUnit, match="This looks like a value in mg/dL"):
        Glucose.of("33.4", MMOLL)
    with pytest.raises(WrongUnit, match="This looks like a value in mmol/L"):
        Glucose.of("5.5", MGDL)
    assert Glucose.of("33.3", MMOLL) > Glucose.of(20, MGDL)
