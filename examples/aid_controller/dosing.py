"""The dosing algorithm's decision in one cycle, and the limits it applies to itself.

Prediction is an input here (the model takes the eventual and the 30-minute minimum predicted
glucose as given); what is modelled is what the requirements make of them: the temporary basal
recommendation and its continuation (SWR-014), its fixed duration (SWR-015), the maximum rate
(SWR-016), rounding down (SWR-017), the maximum insulin on board (SWR-018), suspension on low
glucose and its end (SWR-019, SWR-020), the automatic bolus size and preconditions (SWR-021,
SWR-022), and the fallback without a usable reading (SWR-005). The safety monitor
(:mod:`aid_controller.monitor`) checks the result again, independently.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from aid_controller.clock import utc
from aid_controller.units import Glucose

TEMP_BASAL_DURATION = timedelta(minutes=30)
PUMP_INCREMENT = Decimal("0.05")  # U/h for rates, U for boluses
AUTO_BOLUS_FRACTION = 0.4
MAX_READING_AGE = timedelta(minutes=12)
IMPLAUSIBLE_LOCKOUT = timedelta(minutes=30)
MIN_GAP_AFTER_BOLUS = timedelta(minutes=3)
CONTINUE_MIN_REMAINING = timedelta(minutes=10)
CONTINUE_TOLERANCE = 0.05  # U/h
_EPSILON = 1e-9


class Strategy(enum.Enum):
    TEMP_BASAL_ONLY = "temporary basal only"
    AUTOMATIC_BOLUS = "automatic bolus"


@dataclass(frozen=True, slots=True)
class Limits:
    """The dose limits in force: the lower of pump and app values where both exist (SWR-048)."""

    pump_max_basal: float  # U/h
    app_max_basal: float  # U/h
    max_iob: float  # U


@dataclass(frozen=True, slots=True)
class RunningTempBasal:
    rate: float  # U/h
    remaining: timedelta


@dataclass(frozen=True, slots=True)
class CycleInputs:
    """Everything one dosing cycle decides from."""

    now: datetime
    glucose: Glucose | None  # latest usable reading (None: there is none)
    glucose_time: datetime | None
    eventual: Glucose | None  # eventual predicted glucose
    minimum_30: Glucose | None  # minimum predicted glucose over the next 30 minutes
    target: Glucose
    suspend_threshold: Glucose
    sensitivity: float  # mg/dL per U
    iob: float  # U
    scheduled_rate: float  # U/h in effect now
    highest_scheduled_rate: float  # U/h, highest of the 24-hour schedule
    limits: Limits
    strategy: Strategy = Strategy.TEMP_BASAL_ONLY
    running: RunningTempBasal | None = None
    low_marker: bool = False  # a LOW marker at most 12 minutes old
    last_implausible: datetime | None = None
    flat: bool = False
    uncertain_delivery: bool = False
    last_bolus_end: datetime | None = None
    history_reconciled: bool = True
    conservative_mode: bool = False


@dataclass(frozen=True, slots=True)
class TempBasal:
    rate: float  # U/h
    duration: timedelta = TEMP_BASAL_DURATION


@dataclass(frozen=True, slots=True)
class Decision:
    """What the cycle commands: a new temporary basal, a cancel, an automatic bolus, or nothing."""

    reason: str
    temp_basal: TempBasal | None = None
    cancel: bool = False
    bolus: float = 0.0


def round_down(amount: float) -> float:
    """Down (towards zero) to the pump increment (SWR-017).

    The amount is first taken to 9 decimals, so that float arithmetic (6.0 - 5.7 gives
    0.2999999999999998) cannot lose a whole increment.
    """
    steps = (Decimal(str(round(amount, 9))) / PUMP_INCREMENT).to_integral_value(rounding=ROUND_DOWN)
    return float(steps * PUMP_INCREMENT)


def max_temp_basal(limits: Limits, highest_scheduled_rate: float, scheduled_rate: float) -> float:
    """The lowest of pump maximum, app maximum, 3x the highest and 4x the current scheduled rate (SWR-016)."""
    return min(limits.pump_max_basal, limits.app_max_basal, 3 * highest_scheduled_rate, 4 * scheduled_rate)


def bolus_blockers(inputs: CycleInputs) -> list[str]:
    """The preconditions of an automatic bolus that do not hold (SWR-022); empty: allowed."""
    now = utc(inputs.now)
    blockers = []
    if inputs.last_implausible is not None and now - inputs.last_implausible < IMPLAUSIBLE_LOCKOUT:
        blockers.append("implausible reading in the last 30 minutes")
    if inputs.flat:
        blockers.append("sensor data unchanged")
    if inputs.minimum_30 is None or inputs.minimum_30 < inputs.suspend_threshold:
        blockers.append("predicted glucose below the suspend threshold")
    if inputs.uncertain_delivery:
        blockers.append("uncertain delivery")
    if inputs.last_bolus_end is not None and now - inputs.last_bolus_end < MIN_GAP_AFTER_BOLUS:
        blockers.append("previous bolus ended less than 3 minutes ago")
    if not inputs.history_reconciled:
        blockers.append("pump history not reconciled")
    if inputs.conservative_mode:
        blockers.append("conservative mode")
    return blockers


def _usable_glucose(inputs: CycleInputs) -> Glucose | None:
    if inputs.glucose is None or inputs.glucose_time is None:
        return None
    age = utc(inputs.now) - utc(inputs.glucose_time)
    return inputs.glucose if age <= MAX_READING_AGE else None


def _suspend(inputs: CycleInputs, glucose: Glucose | None) -> bool:
    threshold = inputs.suspend_threshold
    if inputs.low_marker:
        return True
    if glucose is None:
        return False
    return glucose < threshold or (inputs.minimum_30 is not None and inputs.minimum_30 < threshold)


def decide(inputs: CycleInputs) -> Decision:
    """The cycle's command, limits applied."""
    glucose = _usable_glucose(inputs)
    scheduled = inputs.scheduled_rate
    if _suspend(inputs, glucose):
        return _command(inputs, 0.0, 0.0, "suspend: glucose below the suspend threshold")
    if glucose is None:
        running = inputs.running
        if running is not None and running.rate > scheduled + _EPSILON:
            return Decision("no usable reading: cancel the high temporary basal", cancel=True)
        return Decision("no usable reading: scheduled basal")
    eventual = inputs.eventual or glucose
    required = float(eventual.mg_dl - inputs.target.mg_dl) / inputs.sensitivity
    rate, bolus = scheduled, 0.0
    if required > 0 and inputs.strategy is Strategy.AUTOMATIC_BOLUS and not bolus_blockers(inputs):
        bolus = min(AUTO_BOLUS_FRACTION * required, scheduled * 0.5)
    else:
        rate = max(0.0, scheduled + required / 0.5)
    if inputs.uncertain_delivery or inputs.conservative_mode:
        rate = min(rate, scheduled)
    rate = min(rate, max_temp_basal(inputs.limits, inputs.highest_scheduled_rate, scheduled))
    rate, bolus = _within_max_iob(inputs, rate, bolus)
    return _command(inputs, round_down(rate), round_down(bolus), "recommendation")


