"""Pump commands: identity, journal order, no automatic bolus retry, uncertain delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aid_controller.commands import Command, CommandKind
from aid_controller.monitor import ApprovedCommand, JournalEntry, MonitorLimits, MonitorState, Rejection, SafetyMonitor
from aid_controller.pump import (
    ID_SPACE,
    NEXT,
    BackwardStatus,
    DeliveryJournal,
    JournalRecord,
    JournalWriteFailed,
    PumpDriver,
    SimulatedPump,
    Status,
)

from .conftest import NOW

MINUTE = timedelta(minutes=1)
LIMITS = MonitorLimits(
    pump_max_basal=3.0,
    app_max_basal=3.0,
    max_bolus=10.0,
    max_iob=8.0,
    duration_of_action=timedelta(hours=5),
    schedule=((0, 1.0),),
)


def _approve(command: Command, state: MonitorState | None = None) -> ApprovedCommand:
    approved = SafetyMonitor(LIMITS).check(command, state or MonitorState(NOW, 600, glucose_time=NOW))
    assert isinstance(approved, ApprovedCommand), approved
    return approved


def _bolus(units: float, automatic: bool = False) -> Command:
    return Command(CommandKind.BOLUS, units, automatic=automatic)


def _temp(rate: float) -> Command:
    return Command(CommandKind.TEMP_BASAL, rate, 30 * MINUTE, scheduled_rate=1.0)


@pytest.mark.verifies("TST-U030", "SU-11")
def test_command_identifiers_and_journal_order() -> None:
    journal = DeliveryJournal()
    pump = SimulatedPump(scheduled_rate=1.0)
    driver = PumpDriver(pump, journal)
    ids = []
    for index in range(1000):
        if index == 500:
            driver = PumpDriver(pump, journal)  # app restart: identifiers continue from the journal
        if index % 10 == 0:
            pump.ignore_next = 1  # lost on the first try: re-sent with the same identifier
        record = driver.send(_approve(_temp(1.5)), NOW + index * 5 * MINUTE)
        ids.append(record.command_id)
        assert record.changes[0][0] is Status.SENT  # committed as pending before the transmission
    assert ids == list(range(1, 1001))
    assert len(pump.received) == 1100 and len(pump.events) == 1000  # re-sends are idempotent
    assert sorted(set(pump.received)) == ids

    journal.fail_next_commit = True
    with pytest.raises(JournalWriteFailed):
        driver.send(_approve(_temp(1.5)), NOW)
    assert len(pump.received) == 1100  # nothing transmitted without a journal record

    with pytest.raises(BackwardStatus):
        journal.advance(1, Status.SENT, NOW)  # statuses move only forward
    assert all(Status.PENDING not in NEXT[status] for status in Status)

    wrapping = DeliveryJournal()  # a journal that has reached the end of the identifier space
    wrapping.commit(JournalRecord(ID_SPACE - 2, _temp(1.5), NOW, Status.CONFIRMED))
    wrap_driver = PumpDriver(SimulatedPump(scheduled_rate=1.0), wrapping)
    assert [wrap_driver.send(_approve(_temp(1.5)), NOW).command_id for _ in range(3)] == [ID_SPACE - 1, 1, 2]


@pytest.mark.verifies("SWR-039", "SWR-041", "SWR-042", "SU-12", "SU-13")
def test_lost_bolus_acknowledgement_is_never_retried_and_blocks_dosing() -> None:
    journal = DeliveryJournal()
    pump = SimulatedPump(scheduled_rate=1.0, lose_acks=1)
    driver = PumpDriver(pump, journal)
    record = driver.send(_approve(_bolus(2.0)), NOW)
    assert pump.received == [record.command_id]  # transmitted once, never again
    assert record.status is Status.UNCERTAIN and driver.uncertain_delivery
    assert sum(delivery.units for delivery in journal.deliveries()) == 2.0  # counted in full meanwhile

    blocked = MonitorState(
        NOW + 5 * MINUTE, 600, glucose_time=NOW + 5 * MINUTE, uncertain_delivery=driver.uncertain_delivery
    )
    assert SafetyMonitor(LIMITS).check(_bolus(1.0), blocked) == Rejection(_bolus(1.0), "a delivery is uncertain")

    driver.reconcile(NOW + 6 * MINUTE)
    assert record.status is Status.CONFIRMED and not driver.uncertain_delivery


@pytest.mark.verifies("SWR-042", "SU-13")
def test_uncertain_bolus_corrected_to_the_pump_amount() -> None:
    journal = DeliveryJournal()
    pump = SimulatedPump(scheduled_rate=1.0, lose_acks=1, deliver_fraction=0.25)
    driver = PumpDriver(pump, journal)
    record = driver.send(_approve(_bolus(2.0)), NOW)
    assert [delivery.units for delivery in journal.deliveries()] == [2.0]
    driver.reconcile(NOW + MINUTE)
    assert record.status is Status.CORRECTED and [delivery.units for delivery in journal.deliveries()] == [0.5]

    lost = DeliveryJournal()
    silent = PumpDriver(SimulatedPump(scheduled_rate=1.0, ignore_next=1), lost)
    never = silent.send(_approve(_bolus(1.0)), NOW)
    silent.reconcile(NOW + MINUTE)
    assert never.status is Status.NOT_DELIVERED and lost.deliveries() == []


@pytest.mark.verifies("SWR-040", "SU-12")
def test_temporary_basal_resent_at_most_twice_with_the_same_identifier() -> None:
    pump = SimulatedPump(scheduled_rate=1.0, ignore_next=2)
    record = PumpDriver(pump, DeliveryJournal()).send(_approve(_temp(1.5)), NOW)
    assert pump.received == [record.command_id] * 3 and record.status is Status.CONFIRMED

    unreachable = SimulatedPump(scheduled_rate=1.0, ignore_next=5)
    gone = PumpDriver(unreachable, DeliveryJournal()).send(_approve(_temp(1.5)), NOW)
    assert unreachable.received == [gone.command_id] * 3 and gone.status is Status.UNCERTAIN


@pytest.mark.verifies("SWR-032", "SU-09")
def test_monitor_spaces_boluses_three_minutes_apart() -> None:
    state = MonitorState(NOW, 600, glucose_time=NOW, journal=(JournalEntry(NOW - MINUTE, 1.0),))
    too_soon = MonitorState(**{**_fields(state), "last_bolus_end": NOW - 3 * MINUTE + timedelta(seconds=1)})
    enough = MonitorState(**{**_fields(state), "last_bolus_end": NOW - 3 * MINUTE})
    assert isinstance(SafetyMonitor(LIMITS).check(_bolus(1.0), too_soon), Rejection)
    assert isinstance(SafetyMonitor(LIMITS).check(_bolus(1.0), enough), ApprovedCommand)


def _fields(state: MonitorState) -> dict[str, object]:
    return {name: getattr(state, name) for name in MonitorState.__slots__}
