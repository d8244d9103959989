"""Loop-not-running alerts (SWR-049, SWR-050) and glucose alerts (SWR-051)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aid_controller.cgm import Marker, Reading
from aid_controller.clock import utc
from aid_controller.units import Glucose

#: Minutes since the last completed dosing cycle, and whether the alert is critical.
LOOP_NOT_RUNNING = ((20, False), (40, False), (60, True), (120, True))
URGENT_LOW = Glucose.mgdl(54)
LOW_RANGE = (Glucose.mgdl(60), Glucose.mgdl(100))
HIGH_RANGE = (Glucose.mgdl(120), Glucose.mgdl(400))
REPEAT_AFTER = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    message: str
    critical: bool
    at: datetime


def loop_not_running_alarms(cycle_end: datetime) -> tuple[Alert, ...]:
    """The four alarms (re)scheduled at the end of every completed cycle, so they fire even if
    the app has been stopped; the next completed cycle replaces them."""
    cycle_end = utc(cycle_end)
    return tuple(
        Alert(
            f"loop-{minutes}",
            f"Automation has not run for {minutes} minutes",
            critical,
            cycle_end + timedelta(minutes=minutes),
        )
        for minutes, critical in LOOP_NOT_RUNNING
    )


def loop_alerts_due(last_cycle_end: datetime, now: datetime) -> tuple[Alert, ...]:
    """The loop-not-running alerts raised by ``now``."""
    return tuple(alert for alert in loop_not_running_alarms(last_cycle_end) if alert.at <= utc(now))


class AlertSettingRefused(ValueError):
    """A glucose alert setting outside its range, or an attempt to switch off urgent low."""


@dataclass
class GlucoseAlerts:
    """Urgent low (always on), and the user's low and high alerts, repeated at most every 30 minutes."""

    low_threshold: Glucose = field(default_factory=lambda: Glucose.mgdl(70))
    high_threshold: Glucose = field(default_factory=lambda: Glucose.mgdl(250))
    low_enabled: bool = True
    high_enabled: bool = True
    last_raised: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not LOW_RANGE[0] <= self.low_threshold <= LOW_RANGE[1]:
            raise AlertSettingRefused("low alert threshold must be 60-100 mg/dL")
        if not HIGH_RANGE[0] <= self.high_threshold <= HIGH_RANGE[1]:
            raise AlertSettingRefused("high alert threshold must be 120-400 mg/dL")

    def disable(self, name: str) -> None:
        if name == "urgent-low":
            raise AlertSettingRefused("the urgent low alert cannot be switched off")
        setattr(self, f"{name}_enabled", False)

    def on_reading(self, reading: Reading, now: datetime) -> list[Alert]:
        """Alerts for a usable reading (or a marker)."""
        glucose, marker = reading.glucose, reading.marker
        found = []
        if marker is Marker.LOW or (glucose is not None and glucose <= URGENT_LOW):
            found.append(Alert("urgent-low", "Urgent low", True, now))
        elif self.low_enabled and glucose is not None and glucose <= self.low_threshold:
            found.append(Alert("low", "Low glucose", False, now))
        if self.high_enabled and (marker is Marker.HIGH or (glucose is not None and glucose >= self.high_threshold)):
            found.append(Alert("high", "High glucose", False, now))
        return [alert for alert in found if self._due(alert)]

    def _due(self, alert: Alert) -> bool:
        last = self.last_raised.get(alert.name)
        if alert.name != "urgent-low" and last is not None and alert.at - last < REPEAT_AFTER:
            return False
        self.last_raised[alert.name] = alert.at
        return True
