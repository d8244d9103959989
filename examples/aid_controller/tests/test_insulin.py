"""Insulin on board: the closed form, checked against the monitor's own numerical integral."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aid_controller.commands import Command, CommandKind
from aid_controller.insulin import Delivery, insulin_on_board, remaining_fraction
from aid_controller.monitor import JournalEntry, MonitorLimits, MonitorState, SafetyMonitor
from aid_controller.pump import DeliveryJournal, JournalRecord, Status

from .conftest import NOW

MINUTE = timedelta(minutes=1)


@pytest.mark.verifies("TST-U022", "SU-08")
@pytest.mark.parametrize("hours", [5, 6, 8])
def test_insulin_on_board_of_a_bolus(hours: int) -> None:
    duration = timedelta(hours=hours)
    monitor = SafetyMonitor(MonitorLimits(3.0, 3.0, 10.0, 10.0, duration, ((0, 1.0),)))
    for elapsed in (0, 75, hours * 60 // 2, hours * 60):
        closed = insulin_on_board([Delivery(NOW, 2.0)], NOW + elapsed * MINUTE, duration)
        numeric = monitor.insulin_on_board(MonitorState(NOW + elapsed * MINUTE, 0, None, (JournalEntry(NOW, 2.0),)))
        assert closed == pytest.approx(numeric, abs=0.001)
    assert insulin_on_board([Delivery(NOW, 2.0)], NOW, duration) == 2.0
    assert insulin_on_board([Delivery(NOW, 2.0)], NOW + duration, duration) == 0.0
    with pytest.raises(ValueError):
        remaining_fraction(MINUTE, timedelta(hours=4))  # below the 5-hour minimum


@pytest.mark.verifies("TST-U022", "SU-08")
def test_what_counts_toward_insulin_on_board() -> None:
    journal = DeliveryJournal()
    low_temp = Command(CommandKind.TEMP_BASAL, 0.0, 30 * MINUTE, scheduled_rate=1.2)
    for command_id, command, status in (
        (1, low_temp, Status.CONFIRMED),
        (2, Command(CommandKind.BOLUS, 3.0), Status.SENT),  # commanded, not confirmed
        (3, Command(CommandKind.BOLUS, 1.0), Status.UNCERTAIN),
    ):
        journal.commit(JournalRecord(command_id, command, NOW, status))
    deliveries = journal.deliveries()
    assert sum(d.units for d in deliveries if d.units < 0) == pytest.approx(-0.6)  # 1.2 U/h below schedule for 0.5 h
    assert [d.units for d in deliveries if d.units > 0] == [1.0]  # the uncertain bolus in full; the sent one not at all
    iob = insulin_on_board(deliveries, NOW + 30 * MINUTE, timedelta(hours=5))
    assert -0.6 < iob - insulin_on_board([Delivery(NOW, 1.0)], NOW + 30 * MINUTE, timedelta(hours=5)) < 0
    journal.records[3].delivered = 0.4
    journal.advance(3, Status.CORRECTED, NOW + MINUTE)
    assert [d.units for d in journal.deliveries() if d.units > 0] == [0.4]
