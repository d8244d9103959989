"""Shared inputs: a clock reading and a dosing cycle in a known, unremarkable state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aid_controller.dosing import CycleInputs, Limits, Strategy
from aid_controller.units import Glucose

NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def cycle() -> CycleInputs:
    """A cycle at glucose 180 mg/dL, target 110, sensitivity 50 mg/dL/U, 1.0 U/h scheduled."""
    return CycleInputs(
        now=NOW,
        glucose=Glucose.mgdl(180),
        glucose_time=NOW,
        eventual=Glucose.mgdl(180),
        minimum_30=Glucose.mgdl(170),
        target=Glucose.mgdl(110),
        suspend_threshold=Glucose.mgdl(80),
        sensitivity=50.0,
        iob=0.0,
        scheduled_rate=1.0,
        highest_scheduled_rate=1.2,
        limits=Limits(pump_max_basal=5.0, app_max_basal=4.0, max_iob=6.0),
        strategy=Strategy.TEMP_BASAL_ONLY,
    )
