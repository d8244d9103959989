"""The dosing decision: recommendation, limits, suspension and the automatic bolus."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aid_controller.commands import Command, CommandKind
from aid_controller.dosing import (
    TEMP_BASAL_DURATION,
    CycleInputs,
    Decision,
    Limits,
    RunningTempBasal,
    Strategy,
    TempBasal,
    decide,
    max_temp_basal,
    round_down,
)
from aid_controller.monitor import MonitorLimits, MonitorState, SafetyMonitor
from aid_controller.pump import DeliveryJournal, PumpDriver, SimulatedPump
from aid_controller.units import Glucose

from .conftest import NOW

MINUTE = timedelta(minutes=1)


def _at(cycle: CycleInputs, glucose: float, **changes: object) -> CycleInputs:
    """The cycle with a fresh reading of ``glucose`` mg/dL that is also the prediction."""
    value = Glucose.mgdl(glucose)
    return dataclasses.replace(cycle, glucose=value, eventual=value, minimum_30=value, **changes)


@pytest.mark.verifies("TST-U004", "SU-05")
def test_fallback_without_usable_reading(cycle: CycleInputs) -> None:
    no_reading = dataclasses.replace(cycle, glucose=None, glucose_time=None, strategy=Strategy.AUTOMATIC_BOLUS)
    high = decide(dataclasses.replace(no_reading, running=RunningTempBasal(2.0, 20 * MINUTE)))
    assert (high.cancel, high.temp_basal, high.bolus) == (True, None, 0)
    zero = decide(dataclasses.replace(no_reading, running=RunningTempBasal(0.0, 20 * MINUTE)))
    assert (zero.cancel, zero.temp_basal, zero.bolus) == (False, None, 0)
    none = decide(no_reading)
    assert (none.cancel, none.temp_basal, none.bolus) == (False, None, 0)
    stale = decide(dataclasses.replace(cycle, glucose_time=NOW - 12 * MINUTE - timedelta(seconds=1)))
    assert stale.temp_basal is None and stale.bolus == 0


@pytest.mark.verifies("TST-U012", "SU-05")
def test_temporary_basal_recommendation(cycle: CycleInputs) -> None:
    # insulin required = (eventual - 110) / 50; rate = 1.0 + required / 0.5, not below 0
    assert decide(_at(cycle, 135)).temp_basal == TempBasal(2.0)
    at_target = decide(_at(cycle, 110, running=RunningTempBasal(1.5, 20 * MINUTE)))
    assert at_target.temp_basal is None and at_target.cancel
    assert decide(_at(cycle, 85)).temp_basal == TempBasal(0.0)
    assert decide(_at(cycle, 95)).temp_basal == TempBasal(0.4)


@pytest.mark.verifies("TST-U012", "SU-05")
@pytest.mark.parametrize(
    ("remaining", "difference", "new_command"),
    [(9, 0.04, True), (10, 0.04, False), (11, 0.04, False), (10, 0.05, True), (11, 0.05, True)],
)
def test_running_temporary_basal_continues(
    cycle: CycleInputs, remaining: int, difference: float, new_command: bool
) -> None:
    running = RunningTempBasal(2.0 - difference, remaining * MINUTE)
    decision = decide(_at(cycle, 135, running=running))
    assert (decision.temp_basal is not None) is new_command
    if new_command:
        assert decision.temp_basal == TempBasal(2.0)


@pytest.mark.verifies("SU-06")
@pytest.mark.parametrize(  # named by TST-U015's `evidence:` (every parametrization)
    ("pump_max", "app_max", "highest", "current", "limit"),
    [
        (2.0, 4.0, 1.0, 1.0, 2.0),  # the pump maximum is lowest
        (4.0, 1.5, 1.0, 1.0, 1.5),  # the app maximum is lowest
        (4.0, 4.0, 0.4, 0.4, 1.2),  # 3x the highest scheduled rate is lowest
        (4.0, 4.0, 0.4, 0.2, 0.8),  # 4x the current scheduled rate is lowest
    ],
    ids=["pump-max", "app-max", "3x-highest", "4x-current"],
)
def test_maximum_temporary_basal_rate(
    cycle: CycleInputs, pump_max: float, app_max: float, highest: float, current: float, limit: float
) -> None:
    limits = Limits(pump_max_basal=pump_max, app_max_basal=app_max, max_iob=30.0)
    assert max_temp_basal(limits, highest, current) == pytest.approx(limit)
    far_above = _at(cycle, 400, limits=limits, highest_scheduled_rate=highest, scheduled_rate=current)
    assert decide(far_above).temp_basal == TempBasal(limit)


@pytest.mark.verifies("SU-06")
def test_rounding_down_to_pump_increments(cycle: CycleInputs) -> None:
    # named by TST-U016's `evidence:` in traceability/verification/unit.yaml (no marker needed)
    assert [round_down(rate) for rate in (1.049, 1.050, 1.0999)] == [1.0, 1.05, 1.05]
    assert [round_down(bolus) for bolus in (0.049, 0.05, 2.349)] == [0.0, 0.05, 2.3]
    tiny = dataclasses.replace(cycle, eventual=Glucose.mgdl("116.125"), strategy=Strategy.AUTOMATIC_BOLUS)
    assert decide(tiny).bolus == 0  # 40 % of 0.1225 U is 0.049 U: rounds to 0, nothing is sent
    for thousandths in range(0, 10_001, 7):
        amount = thousandths / 1000
        assert 0 <= amount - round_down(amount) < 0.05 + 1e-9  # never up, never a whole step down


@pytest.mark.verifies("TST-U017", "SU-05")
@pytest.mark.parametrize(
    ("iob", "rate", "bolus"),
    [(0.0, 4.0, 0.5), (3.5, 2.0, 0.5), (4.0, None, 0.0), (5.0, None, 0.0)],
)
def test_maximum_insulin_on_board(cycle: CycleInputs, iob: float, rate: float | None, bolus: float) -> None:
    # 5.8 U required; the rate alone would be capped at 4.0 U/h (the app maximum)
    limits = Limits(pump_max_basal=10.0, app_max_basal=4.0, max_iob=4.0)
    base = _at(cycle, 400, iob=iob, limits=limits, highest_scheduled_rate=3.0)
    temp = decide(base)
    assert (temp.temp_basal.rate if temp.temp_basal else None) == rate  # None: scheduled rate, no command
    commanded = rate if rate is not None else 1.0
    assert iob + (commanded - 1.0) * 0.5 <= 4.0 or rate is None
    automatic = decide(dataclasses.replace(base, strategy=Strategy.AUTOMATIC_BOLUS))
    assert automatic.bolus == bolus and automatic.temp_basal is None
    assert iob + automatic.bolus <= 4.0 or automatic.bolus == 0


@pytest.mark.verifies("TST-U018", "SU-05")
def test_suspend_on_low_glucose(cycle: CycleInputs) -> None:
    hungry = dict(eventual=Glucose.mgdl(300), strategy=Strategy.AUTOMATIC_BOLUS)  # carbohydrates on board
    suspend = Decision("", temp_basal=TempBasal(0.0))
    below = decide(dataclasses.replace(cycle, glucose=Glucose.mgdl(79), **hungry))
    at = decide(dataclasses.replace(cycle, glucose=Glucose.mgdl(80), minimum_30=Glucose.mgdl(80), **hungry))
    predicted_below = decide(dataclasses.replace(cycle, minimum_30=Glucose.mgdl(79), **hungry))
    low_marker = decide(dataclasses.replace(cycle, glucose=None, glucose_time=None, low_marker=True, **hungry))
    for decision in (below, predicted_below, low_marker):
        assert (decision.temp_basal, decision.bolus) == (suspend.temp_basal, 0)
        assert decision.temp_basal and decision.temp_basal.duration == TEMP_BASAL_DURATION
    assert at.temp_basal != TempBasal(0.0) and at.bolus > 0


def _limits_copy(cycle: CycleInputs) -> MonitorLimits:
    return MonitorLimits(
        pump_max_basal=cycle.limits.pump_max_basal,
        app_max_basal=cycle.limits.app_max_basal,
        max_bolus=10.0,
        max_iob=cycle.limits.max_iob,
        duration_of_action=timedelta(hours=6),
        schedule=((0, cycle.scheduled_rate), (360, cycle.highest_scheduled_rate)),
    )


@pytest.mark.verifies("TST-U019", "SU-05")
def test_suspension_ends_by_itself(cycle: CycleInputs) -> None:
    suspended = decide(_at(cycle, 75))
    assert suspended.temp_basal == TempBasal(0.0)
    later = NOW + 5 * MINUTE
    cleared = dataclasses.replace(
        cycle,
        now=later,
        glucose=Glucose.mgdl(80),
        glucose_time=later,
        minimum_30=Glucose.mgdl(80),
        eventual=Glucose.mgdl(140),
        running=RunningTempBasal(0.0, 25 * MINUTE),
    )
    assert decide(cleared).temp_basal == TempBasal(2.2)  # the normal recommendation: 1.0 + 0.6 U / 0.5 h

    pump = SimulatedPump(scheduled_rate=1.0)
    driver = PumpDriver(pump, DeliveryJournal())
    monitor = SafetyMonitor(_limits_copy(cycle))
    command = Command(CommandKind.TEMP_BASAL, 0.0, TEMP_BASAL_DURATION, scheduled_rate=1.0)
    approved = monitor.check(command, MonitorState(NOW, 0, glucose_time=NOW))
    driver.send(approved, NOW)  # type: ignore[arg-type]
    for minutes in range(5, 45, 5):  # no new reading for 40 minutes: the 75 mg/dL one ages out at 12
        remaining = RunningTempBasal(0.0, max(30 - minutes, 0) * MINUTE)
        decision = decide(_at(cycle, 75, now=NOW + minutes * MINUTE, running=remaining))
        assert decision.temp_basal is None, minutes  # never renewed
    assert pump.basal_rate_at(NOW + 29 * MINUTE) == 0.0
    assert [pump.basal_rate_at(NOW + minutes * MINUTE) for minutes in (30, 35, 40)] == [1.0, 1.0, 1.0]


@pytest.mark.verifies("TST-U020", "SU-07")
@pytest.mark.parametrize(
    ("eventual", "iob", "strategy", "bolus"),
    [
        (160, 0.0, Strategy.AUTOMATIC_BOLUS, 0.4),  # 1.0 U required: 40 %
        (260, 0.0, Strategy.AUTOMATIC_BOLUS, 0.5),  # 3.0 U required: 30 minutes of 1.0 U/h
        (260, 5.7, Strategy.AUTOMATIC_BOLUS, 0.3),  # 3.0 U required, 0.3 U room under 6.0 U
        (160, 0.0, Strategy.TEMP_BASAL_ONLY, 0.0),
    ],
    ids=["40-percent", "30-minutes-of-basal", "room-under-max-iob", "temp-basal-only"],
)
def test_automatic_bolus_size(cycle: CycleInputs, eventual: int, iob: float, strategy: Strategy, bolus: float) -> None:
    decision = decide(dataclasses.replace(cycle, eventual=Glucose.mgdl(eventual), iob=iob, strategy=strategy))
    assert decision.bolus == pytest.approx(bolus)
    if strategy is Strategy.AUTOMATIC_BOLUS:
        assert decision.temp_basal is None and not decision.cancel  # temporary basal stays at the scheduled rate


@pytest.mark.verifies("TST-U021", "SU-07")
@pytest.mark.parametrize(
    "violation",
    [
        dict(glucose_time=NOW - 12 * MINUTE - timedelta(seconds=1)),
        dict(last_implausible=NOW - 29 * MINUTE),
        dict(flat=True),
        dict(minimum_30=Glucose.mgdl(79)),
        dict(uncertain_delivery=True),
        dict(last_bolus_end=NOW - 2 * MINUTE - timedelta(seconds=59)),
        dict(history_reconciled=False),
        dict(conservative_mode=True),
    ],
    ids=[
        "reading-12m1s",
        "implausible-29m",
        "flat",
        "predicted-low",
        "uncertain",
        "bolus-2m59s",
        "not-reconciled",
        "conservative",
    ],
)
def test_automatic_bolus_preconditions(cycle: CycleInputs, violation: dict[str, object]) -> None:
    allowed = dataclasses.replace(cycle, eventual=Glucose.mgdl(160), strategy=Strategy.AUTOMATIC_BOLUS)
    assert decide(allowed).bolus == pytest.approx(0.4)
    assert decide(dataclasses.replace(allowed, **violation)).bolus == 0


@pytest.mark.verifies("SWR-015", "SWR-016", "SWR-018", "SU-05")
@settings(max_examples=300, deadline=None)
@given(
    glucose=st.integers(40, 400),
    eventual=st.integers(40, 500),
    iob=st.floats(-2, 12),
    scheduled=st.sampled_from([0.05, 0.3, 1.0, 2.5]),
    strategy=st.sampled_from(Strategy),
)
def test_no_decision_exceeds_the_limits(
    glucose: int, eventual: int, iob: float, scheduled: float, strategy: Strategy
) -> None:
    limits = Limits(pump_max_basal=3.0, app_max_basal=2.5, max_iob=5.0)
    inputs = CycleInputs(
        now=NOW,
        glucose=Glucose.mgdl(glucose),
        glucose_time=NOW,
        eventual=Glucose.mgdl(eventual),
        minimum_30=Glucose.mgdl(min(glucose, eventual)),
        target=Glucose.mgdl(110),
        suspend_threshold=Glucose.mgdl(80),
        sensitivity=40.0,
        iob=iob,
        scheduled_rate=scheduled,
        highest_scheduled_rate=2.5,
        limits=limits,
        strategy=strategy,
    )
    decision = decide(inputs)
    rate = decision.temp_basal.rate if decision.temp_basal else scheduled
    if decision.temp_basal:
        assert decision.temp_basal.duration == TEMP_BASAL_DURATION
    assert rate <= max_temp_basal(limits, 2.5, scheduled) + 1e-9
    if rate > scheduled or decision.bolus > 0:
        assert iob + decision.bolus + (rate - scheduled) * 0.5 <= limits.max_iob + 1e-9
