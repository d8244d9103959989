"""Test result ids: one normalisation for JUnit results and for the ``evidence:`` entries naming them.

A result and an entry are compared only after both went through :func:`normalise`, so any form a
runner writes (pytest's dotted classnames, nextest's ``crate::binary``, a Jest title ending in a
space) can be named by an entry written the way the runner wrote it.
"""

from __future__ import annotations

import string

#: characters that name nothing on their own: an id made only of these is blank
_SEPARATORS = string.whitespace + ".:/"


def normalise(text: str) -> str:
    """The comparable form of a test id.

    The part before the first ``[`` is split at ``::`` and each piece is stripped; a first piece
    ending in ``.py`` (a pytest node id's file) loses ``.py`` and turns ``/`` into ``.``, exactly
    as pytest's ``--junitxml`` builds its classnames; the non-empty pieces are joined with ``.``.
    Anything from the first ``[`` on (parameters) is kept as written; the result is stripped.
    """
    head, bracket, parameters = text.partition("[")
    names = [name.strip() for name in head.split("::")]
    if names[0].endswith(".py"):
        names[0] = names[0][: -len(".py")].replace("/", ".")
    return (".".join(name for name in names if name) + bracket + parameters).strip()


def result_key(classname: str, name: str) -> str:
    """The id of a result: ``classname.name``, or ``name`` when the classname is empty or equal,
    in the form of :func:`normalise` (so nextest's ``crate::binary`` reads ``crate.binary``)."""
    if not classname.strip() or classname == name:
        return normalise(name)
    return normalise(f"{classname}::{name}")


def evidence_key(entry: str) -> str:
    """The result id an ``evidence:`` entry means, in the form of :func:`result_key`.

    Accepted: ``classname.name``; ``classname::name``; and pytest node ids
    (``tests/test_dosing.py::TestLimits::test_max[pump]``).
    """
    return normalise(entry)


def is_blank(key: str) -> bool:
    """Whether a normalised id names nothing: empty, or only whitespace, dots, colons and slashes."""
    return not key.strip(_SEPARATORS)


def entry_problem(entry: str) -> str | None:
    """What is wrong with an ``evidence:`` entry, or None: one that is blank once normalised
    (``"::"``, ``".py"``, ``"  "``) would name no result, or every result of an empty classname."""
    if not is_blank(evidence_key(entry)):
        return None
    return (
        f"evidence entry '{entry}' names no test result (nothing is left of it but separators): write a "
        "result id such as tests/test_dosing.py::test_max_basal or org.example.DoseLimitsTest.maxIob"
    )
