"""Insulin on board from an exponential insulin action curve (SWR-023), closed form."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aid_controller.clock import utc

#: Time of peak insulin activity of the supported rapid-acting insulins.
PEAK = timedelta(minutes=75)
#: Allowed durations of insulin action (SWR-058).
DURATION_RANGE = (timedelta(hours=5), timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Delivery:
    """Insulin that counts toward insulin on board: a bolus, or a temporary basal's difference
    from the scheduled rate over a 5-minute segment (negative below the schedule)."""

    time: datetime  # UTC
    units: float


def remaining_fraction(elapsed: timedelta, duration: timedelta, peak: timedelta = PEAK) -> float:
    """The share of a dose still active after ``elapsed``: 1 at delivery, 0 at the end of action."""
    if not DURATION_RANGE[0] <= duration <= DURATION_RANGE[1]:
        raise ValueError(f"duration of insulin action {duration} is outside 5-8 h")
    t, td, tp = elapsed / timedelta(minutes=1), duration / timedelta(minutes=1), peak / timedelta(minutes=1)
    if t <= 0:
        return 1.0
    if t >= td:
        return 0.0
    tau = tp * (1 - tp / td) / (1 - 2 * tp / td)
    a = 2 * tau / td
    s = 1 / (1 - a + (1 + a) * math.exp(-td / tau))
    return 1 - s * (1 - a) * ((t * t / (tau * td * (1 - a)) - t / tau - 1) * math.exp(-t / tau) + 1)


def insulin_on_board(deliveries: Iterable[Delivery], now: datetime, duration: timedelta) -> float:
    """The insulin still active at ``now`` from ``deliveries`` (future deliveries count in full)."""
    now = utc(now)
    return sum(delivery.units * remaining_fraction(now - delivery.time, duration) for delivery in deliveries)