def _within_max_iob(inputs: CycleInputs, rate: float, bolus: float) -> tuple[float, float]:
    """Reduce so that IOB + bolus + excess basal over 0.5 h stays within the maximum (SWR-018)."""
    scheduled = inputs.scheduled_rate
    if rate <= scheduled and bolus <= 0:
        return rate, bolus
    room = inputs.limits.max_iob - inputs.iob
    if room <= 0:
        return min(rate, scheduled), 0.0
    bolus = min(bolus, room)
    room -= bolus
    if (rate - scheduled) * 0.5 > room:
        rate = scheduled + room / 0.5
    return rate, bolus


def _command(inputs: CycleInputs, rate: float, bolus: float, reason: str) -> Decision:
    """Turn a recommended rate into a command, or none when the running one will do (SWR-014)."""
    running = inputs.running
    if (
        running is not None
        and running.remaining >= CONTINUE_MIN_REMAINING
        and abs(running.rate - rate) < CONTINUE_TOLERANCE - _EPSILON
    ):
        return Decision(f"{reason}: running temporary basal continues", bolus=bolus)
    if abs(rate - inputs.scheduled_rate) < _EPSILON:
        return Decision(f"{reason}: scheduled rate", cancel=running is not None, bolus=bolus)
    return Decision(reason, temp_basal=TempBasal(rate), bolus=bolus)
