"""UTC instants everywhere (SWR-069): local time exists only for display and schedule lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class NotUtc(ValueError):
    """A time without a zone, or in a zone other than UTC, where a UTC instant is needed."""


def utc(instant: datetime) -> datetime:
    """``instant`` unchanged if it is an aware UTC instant; refuses local or naive times."""
    if instant.tzinfo is None or instant.utcoffset() != timedelta(0):
        raise NotUtc(f"{instant.isoformat()} is not a UTC instant")
    return instant.astimezone(UTC)


def reading_time(session_start: datetime, elapsed_seconds: float) -> datetime:
    """A sensor reading's time: the UTC session start plus the sensor's elapsed time (SWR-002),
    to the millisecond. The phone's time zone plays no part."""
    return utc(session_start) + timedelta(milliseconds=round(elapsed_seconds * 1000))
