"""A reference model of the Example AID Controller's safety logic, in Python.

Not the product: a small, executable model of the safety limits that the software
requirements in ``traceability/software_requirements`` state (CGM freshness and
plausibility, temporary basal and insulin-on-board limits, automatic bolus sizing, the
independent safety monitor, pump command identity and uncertain delivery, glucose units,
UTC time and loop-not-running alerts). Its pytest suite (``tests/``) names the test items and
requirements each case verifies with ``@pytest.mark.verifies``; its JUnit XML is the example
device's verification evidence (``evidence: [reports/*.xml]`` in ``qms.yaml``).

Everything the model does not cover (Bluetooth, the phone's alarms, screens, the database)
stays unverified in the example's matrix rather than being claimed.
"""
