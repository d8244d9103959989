"""The safety monitor: the segregated final check of every insulin delivery command (SWR-029 to
SWR-036, IEC 62304 5.3.5).

It computes no doses. It re-checks each proposed command against hard limits with its own code
and its own copy of the limits and basal schedule, so a defect in the dosing algorithm cannot by
itself cause an over-delivery. By design it imports nothing of the dosing algorithm or the
insulin model (SWR-036; a test checks the imports): even its insulin-on-board is its own, a
numerical integral of the insulin activity curve.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aid_controller.commands import Command, CommandKind

TEMP_BASAL_DURATION = timedelta(minutes=30)
MAX_GLUCOSE_AGE = timedelta(minutes=12)
MAX_GLUCOSE_FUTURE = timedelta(minutes=5)
MIN_GAP_AFTER_BOLUS = timedelta(minutes=3)
PEAK_MINUTES = 75.0

_SEAL = object()


@dataclass(frozen=True, slots=True)
class MonitorLimits:
    """The monitor's own copy of the limits and basal schedule (SWR-035)."""

    pump_max_basal: float  # U/h
    app_max_basal: float  # U/h
    max_bolus: float  # U
    max_iob: float  # U
    duration_of_action: timedelta
    schedule: tuple[tuple[int, float], ...]  # (start minute of day, U/h), first at 0

    def checksum(self) -> int:
        """CRC-32 over a canonical rendering of every limit."""
        text = repr(
            (
                self.pump_max_basal,
                self.app_max_basal,
                self.max_bolus,
                self.max_iob,
                self.duration_of_action.total_seconds(),
                self.schedule,
            )
        )
        return zlib.crc32(text.encode())

    def scheduled_rate(self, minute_of_day: int) -> float:
        rate = self.schedule[0][1]
        for start, segment_rate in self.schedule:
            if start <= minute_of_day:
                rate = segment_rate
        return rate


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A delivery as the monitor counts it: confirmed and uncertain deliveries in full (SWR-031, SWR-042)."""

    time: datetime
    units: float


@dataclass(frozen=True, slots=True)
class MonitorState:
    now: datetime
    minute_of_day: int  # wall time in the therapy time zone, for the schedule
    glucose_time: datetime | None
    journal: Sequence[JournalEntry] = ()
    last_bolus_end: datetime | None = None
    uncertain_delivery: bool = False


class ApprovedCommand:
    """A command the monitor approved; the pump driver accepts nothing else (SWR-029)."""

    __slots__ = ("command",)

    def __init__(self, command: Command, seal: object) -> None:
        if seal is not _SEAL:
            raise PermissionError("only the safety monitor approves delivery commands")
        self.command = command


@dataclass(frozen=True, slots=True)
class Rejection:
    command: Command
    check: str


class SafetyMonitor:
    def __init__(self, limits: MonitorLimits) -> None:
        self._limits = limits
        self._checksum = limits.checksum()
        self._locked = False

    def verify(self, settings: MonitorLimits) -> bool:
        """Compare the copy with the settings store and its own checksum; on a difference, reject
        every automatic command until the settings are confirmed again (SWR-035)."""
        intact = self._limits.checksum() == self._checksum and self._limits == settings
        self._locked = self._locked or not intact
        return intact

    def confirm(self, settings: MonitorLimits) -> None:
        """The user re-confirmed the settings: take a fresh copy."""
        self._limits, self._checksum, self._locked = settings, settings.checksum(), False

    def check(self, command: Command, state: MonitorState) -> ApprovedCommand | Rejection:
        failed = self._failed_check(command, state)
        return Rejection(command, failed) if failed else ApprovedCommand(command, _SEAL)

    def insulin_on_board(self, state: MonitorState) -> float:
        return sum(
            entry.units * _active_share(state.now - entry.time, self._limits.duration_of_action)
            for entry in state.journal
        )

    def _failed_check(self, command: Command, state: MonitorState) -> str | None:
        limits = self._limits
        current = limits.scheduled_rate(state.minute_of_day)
        if command.automatic and self._locked:
            return "limits copy does not match the settings"
        if command.kind is CommandKind.TEMP_BASAL:
            if command.duration != TEMP_BASAL_DURATION:
                return "temporary basal duration is not 30 minutes"
            highest = max(rate for _, rate in limits.schedule)
            if command.amount > min(limits.pump_max_basal, limits.app_max_basal, 3 * highest, 4 * current):
                return "temporary basal rate above the maximum"
            added = (command.amount - current) * 0.5
        elif command.kind is CommandKind.BOLUS:
            if state.uncertain_delivery:
                return "a delivery is uncertain"
            if state.last_bolus_end is not None and state.now - state.last_bolus_end < MIN_GAP_AFTER_BOLUS:
                return "less than 3 minutes since the previous bolus"
            if command.automatic and command.amount > current * 0.5:
                return "automatic bolus above 30 minutes of scheduled basal"
            if not command.automatic and command.amount > limits.max_bolus:
                return "bolus above the maximum bolus"
            added = command.amount
        else:
            return None
        if command.automatic and added > 0:
            if not _fresh(state):
                return "glucose input too old or in the future"
            if self.insulin_on_board(state) + added > limits.max_iob + 1e-9:
                return "insulin on board would exceed the maximum"
        return None


def _fresh(state: MonitorState) -> bool:
    if state.glucose_time is None:
        return False
    age = state.now - state.glucose_time
    return -MAX_GLUCOSE_FUTURE <= age <= MAX_GLUCOSE_AGE


def _activity(minutes: float, duration: float) -> float:
    """Insulin activity per minute of a unit dose, exponential model peaking at 75 minutes."""
    tau = PEAK_MINUTES * (1 - PEAK_MINUTES / duration) / (1 - 2 * PEAK_MINUTES / duration)
    a = 2 * tau / duration
    scale = 1 / (1 - a + (1 + a) * math.exp(-duration / tau))
    return scale / tau**2 * minutes * (1 - minutes / duration) * math.exp(-minutes / tau)


def _active_share(elapsed: timedelta, duration_of_action: timedelta) -> float:
    """1 minus the activity integrated up to ``elapsed`` (Simpson's rule, 1-minute steps)."""
    duration = duration_of_action.total_seconds() / 60
    minutes = min(max(elapsed.total_seconds() / 60, 0.0), duration)
    steps = max(2, math.ceil(minutes) + math.ceil(minutes) % 2)
    width = minutes / steps
    total = _activity(0, duration) + _activity(minutes, duration)
    total += sum((4 if index % 2 else 2) * _activity(index * width, duration) for index in range(1, steps))
    return 1 - total * width / 3
