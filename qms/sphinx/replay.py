"""Warnings about pages, given again by every build until their cause is fixed.

Sphinx warns about a page only while it reads or writes it, and an incremental build reads only
the pages whose sources or data changed: a second build of an unchanged project would print none
of the warnings the first one printed (an unknown id in item text, a markup error at a YAML
line), and an open problem would look fixed. The warnings of each page are kept in the build
folder and given again, at the same file and line, for the pages a build does not read or
write again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging as sphinx_logging
from sphinx.util.build_phase import BuildPhase
from sphinx.util.logging import get_node_location

from qms.atomic import write_text

logger = sphinx_logging.getLogger(__name__)

LOG_FILE = "qms-warnings.json"

#: When a page gave a warning: while it was read (parsed), or written (links resolved).
Phase = Literal["read", "write"]
READ: Phase = "read"
WRITE: Phase = "write"


@dataclass(slots=True)
class KeptWarning:
    """One warning as given: the text, where (``path:line``), its type and subtype, and its level."""

    message: str
    location: str | None
    type: str
    subtype: str
    level: int = logging.WARNING

    def give(self) -> None:
        logger.log(
            self.level, self.message, location=self.location, type=self.type or None, subtype=self.subtype or None
        )


class _Collector(logging.Handler):
    """Receives every warning Sphinx gives, after Sphinx's own handlers have placed it."""

    def __init__(self, log: WarningLog) -> None:
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        self.log.note(record)


@dataclass(slots=True)
class WarningLog:
    """The warnings of each page, by phase; one per Sphinx application."""

    app: Sphinx | None = None
    previous: dict[str, dict[Phase, list[KeptWarning]]] = field(default_factory=dict)
    current: dict[str, dict[Phase, list[KeptWarning]]] = field(default_factory=dict)
    done: dict[Phase, set[str]] = field(default_factory=lambda: {READ: set(), WRITE: set()})
    collector: _Collector | None = None

    def path(self, app: Sphinx) -> Path:
        return Path(app.doctreedir) / LOG_FILE

    def start(self, app: Sphinx) -> None:
        """``builder-inited``: read the last build's warnings, and start listening."""
        self.app = app
        self.previous = _read(self.path(app))
        self.collector = _Collector(self)
        logging.getLogger(sphinx_logging.NAMESPACE).addHandler(self.collector)

    def reading(self, app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
        """``env-before-read-docs``: these pages are read again, with fresh warnings."""
        self.done[READ].update(docnames)

    def writing(self, app: Sphinx, doctree: Any, docname: str) -> None:
        """``doctree-resolved``: this page is written again, with fresh warnings."""
        self.done[WRITE].add(docname)

    def note(self, record: logging.LogRecord) -> None:
        if self.app is None:
            return
        docname = self.app.env.temp_data.get("docname") if self.app.env is not None else None
        if not docname:
            return
        phase = READ if self.app.builder.phase <= BuildPhase.READING else WRITE
        kind, subtype = str(getattr(record, "type", "") or ""), str(getattr(record, "subtype", "") or "")
        message = record.getMessage()
        suffix = f" [{kind}.{subtype}]" if subtype else f" [{kind}]"
        if kind and message.endswith(suffix):  # added by Sphinx's handler when warning types are shown
            message = message[: -len(suffix)]
        location = _placed(self.app.env, getattr(record, "location", None))
        warning = KeptWarning(message, location, kind, subtype, record.levelno)
        self.current.setdefault(docname, {}).setdefault(phase, []).append(warning)

    def finish(self, app: Sphinx, error: Exception | None) -> None:
        """``build-finished``: give again the warnings of pages not read or written this time, and keep all."""
        if self.collector is not None:
            logging.getLogger(sphinx_logging.NAMESPACE).removeHandler(self.collector)
            self.collector = None
        if error is not None or app.env is None:
            return
        pages = set(app.env.all_docs)
        for docname, phases in sorted(self.previous.items()):
            if docname not in pages:
                continue
            for phase in (READ, WRITE):
                if docname in self.done[phase]:
                    continue
                for warning in phases.get(phase, ()):
                    warning.give()
                    self.current.setdefault(docname, {}).setdefault(phase, []).append(warning)
        _write(self.path(app), self.current)


def _placed(env: BuildEnvironment, location: Any) -> str | None:
    """A warning's location as ``path:line``, as Sphinx's own handler writes it."""
    if isinstance(location, tuple):
        docname, line = location
        return (f"{env.doc2path(docname)}:{line}" if line else str(env.doc2path(docname))) if docname else None
    if isinstance(location, nodes.Node):
        return get_node_location(location)
    if isinstance(location, str) and location and ":" not in location:
        return str(env.doc2path(location))
    return location if isinstance(location, str) and location else None


def _read(path: Path) -> dict[str, dict[Phase, list[KeptWarning]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(docname): {phase: [KeptWarning(*entry) for entry in phases.get(phase, ())] for phase in (READ, WRITE)}
            for docname, phases in data.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}  # no log yet, or one this version cannot read: pages warn again when read


def _write(path: Path, log: dict[str, dict[Phase, list[KeptWarning]]]) -> None:
    data = {
        docname: {
            phase: [[w.message, w.location, w.type, w.subtype, w.level] for w in warnings]
            for phase, warnings in phases.items()
        }
        for docname, phases in sorted(log.items())
    }
    write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def setup_replay(app: Sphinx) -> None:
    """Connect one log to this application's events."""
    log = WarningLog()
    app.connect("builder-inited", log.start)
    app.connect("env-before-read-docs", log.reading)
    app.connect("doctree-resolved", log.writing, priority=100)
    app.connect("build-finished", log.finish)
