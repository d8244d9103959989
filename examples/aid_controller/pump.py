"""The pump driver, its write-ahead delivery journal, and a simulated pump with fault injection.

Modelled: unique, persistent command identifiers that make re-sends idempotent (SWR-038); the
journal record committed before each transmission, statuses moving only forward (SWR-080);
no automatic bolus retry (SWR-039); read-back with at most two re-sends of a temporary basal or
cancel (SWR-040); the uncertain-delivery state (SWR-041), counted in full until the pump history
resolves it (SWR-042); and only monitor-approved delivery commands reach the pump (SWR-029).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aid_controller.clock import utc
from aid_controller.commands import Command, CommandKind
from aid_controller.insulin import Delivery
from aid_controller.monitor import ApprovedCommand

ID_SPACE = 2**32
MAX_RESENDS = 2


class Status(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"
    UNCERTAIN = "uncertain"
    NOT_DELIVERED = "not delivered"
    CORRECTED = "corrected"


#: Where each status may go next: forward only (SWR-080).
NEXT: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.SENT, Status.NOT_DELIVERED}),
    Status.SENT: frozenset({Status.ACKNOWLEDGED, Status.UNCERTAIN, Status.NOT_DELIVERED}),
    Status.ACKNOWLEDGED: frozenset({Status.CONFIRMED, Status.UNCERTAIN}),
    Status.UNCERTAIN: frozenset({Status.CONFIRMED, Status.NOT_DELIVERED, Status.CORRECTED}),
    Status.CONFIRMED: frozenset({Status.CORRECTED}),
    Status.NOT_DELIVERED: frozenset(),
    Status.CORRECTED: frozenset(),
}


class JournalWriteFailed(RuntimeError):
    """The journal could not commit a record; the command must not be sent."""


class BackwardStatus(ValueError):
    """A journal status change that would go backward."""


@dataclass
class JournalRecord:
    command_id: int
    command: Command
    created: datetime
    status: Status = Status.PENDING
    changes: list[tuple[Status, datetime]] = field(default_factory=list)
    delivered: float | None = None  # U, as the pump history reports it


@dataclass
class DeliveryJournal:
    """The app's write-ahead record of commands, kept in the data store (survives restarts)."""

    records: dict[int, JournalRecord] = field(default_factory=dict)
    fail_next_commit: bool = False  # fault injection

    def commit(self, record: JournalRecord) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise JournalWriteFailed(f"journal commit of command {record.command_id} failed")
        self.records[record.command_id] = record

    def advance(self, command_id: int, status: Status, now: datetime) -> None:
        record = self.records[command_id]
        if status not in NEXT[record.status]:
            raise BackwardStatus(f"command {command_id}: {record.status.value} -> {status.value}")
        record.status = status
        record.changes.append((status, utc(now)))

    def last_id(self) -> int:
        return max(self.records, default=0)

    def deliveries(self) -> list[Delivery]:
        """What counts toward insulin on board: confirmed and corrected deliveries by what the
        pump delivered, uncertain boluses by the full commanded amount (SWR-023, SWR-042)."""
        counted = []
        for record in self.records.values():
            command = record.command
            if record.status in (Status.CONFIRMED, Status.CORRECTED, Status.UNCERTAIN) and command.delivers:
                counted.extend(_deliveries(record))
        return counted


def _deliveries(record: JournalRecord) -> list[Delivery]:
    command = record.command
    if command.kind is CommandKind.BOLUS:
        units = command.amount if record.delivered is None else record.delivered
        return [Delivery(record.created, units)]
    segments = int(command.duration / timedelta(minutes=5))
    net_per_segment = (command.amount - command.scheduled_rate) * 5 / 60
    return [Delivery(record.created + index * timedelta(minutes=5), net_per_segment) for index in range(segments)]


@dataclass(frozen=True, slots=True)
class PumpEvent:
    time: datetime
    command_id: int
    command: Command
    delivered: float


