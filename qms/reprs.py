"""The ``repr`` of the frozen dataclasses whose text is fingerprinted, without the guard around it.

A page's views (a table of 1,600 rows, a matrix, an item's block) are fingerprinted by their
``repr`` (:func:`qms.fingerprints.repr_digest`). ``dataclasses`` wraps the ``__repr__`` it writes
in a guard against a value that holds itself (a set of the values being written, with the
thread's id, added to and taken from at every call): more than half the time of writing a long
table's text. A frozen dataclass of texts, numbers and tuples of such values cannot hold itself;
:func:`plain_reprs` gives such classes the method ``dataclasses`` wrote, unwrapped: the same
text, in less than half the time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: where the methods ``dataclasses`` writes say their code comes from (they are made by ``exec``)
_WRITTEN_BY_DATACLASSES = "<string>"


def plain_reprs(namespace: dict[str, Any]) -> list[type]:
    """Unwrap the ``__repr__`` of each frozen dataclass the module whose ``globals()`` are
    ``namespace`` defines, where ``dataclasses`` wrote it (a class's own ``__repr__`` is left
    alone); the classes changed."""
    module = namespace["__name__"]
    changed = []
    for value in list(namespace.values()):
        if not (isinstance(value, type) and value.__module__ == module and dataclasses.is_dataclass(value)):
            continue
        if not value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            continue
        unguarded = getattr(value.__dict__.get("__repr__"), "__wrapped__", None)
        code = getattr(unguarded, "__code__", None)
        if code is not None and code.co_filename == _WRITTEN_BY_DATACLASSES:
            value.__repr__ = unguarded  # type: ignore[method-assign,assignment]
            changed.append(value)
    return changed
