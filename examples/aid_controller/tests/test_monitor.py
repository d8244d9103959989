"""The safety monitor: independent limits, approval of commands, integrity of its copy."""

from __future__ import annotations

import ast
import dataclasses
import struct
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aid_controller import monitor as monitor_module
from aid_controller.commands import Command, CommandKind
from aid_controller.monitor import ApprovedCommand, JournalEntry, MonitorLimits, MonitorState, Rejection, SafetyMonitor
from aid_controller.pump import DeliveryJournal, PumpDriver, SimulatedPump

from .conftest import NOW

MINUTE = timedelta(minutes=1)
LIMITS = MonitorLimits(
    pump_max_basal=3.0,
    app_max_basal=2.5,
    max_bolus=8.0,
    max_iob=5.0,
    duration_of_action=timedelta(hours=6),
    schedule=((0, 0.6), (360, 1.0), (1080, 0.8)),
)


def _temp(rate: float, duration: timedelta = 30 * MINUTE) -> Command:
    return Command(CommandKind.TEMP_BASAL, rate, duration, scheduled_rate=1.0)


@pytest.mark.verifies("SWR-036", "SU-09")
def test_monitor_depends_on_no_dosing_module() -> None:
    tree = ast.parse(Path(monitor_module.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported & {"aid_controller.dosing", "aid_controller.insulin", "aid_controller.pump"} == set()
    assert {name for name in imported if name and name.startswith("aid_controller")} == {"aid_controller.commands"}


@pytest.mark.verifies("SWR-029", "SU-09")
def test_only_approved_delivery_commands_reach_the_pump() -> None:
    pump = SimulatedPump(scheduled_rate=1.0)
    driver = PumpDriver(pump, DeliveryJournal())
    with pytest.raises(PermissionError):
        driver.send(_temp(1.5), NOW)  # a bare command
    with pytest.raises(PermissionError):
        ApprovedCommand(_temp(1.5), seal=object())  # a forged approval
    driver.send(Command(CommandKind.CANCEL_TEMP_BASAL), NOW)  # cancelling needs no approval
    approved = SafetyMonitor(LIMITS).check(_temp(1.5), MonitorState(NOW, 600, glucose_time=NOW))
    assert isinstance(approved, ApprovedCommand)
    driver.send(approved, NOW)
    assert [event.command.kind for event in pump.history()] == [CommandKind.CANCEL_TEMP_BASAL, CommandKind.TEMP_BASAL]


def _oracle(command: Command, state: MonitorState, iob: float) -> bool:
    """Whether a command is within every limit, recomputed from the requirements' text."""
    current = 0.6 if state.minute_of_day < 360 else 1.0 if state.minute_of_day < 1080 else 0.8
    fresh = state.glucose_time is not None and -5 * MINUTE <= state.now - state.glucose_time <= 12 * MINUTE
    if command.kind is CommandKind.TEMP_BASAL:
        added = (command.amount - current) * 0.5
        within = command.duration == 30 * MINUTE and command.amount <= min(3.0, 2.5, 3 * 1.0, 4 * current)
    else:
        added = command.amount
        gap_ok = state.last_bolus_end is None or state.now - state.last_bolus_end >= 3 * MINUTE
        size_ok = command.amount <= current * 0.5 if command.automatic else command.amount <= 8.0
        within = gap_ok and size_ok and not state.uncertain_delivery
    if command.automatic and added > 0:
        within = within and fresh and iob + added <= 5.0 + 1e-9
    return within


@pytest.mark.verifies("SWR-030", "SWR-031", "SWR-032", "SWR-033", "SU-09")
@settings(max_examples=500, deadline=None)
@given(
    kind=st.sampled_from([CommandKind.TEMP_BASAL, CommandKind.BOLUS]),
    amount=st.floats(0, 12, allow_nan=False),
    duration=st.sampled_from([29 * MINUTE, 30 * MINUTE, 31 * MINUTE, 120 * MINUTE]),
    automatic=st.booleans(),
    minute_of_day=st.integers(0, 1439),
    glucose_age=st.one_of(st.none(), st.integers(-400, 900).map(lambda seconds: timedelta(seconds=seconds))),
    doses=st.lists(st.tuples(st.integers(0, 480), st.floats(0, 4)), max_size=4),
    bolus_gap=st.one_of(st.none(), st.integers(0, 600).map(lambda seconds: timedelta(seconds=seconds))),
    uncertain=st.booleans(),
)
def test_monitor_approves_exactly_the_commands_within_all_limits(
    kind: CommandKind,
    amount: float,
    duration: timedelta,
    automatic: bool,
    minute_of_day: int,
    glucose_age: timedelta | None,
    doses: list[tuple[int, float]],
    bolus_gap: timedelta | None,
    uncertain: bool,
) -> None:
    command = Command(kind, amount, duration if kind is CommandKind.TEMP_BASAL else timedelta(0), automatic)
    state = MonitorState(
        now=NOW,
        minute_of_day=minute_of_day,
        glucose_time=None if glucose_age is None else NOW - glucose_age,
        journal=tuple(JournalEntry(NOW - minutes * MINUTE, units) for minutes, units in doses),
        last_bolus_end=None if bolus_gap is None else NOW - bolus_gap,
        uncertain_delivery=uncertain,
    )
    monitor = SafetyMonitor(LIMITS)
    verdict = monitor.check(command, state)
    assert isinstance(verdict, ApprovedCommand) is _oracle(command, state, monitor.insulin_on_board(state))


def _flip_bit(value: float) -> float:
    (bits,) = struct.unpack("<Q", struct.pack("<d", value))
    (flipped,) = struct.unpack("<d", struct.pack("<Q", bits ^ 1))
    return flipped


@pytest.mark.verifies("TST-U029", "SU-10")
@pytest.mark.parametrize("limit", ["pump_max_basal", "app_max_basal", "max_bolus", "max_iob"])
def test_integrity_of_the_limits_copy(limit: str) -> None:
    state = MonitorState(NOW, 600, glucose_time=NOW)
    corrupted = SafetyMonitor(LIMITS)
    object.__setattr__(corrupted._limits, limit, _flip_bit(getattr(LIMITS, limit)))  # memory corruption
    assert not corrupted.verify(LIMITS)
    assert isinstance(corrupted.check(_temp(1.2), state), Rejection)

    changed = SafetyMonitor(LIMITS)
    settings_store = dataclasses.replace(LIMITS, **{limit: getattr(LIMITS, limit) + 0.05})
    assert not changed.verify(settings_store)
    assert changed.check(_temp(1.2), state) == Rejection(_temp(1.2), "limits copy does not match the settings")
    changed.confirm(settings_store)
    assert changed.verify(settings_store)
    assert isinstance(changed.check(_temp(1.2), state), ApprovedCommand)
