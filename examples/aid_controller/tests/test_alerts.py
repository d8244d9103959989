"""Alerts: loop not running, urgent low, low and high.

This whole module is TST-U032's evidence (`evidence:` in traceability/verification/unit.yaml).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from aid_controller.alerts import AlertSettingRefused, GlucoseAlerts, loop_alerts_due, loop_not_running_alarms
from aid_controller.cgm import Marker, Reading
from aid_controller.units import Glucose

from .conftest import NOW

MINUTE = timedelta(minutes=1)


@pytest.mark.verifies("SU-14")
def test_loop_not_running_alerts() -> None:
    raised = {
        minutes: [(alert.name, alert.critical) for alert in loop_alerts_due(NOW, NOW + minutes * MINUTE)]
        for minutes in (19 + 59 / 60, 20, 40, 60, 120)
    }
    assert raised[19 + 59 / 60] == []
    assert raised[20] == [("loop-20", False)]
    assert raised[40] == [("loop-20", False), ("loop-40", False)]
    assert raised[60][-1] == ("loop-60", True)
    assert raised[120] == [("loop-20", False), ("loop-40", False), ("loop-60", True), ("loop-120", True)]
    cycle_end = NOW + 121 * MINUTE  # a cycle completes: the alarms move with it
    assert loop_alerts_due(cycle_end, cycle_end + MINUTE) == ()
    assert [alarm.at - cycle_end for alarm in loop_not_running_alarms(cycle_end)] == [
        20 * MINUTE,
        40 * MINUTE,
        60 * MINUTE,
        120 * MINUTE,
    ]


@pytest.mark.verifies("SU-15")
def test_glucose_alert_thresholds() -> None:
    def names(alerts: GlucoseAlerts, value: int | Marker, minutes: int = 0) -> list[str]:
        time = NOW + minutes * MINUTE
        reading = Reading(time, marker=value) if isinstance(value, Marker) else Reading(time, Glucose.mgdl(value))
        return [alert.name for alert in alerts.on_reading(reading, time)]

    assert names(GlucoseAlerts(), 55) == ["low"]
    assert names(GlucoseAlerts(), 54) == ["urgent-low"]
    assert names(GlucoseAlerts(), Marker.LOW) == ["urgent-low"]
    with pytest.raises(AlertSettingRefused):
        GlucoseAlerts().disable("urgent-low")
    for low in (60, 70, 100):
        assert names(GlucoseAlerts(low_threshold=Glucose.mgdl(low)), low) == ["low"]
        assert names(GlucoseAlerts(low_threshold=Glucose.mgdl(low)), low + 1) == []
    for high in (120, 250, 400):
        assert names(GlucoseAlerts(high_threshold=Glucose.mgdl(high)), high) == ["high"]
        assert names(GlucoseAlerts(high_threshold=Glucose.mgdl(high)), high - 1) == []
    for refused in (dict(low_threshold=Glucose.mgdl(59)), dict(high_threshold=Glucose.mgdl(401))):
        with pytest.raises(AlertSettingRefused):
            GlucoseAlerts(**refused)

    repeating = GlucoseAlerts()
    assert [names(repeating, 65, minutes) for minutes in (0, 5, 29, 30)] == [["low"], [], [], ["low"]]
    urgent = GlucoseAlerts()
    assert [names(urgent, 50, minutes) for minutes in (0, 5)] == [["urgent-low"], ["urgent-low"]]