@dataclass
class SimulatedPump:
    """An ACE pump as the driver sees it, with faults to inject: it rejects a command id it has
    already executed (idempotent re-send), and can lose acknowledgements or deliver less."""

    scheduled_rate: float  # U/h
    events: list[PumpEvent] = field(default_factory=list)
    received: list[int] = field(default_factory=list)  # every transmission's command id
    lose_acks: int = 0  # the next N acknowledgements are lost (the command still executes)
    ignore_next: int = 0  # the next N transmissions never arrive
    deliver_fraction: float = 1.0  # an interrupted bolus delivers less

    def transmit(self, command_id: int, command: Command, now: datetime) -> bool:
        """Send one command; True if the acknowledgement arrives."""
        self.received.append(command_id)
        if self.ignore_next:
            self.ignore_next -= 1
            return False
        if all(event.command_id != command_id for event in self.events):
            amount = command.amount * self.deliver_fraction if command.kind is CommandKind.BOLUS else command.amount
            self.events.append(PumpEvent(utc(now), command_id, command, amount))
        if self.lose_acks:
            self.lose_acks -= 1
            return False
        return True

    def history(self) -> list[PumpEvent]:
        return list(self.events)

    def basal_rate_at(self, time: datetime) -> float:
        """The rate the pump runs at ``time``: the newest temporary basal still running, or the schedule."""
        rate = self.scheduled_rate
        for event in self.events:
            if event.time > time:
                break
            if event.command.kind is CommandKind.CANCEL_TEMP_BASAL:
                rate = self.scheduled_rate
            elif event.command.kind is CommandKind.TEMP_BASAL:
                rate = event.command.amount if time < event.time + event.command.duration else self.scheduled_rate
        return rate


class PumpDriver:
    """Sends commands with journal first, unique ids, and no automatic bolus retry."""

    def __init__(self, pump: SimulatedPump, journal: DeliveryJournal) -> None:
        self.pump = pump
        self.journal = journal
        self._last_id = journal.last_id()  # identifiers survive a restart

    def _next_id(self) -> int:
        self._last_id = self._last_id % (ID_SPACE - 1) + 1  # 1 .. 2^32-1, then 1 again
        return self._last_id

    def send(self, command: ApprovedCommand | Command, now: datetime) -> JournalRecord:
        if isinstance(command, ApprovedCommand):
            content = command.command
        elif isinstance(command, Command) and not command.delivers:
            content = command
        else:
            raise PermissionError("delivery commands need the safety monitor's approval")
        record = JournalRecord(self._next_id(), content, utc(now))
        self.journal.commit(record)  # raises: nothing is transmitted
        self.journal.advance(record.command_id, Status.SENT, now)
        acknowledged = self.pump.transmit(record.command_id, content, now)
        if not acknowledged and content.kind is not CommandKind.BOLUS:
            for _ in range(MAX_RESENDS):  # same id: the pump rejects a duplicate
                acknowledged = self.pump.transmit(record.command_id, content, now)
                if acknowledged:
                    break
        if acknowledged:
            self.journal.advance(record.command_id, Status.ACKNOWLEDGED, now)
            self.journal.advance(record.command_id, Status.CONFIRMED, now)
        else:
            self.journal.advance(record.command_id, Status.UNCERTAIN, now)
        return record

    @property
    def uncertain_delivery(self) -> bool:
        """A bolus is uncertain: no bolus and no temporary basal above schedule until resolved (SWR-041)."""
        return any(
            record.status is Status.UNCERTAIN and record.command.kind is CommandKind.BOLUS
            for record in self.journal.records.values()
        )

    def reconcile(self, now: datetime) -> None:
        """Resolve uncertain commands from the pump history (SWR-041, SWR-042)."""
        delivered = {event.command_id: event.delivered for event in self.pump.history()}
        for record in self.journal.records.values():
            if record.status is not Status.UNCERTAIN:
                continue
            if record.command_id not in delivered:
                self.journal.advance(record.command_id, Status.NOT_DELIVERED, now)
            elif delivered[record.command_id] < record.command.amount:
                record.delivered = delivered[record.command_id]
                self.journal.advance(record.command_id, Status.CORRECTED, now)
            else:
                record.delivered = delivered[record.command_id]
                self.journal.advance(record.command_id, Status.CONFIRMED, now)
