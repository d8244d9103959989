"""CGM readings: UTC timestamps, freshness, markers, plausibility and flat data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aid_controller.cgm import GlucoseValidator, Marker, Reading, Reason, SensorStatus, age_problem
from aid_controller.clock import NotUtc, reading_time
from aid_controller.dosing import CycleInputs, Strategy, TempBasal, decide
from aid_controller.units import Glucose

from .conftest import NOW

MINUTE = timedelta(minutes=1)


def _series(validator: GlucoseValidator, start: datetime, values: list[int], step: timedelta) -> datetime:
    """Feed readings ``step`` apart; returns the time of the last one."""
    time = start
    for index, value in enumerate(values):
        time = start + index * step
        validator.receive(Reading(time, Glucose.mgdl(value)), now=time)
    return time


@pytest.mark.verifies("SWR-002", "SWR-069", "SU-02", "SU-03")
def test_reading_time_is_session_start_plus_elapsed_in_utc() -> None:
    start = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)  # the night Europe/Berlin moves to summer time
    times = [reading_time(start, elapsed) for elapsed in (0, 300, 7200, 7200.0004)]
    assert times == [
        datetime(2024, 3, 31, 0, 30, tzinfo=UTC),
        datetime(2024, 3, 31, 0, 35, tzinfo=UTC),
        datetime(2024, 3, 31, 2, 30, tzinfo=UTC),
        datetime(2024, 3, 31, 2, 30, tzinfo=UTC),  # millisecond resolution
    ]
    berlin_summer = timezone(timedelta(hours=2))
    with pytest.raises(NotUtc):
        reading_time(start.astimezone(berlin_summer), 0)  # local time is refused, not converted silently
    with pytest.raises(NotUtc):
        reading_time(start.replace(tzinfo=None), 0)


@pytest.mark.verifies("TST-U003", "SU-04")
@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        (-(11 * MINUTE + timedelta(seconds=59)), None),
        (-12 * MINUTE, None),
        (-(12 * MINUTE + timedelta(milliseconds=1)), Reason.STALE),
        (-(12 * MINUTE + timedelta(seconds=1)), Reason.STALE),
        (4 * MINUTE + timedelta(seconds=59), None),
        (5 * MINUTE, None),
        (5 * MINUTE + timedelta(seconds=1), Reason.FUTURE),
    ],
    ids=["age-11m59s", "age-12m0s", "age-12m0.001s", "age-12m1s", "future-4m59s", "future-5m0s", "future-5m1s"],
)
def test_age_and_future_limits(offset: timedelta, problem: Reason | None) -> None:
    reading = Reading(NOW + offset, Glucose.mgdl(120))
    assert age_problem(reading, NOW) is problem
    validator = GlucoseValidator()
    validator.receive(reading, NOW)
    assert (validator.latest_usable(NOW) is reading) is (problem is None)
    assert validator.future == ([reading] if problem is Reason.FUTURE else [])  # told to the time service


@pytest.mark.verifies("TST-U005", "SU-04")
def test_low_high_markers_and_sensor_states(cycle: CycleInputs) -> None:
    low = GlucoseValidator()
    assert low.receive(Reading(NOW, marker=Marker.LOW), NOW) is Reason.MARKER
    assert low.latest_usable(NOW) is None and low.readings[-1].glucose is None
    suspend = decide(dataclasses.replace(cycle, glucose=None, glucose_time=None, low_marker=low.recent_low_marker(NOW)))
    assert suspend.temp_basal == TempBasal(0.0) and suspend.bolus == 0

    unusable = [Reading(NOW, marker=Marker.HIGH)] + [
        Reading(NOW, Glucose.mgdl(180), status=status) for status in SensorStatus if status is not SensorStatus.OK
    ]
    for reading in unusable:
        validator = GlucoseValidator()
        assert validator.receive(reading, NOW) in (Reason.MARKER, Reason.SENSOR_STATUS)
        assert validator.latest_usable(NOW) is None
        assert not validator.recent_low_marker(NOW)
        fallback = decide(
            dataclasses.replace(cycle, glucose=None, glucose_time=None, strategy=Strategy.AUTOMATIC_BOLUS)
        )
        assert fallback.temp_basal is None and fallback.bolus == 0 and not fallback.cancel


@pytest.mark.verifies("TST-U006", "SU-04")
@pytest.mark.parametrize("direction", [1, -1], ids=["rising", "falling"])
def test_rate_of_change_plausibility(direction: int, cycle: CycleInputs) -> None:
    for difference, plausible in ((30, True), (30.5, False), (31, False)):
        validator = GlucoseValidator()
        validator.receive(Reading(NOW - 5 * MINUTE, Glucose.mgdl(200)), NOW - 5 * MINUTE)
        reason = validator.receive(Reading(NOW, Glucose.mgdl(200 + direction * difference)), NOW)
        assert (reason is None) is plausible, difference

    validator = GlucoseValidator()
    validator.receive(Reading(NOW - 5 * MINUTE, Glucose.mgdl(200)), NOW - 5 * MINUTE)
    assert validator.receive(Reading(NOW, Glucose.mgdl(200 + direction * 31)), NOW) is Reason.IMPLAUSIBLE
    boluses = {}
    for minutes in range(5, 40, 5):
        time = NOW + minutes * MINUTE
        validator.receive(Reading(time, Glucose.mgdl(200)), time)
        inputs = dataclasses.replace(
            cycle,
            now=time,
            glucose=Glucose.mgdl(200),
            glucose_time=time,
            eventual=Glucose.mgdl(220),
            strategy=Strategy.AUTOMATIC_BOLUS,
            last_implausible=validator.last_implausible,
        )
        boluses[minutes] = decide(inputs).bolus
    assert [minutes for minutes, bolus in boluses.items() if bolus > 0] == [30, 35]


@pytest.mark.verifies("TST-U007", "SU-04")
def test_flat_data_detection() -> None:
    validator = GlucoseValidator()
    last = _series(validator, NOW, [142] * 9, 5 * MINUTE)  # 9 readings over 40 minutes
    assert not validator.flat and validator.latest_usable(last) is not None

    validator = GlucoseValidator()
    last = _series(validator, NOW, [142] * 10, 5 * MINUTE)  # 10 readings over 45 minutes
    assert validator.flat and validator.latest_usable(last) is None
    still = last + 5 * MINUTE
    assert validator.receive(Reading(still, Glucose.mgdl(142)), still) is Reason.FLAT

    changed = still + 5 * MINUTE
    assert validator.receive(Reading(changed, Glucose.mgdl(143)), changed) is None
    assert not validator.flat and validator.latest_usable(changed) == Reading(changed, Glucose.mgdl(143))
