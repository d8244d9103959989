"""The glucose validator: which CGM readings a dosing decision may use (SWR-003 to SWR-008)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aid_controller.clock import utc
from aid_controller.units import Glucose

#: A reading older than this is stale (SWR-003); exactly 12 minutes is still usable.
MAX_AGE = timedelta(minutes=12)
#: A reading further than this in the future is rejected (SWR-004).
MAX_FUTURE = timedelta(minutes=5)
#: Rate-of-change plausibility (SWR-007): compared with the usable reading 4 to 11 minutes earlier.
MAX_RATE_MGDL_PER_MIN = 6
RATE_WINDOW = (timedelta(minutes=4), timedelta(minutes=11))
#: Flat data (SWR-008): the same value for 45 minutes or more, over at least 9 readings.
FLAT_SPAN = timedelta(minutes=45)
FLAT_MIN_READINGS = 9


class SensorStatus(enum.Enum):
    OK = "ok"
    WARM_UP = "warm-up"
    SENSOR_ERROR = "sensor error"
    EXPIRED = "sensor expired"
    CALIBRATION_REQUIRED = "calibration required"


class Marker(enum.Enum):
    """Out-of-range values the sensor sends without a number (SWR-006)."""

    LOW = "LOW"  # below 40 mg/dL
    HIGH = "HIGH"  # above 400 mg/dL


@dataclass(frozen=True, slots=True)
class Reading:
    time: datetime  # UTC
    glucose: Glucose | None = None  # None for a marker
    marker: Marker | None = None
    status: SensorStatus = SensorStatus.OK


class Reason(enum.Enum):
    """Why a reading may not be used for automatic dosing."""

    STALE = "stale"
    FUTURE = "future"
    MARKER = "out-of-range marker"
    SENSOR_STATUS = "sensor status"
    IMPLAUSIBLE = "implausible rate of change"
    FLAT = "sensor data unchanged"


def age_problem(reading: Reading, now: datetime) -> Reason | None:
    """STALE beyond 12 minutes, FUTURE beyond 5 minutes ahead, else None."""
    age = utc(now) - utc(reading.time)
    if age > MAX_AGE:
        return Reason.STALE
    if -age > MAX_FUTURE:
        return Reason.FUTURE
    return None


@dataclass
class GlucoseValidator:
    """Keeps the recent readings and qualifies each new one as it arrives."""

    readings: list[Reading] = field(default_factory=list)
    usable: dict[datetime, bool] = field(default_factory=dict)
    future: list[Reading] = field(default_factory=list)  # reported to the time service (SWR-004)
    last_implausible: datetime | None = None
    flat: bool = False

    def receive(self, reading: Reading, now: datetime) -> Reason | None:
        """Store a reading and say why it is not usable (None: usable when fresh)."""
        if age_problem(reading, now) is Reason.FUTURE:
            self.future.append(reading)
            return Reason.FUTURE
        reason = self._qualify(reading)
        self.readings.append(reading)
        self._update_flat()
        if reason is None and self.flat:
            reason = Reason.FLAT
        self.usable[reading.time] = reason is None
        return reason

    def _qualify(self, reading: Reading) -> Reason | None:
        if reading.marker is not None:
            return Reason.MARKER
        if reading.status is not SensorStatus.OK or reading.glucose is None:
            return Reason.SENSOR_STATUS
        previous = self._previous_usable(reading.time)
        if previous is not None and previous.glucose is not None:
            minutes = (reading.time - previous.time).total_seconds() / 60
            if abs(reading.glucose.mg_dl - previous.glucose.mg_dl) > MAX_RATE_MGDL_PER_MIN * minutes:
                self.last_implausible = reading.time
                return Reason.IMPLAUSIBLE
        return None

    def _previous_usable(self, time: datetime) -> Reading | None:
        earliest, latest = time - RATE_WINDOW[1], time - RATE_WINDOW[0]
        for reading in reversed(self.readings):
            if earliest <= reading.time <= latest and self.usable.get(reading.time):
                return reading
        return None

    def _update_flat(self) -> None:
        numeric = [reading for reading in self.readings if reading.glucose is not None]
        if not numeric:
            return
        newest = numeric[-1]
        run = _same_value_run(numeric)
        self.flat = len(run) >= FLAT_MIN_READINGS and newest.time - run[-1].time >= FLAT_SPAN

    def latest_usable(self, now: datetime) -> Reading | None:
        """The newest reading a dosing decision may use now, if any (fresh, qualified, not flat)."""
        if self.flat:
            return None
        for reading in reversed(self.readings):
            if self.usable.get(reading.time) and age_problem(reading, now) is None:
                return reading
        return None

    def recent_low_marker(self, now: datetime) -> bool:
        """A LOW marker at most 12 minutes old: glucose below the suspend threshold (SWR-006, SWR-019)."""
        return any(reading.marker is Marker.LOW and age_problem(reading, now) is None for reading in self.readings)


def _same_value_run(numeric: list[Reading]) -> list[Reading]:
    """The newest readings that share the newest reading's value, newest first."""
    value = numeric[-1].glucose
    run = []
    for reading in reversed(numeric):
        if reading.glucose != value:
            break
        run.append(reading)
    return run
