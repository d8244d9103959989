"""Pump commands as immutable values: what the dosing algorithm proposes and the monitor checks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta


class CommandKind(enum.Enum):
    TEMP_BASAL = "temporary basal"
    CANCEL_TEMP_BASAL = "cancel temporary basal"
    BOLUS = "bolus"


@dataclass(frozen=True, slots=True)
class Command:
    kind: CommandKind
    amount: float = 0.0  # U/h for a temporary basal, U for a bolus
    duration: timedelta = timedelta(0)
    automatic: bool = True
    scheduled_rate: float = 0.0  # U/h in effect when a temporary basal was proposed

    @property
    def delivers(self) -> bool:
        """Commands that deliver insulin need the safety monitor's approval (SWR-029)."""
        return self.kind is not CommandKind.CANCEL_TEMP_BASAL
