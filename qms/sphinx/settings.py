"""The ``qms_*`` settings of ``conf.py`` as one typed object: registered with Sphinx from its fields
and read through Sphinx's public configuration; and which of Sphinx's own values the project sets."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from qms.clauses import DEFAULT_EDITION

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

PREFIX = "qms_"


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``conf.py`` says to qms, each as ``qms_<field>``."""

    #: the folder of ``qms.yaml``, relative to conf.py
    project: str = "."
    #: the prefix of document ids (``AID`` gives AID-SRS, AID-RMP...)
    document_id_prefix: str = ""
    #: the IEC 62304 edition the clause table follows: ``2006+A1:2015`` or ``2006``
    iec62304_edition: str = DEFAULT_EDITION
    #: the project's corrected copy of the clause table (``qms/data/clauses.yaml``); empty: the shipped one
    clause_table: str = ""
    #: generate the documents; False: only the project's own pages, with the directives
    generate_documents: bool = True
    #: offer the Excel workbook among the site's downloads
    workbook_download: bool = True
    #: each item block's audit trail from git (one pass over history per build)
    audit_trail: bool = True
    #: where the site ends up when Sphinx writes it elsewhere first (``qms build``): never read as pages
    site_folder: str = ""
    #: the items a page shows at most: a document showing more is cut into pages (0: never cut)
    page_items: int = 400


#: the settings whose change needs no new reading of the sources; the others rebuild the environment
_NO_REBUILD = frozenset({"site_folder"})


def register(app: Sphinx) -> None:
    """Register every setting with Sphinx, with its default and type."""
    for setting in fields(Settings):
        rebuild: Literal["", "env"] = "" if setting.name in _NO_REBUILD else "env"
        app.add_config_value(f"{PREFIX}{setting.name}", setting.default, rebuild, types=[type(setting.default)])


def settings(config: Config) -> Settings:
    """The settings of this build."""
    values: dict[str, Any] = {setting.name: config[f"{PREFIX}{setting.name}"] for setting in fields(Settings)}
    return Settings(**values)


def set_by_project(config: Config) -> frozenset[str]:
    """The values ``conf.py`` or ``-D`` on the command line set, as opposed to Sphinx's defaults: qms gives
    a technical file its own defaults (theme, language...) only where the project sets none.

    Sphinx has no public way to tell a value written in ``conf.py`` from its default: this is the one
    place that reads ``conf.py``'s namespace as Sphinx keeps it.
    """
    return frozenset(config._raw_config) | frozenset(config.overrides)
