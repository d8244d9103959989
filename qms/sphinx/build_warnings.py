"""Every warning qms writes into a Sphinx build: a closed set of type and subtype, each with what it means.

A warning's ``type.subtype`` (``ref.item``) is what ``suppress_warnings`` in ``conf.py`` names to
silence it; the README lists them from this table.
"""

from __future__ import annotations

import enum
from typing import Any

from sphinx.util import logging


class BuildWarning(enum.Enum):
    """A warning qms writes, as ``type.subtype``, with a one-line description."""

    UNKNOWN_ITEM = ("ref", "item", "an `:item:` reference or `qms:item` directive names an id no item has")
    UNDEFINED_LABEL = ("ref", "ref", "a link qms makes to a labelled section names a label no page defines")
    UNSAFE_MARKUP = (
        "qms",
        "unsafe-markup",
        "item text uses a directive, role, link or size it may not (shown as written)",
    )
    MATH = ("qms", "math", "a formula in item text cannot be written as MathML: it is shown as written")
    DOWNLOAD = ("qms", "download", "a download of the site (workbook, evidence file) could not be written as built")
    RELEASE_CHANGES = ("qms", "release-changes", "`qms:release-changes` cannot read git history since the base")
    PAGE_CUT = (
        "qms",
        "page-cut",
        "a long document stays one page: the project has a page of the name one of its parts needs",
    )
    UNUSED_TEMPLATE = (
        "qms",
        "unused-template",
        "a template of the project's templates folder is no document's and no template uses it (a misspelt name?)",
    )

    def __init__(self, type_: str, subtype: str, description: str) -> None:
        self.type = type_
        self.subtype = subtype
        self.description = description

    @property
    def name_in_config(self) -> str:
        """What ``suppress_warnings`` names: ``type.subtype``."""
        return f"{self.type}.{self.subtype}"


def warn(logger: logging.SphinxLoggerAdapter, warning: BuildWarning, message: str, location: Any = None) -> None:
    """Write ``message`` as a build warning of kind ``warning`` at ``location`` (a node, ``docname``
    or ``file:line``)."""
    logger.warning(message, location=location, type=warning.type, subtype=warning.subtype)
