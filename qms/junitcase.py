"""A JUnit ``<testcase>`` as junitparser reads it: its outcome and duration.

Kept apart from :mod:`qms.evidence` so that junitparser (which imports lxml where it is installed,
some 20 ms of every command) is imported when a result file is read, not with every command: a
project read through its parse cache reads none on most runs.
"""

from __future__ import annotations

import math

from junitparser import Attr, Error, Failure, Skipped
from junitparser.xunit2 import TestCase

from qms.evidence import Outcome, first_line


class JUnitCase(TestCase):
    """A ``<testcase>``, with the ``status`` attribute some runners write (CTest: run, fail,
    notrun, disabled; GoogleTest: run, notrun)."""

    status = Attr()

    def __init__(self) -> None:
        """Only ever made by junitparser's ``fromelem``, which sets the element: skip building
        a throw-away one (a large share of the reading time for big result files)."""


#: ``status`` values that mean the case did not run, when it carries no failure or error.
_NOT_RUN_STATUSES = frozenset({"disabled", "notrun", "skipped", "skip"})
#: GoogleTest's ``result`` values for a case that did not run: GTEST_SKIP (from 1.10 with no
#: ``<skipped>`` element) and a DISABLED_ test.
_NOT_RUN_RESULTS = frozenset({"skipped", "suppressed"})


#: the elements junitparser reads as a case's final result
_RESULT_TAGS = frozenset({"failure", "error", "skipped"})


def outcome_of(case: JUnitCase) -> tuple[Outcome, str]:
    """A case's outcome from its final results (reruns that later passed count as passed)."""
    # most cases passed and hold no result element: junitparser's wrappers are not needed then
    results = case.result if any(child.tag in _RESULT_TAGS for child in case._elem) else ()
    for kind, found in ((Failure, Outcome.FAILED), (Error, Outcome.ERROR), (Skipped, Outcome.SKIPPED)):
        for result in results:
            if isinstance(result, kind):
                message = first_line(result.message) or first_line(result.text)
                if not message and found is not Outcome.SKIPPED:
                    message = first_line(case.system_out)
                return found, message
    if (case.status or "").casefold() in _NOT_RUN_STATUSES:
        return Outcome.SKIPPED, case.status or ""
    written = (case._elem.get("result") or "").casefold()
    if written in _NOT_RUN_RESULTS:
        return Outcome.SKIPPED, "" if written == "skipped" else written
    return Outcome.PASSED, ""


def seconds_of(case: JUnitCase) -> float | None:
    """The case's duration, where it is a finite number of seconds."""
    try:
        taken = case.time
    except ValueError:  # written, but not a number
        return None
    return taken if isinstance(taken, float) and math.isfinite(taken) else None
