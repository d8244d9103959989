"""The frozen dataclasses whose text is fingerprinted write the same text without dataclasses' guard."""

from __future__ import annotations

import dataclasses
import reprlib
from typing import Any

from qms.elements import Finding, Location, Severity
from qms.reprs import plain_reprs
from qms.sphinx.views.cells import Gap, ItemRef, Lines, Status, TableView, Text
from qms.sphinx.views.tables import MatrixView


def _module(name: str) -> dict[str, Any]:
    """A module's namespace with classes of every sort :func:`plain_reprs` meets."""

    @dataclasses.dataclass(frozen=True, slots=True)
    class Cell:
        id: str
        title: str = dataclasses.field(default="", repr=False)

    @dataclasses.dataclass(frozen=True)
    class Row:
        cells: tuple[Cell, ...]
        note: str = ""

    @dataclasses.dataclass
    class Mutable:  # may come to hold itself: keeps its guard
        parts: list[Any]

    @dataclasses.dataclass(frozen=True)
    class Own:
        value: int

        @reprlib.recursive_repr()
        def __repr__(self) -> str:  # the class's own: left alone
            return f"<own {self.value}>"

    for cls in (Cell, Row, Mutable, Own):
        cls.__module__ = name
        cls.__qualname__ = cls.__name__  # as a module's own class is named
    return {"__name__": name, "Cell": Cell, "Row": Row, "Mutable": Mutable, "Own": Own, "Finding": Finding}


def test_frozen_dataclasses_of_the_module_write_the_same_text_unguarded() -> None:
    namespace = _module("fingerprinted")
    Cell, Row, Mutable, Own = (namespace[name] for name in ("Cell", "Row", "Mutable", "Own"))
    row = Row((Cell("SWR-1", "hidden"), Cell("TST-'2'")), note='a "note"\n')
    before = repr(row), repr(Own(3)), repr(Finding("Q001", Severity.ERROR, "m", Location("f.yaml", 1, 2), "X"))
    assert plain_reprs(namespace) == [Cell, Row]
    assert (
        repr(row),
        repr(Own(3)),
        repr(Finding("Q001", Severity.ERROR, "m", Location("f.yaml", 1, 2), "X")),
    ) == before
    assert before[0] == """Row(cells=(Cell(id='SWR-1'), Cell(id="TST-'2'")), note='a "note"\\n')"""
    assert not hasattr(Cell.__repr__, "__wrapped__") and not hasattr(Row.__repr__, "__wrapped__")
    assert hasattr(Mutable.__repr__, "__wrapped__")  # not frozen: guarded as dataclasses made it
    looped = Mutable([])
    looped.parts.append(looped)
    assert repr(looped) == "Mutable(parts=[...])"
    assert plain_reprs(namespace) == []  # once is all: nothing left to unwrap


def test_the_views_a_page_is_fingerprinted_by_are_unguarded_and_write_what_dataclasses_wrote() -> None:
    rows = tuple(
        (ItemRef(f"SWR-{i}", f"Title {i}"), Gap(), Status(f"TST-{i}", "passed"), Lines((Text("x"),))) for i in range(3)
    )
    view = MatrixView(TableView(("a", "b", "c", "d"), rows, ""), (("need",),), (), (1, 3, 3))
    for cls in (ItemRef, Gap, Status, Lines, Text, TableView, MatrixView, Finding, Location):
        assert not hasattr(cls.__repr__, "__wrapped__"), cls
    assert repr(view) == _as_dataclasses_write(view)
    assert repr(view).startswith("MatrixView(table=TableView(columns=('a', 'b', 'c', 'd'), rows=((ItemRef(id='SWR-0'")


def _as_dataclasses_write(value: object) -> str:
    """The text ``dataclasses``' own ``__repr__`` gives, written here from the fields: the oracle."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        shown = (
            f"{field.name}={_as_dataclasses_write(getattr(value, field.name))}"
            for field in dataclasses.fields(value)
            if field.repr
        )
        return f"{type(value).__qualname__}({', '.join(shown)})"
    if isinstance(value, tuple):
        inner = [_as_dataclasses_write(part) for part in value]
        return f"({inner[0]},)" if len(inner) == 1 else f"({', '.join(inner)})"
    return repr(value)
