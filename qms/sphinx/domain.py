"""The ``qms`` domain: items as Sphinx objects with stable anchors, and references to them by id.

An item's anchor is its id (``software-requirements.html#SWR-014``), on its kind's home
document; an item shown on other pages as well still links to its home. The domain also keeps,
per page, what the page showed from the project (query and digest) so that a rebuild reads again
exactly the pages whose data changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Set
from typing import Any, ClassVar

from docutils import nodes
from docutils.nodes import Element
from sphinx.addnodes import pending_xref
from sphinx.builders import Builder
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

from qms.schema import KINDS
from qms.sphinx.build_warnings import BuildWarning, warn
from qms.sphinx.documents import HOME, document_of
from qms.sphinx.views.build import Query, kind_label

logger = logging.getLogger(__name__)

#: Joins a query's parts into one key of the domain data (a character no option contains).
QUERY_SEPARATOR = "\x1f"


class ItemRole(XRefRole):
    """``:qms:item:`SWR-014``` or ``:item:`SWR-014```: a link to an item by id."""

    def __init__(self) -> None:
        super().__init__(innernodeclass=nodes.inline, warn_dangling=True)

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        # the short ``:item:`` is registered outside the domain: resolve it through the domain anyway
        self.refdomain, self.reftype = "qms", "item"
        self.classes = ["xref", "qms", "qms-item"]
        if self.disabled:
            return self.create_non_xref_node()
        return self.create_xref_node()

    def process_link(
        self, env: BuildEnvironment, refnode: Element, has_explicit_title: bool, title: str, target: str
    ) -> tuple[str, str]:
        return title.strip(), target.strip()


class QmsDomain(Domain):
    """Items of a qms project as objects of a Sphinx domain."""

    name = "qms"
    label = "qms"
    object_types: ClassVar[dict[str, ObjType]] = {kind: ObjType(kind_label(kind), "item") for kind in KINDS}
    roles: ClassVar[dict[str, Any]] = {"item": ItemRole()}
    directives: ClassVar[dict[str, Any]] = {}  # filled by qms.sphinx.directives
    initial_data: ClassVar[dict[str, Any]] = {
        "objects": {},  # item id -> {docname: [kind, title]}
        "dependencies": {},  # docname -> {query joined by QUERY_SEPARATOR: digest}
        "read_digests": {},  # docname -> {query: digest of what reading the page took of its answer}
        "controlled": {},  # docname -> True: the page carries a document-control block
        "control_digest": "",  # (device and prefix, git state) the document-control blocks were last filled with
        "references": {},  # docname -> [(domain, role, target)]: its links into other pages
        "resolved": {},  # docname -> digest of what those links resolved to when it was written
        "histories": {},  # docname -> (its source, or ""; fingerprint of the revision history it was written with)
        "sections_digest": "",  # the section labels and page titles the pages were last written with
        "parts_digest": "",  # the items on the further pages of long documents, and their pages
        "table_rows": {},  # the rows of each table a long document shows, by the fingerprint of its query
    }
    data_version = 6
    dangling_warnings: ClassVar[dict[str, str]] = {"item": "unknown item id '%(target)s'"}

    def __init__(self, env: BuildEnvironment) -> None:
        super().__init__(env)
        #: :meth:`placement` of the items asked for since the objects last changed: the pages of a build
        #: link the same items many times each
        self._placed: dict[str, tuple[str, str, str] | None] = {}

    # ---------------------------------------------------------------- objects

    @property
    def objects(self) -> dict[str, dict[str, list[str]]]:
        objects: dict[str, dict[str, list[str]]] = self.data["objects"]
        return objects

    def note_item(self, item_id: str, kind: str, title: str, docname: str) -> None:
        self._placed.clear()
        self.objects.setdefault(item_id, {})[docname] = [kind, title]

    def placement(self, item_id: str) -> tuple[str, str, str] | None:
        """(docname, kind, title) of the page an item links to: its home (the part of its home document
        that shows it) if shown there, else the first."""
        if item_id not in self._placed:
            self._placed[item_id] = self._placement(item_id)
        return self._placed[item_id]

    def _placement(self, item_id: str) -> tuple[str, str, str] | None:
        placements = self.objects.get(item_id)
        if not placements:
            return None
        if len(placements) == 1:  # shown on one page (most items): that page, whichever it is
            ((docname, (kind, title)),) = placements.items()
            return docname, kind, title
        kind = next(iter(placements.values()))[0]
        home = HOME.get(kind)
        if home in placements:
            docname = home
        else:
            docname = next((page for page in sorted(placements) if document_of(page) == home), min(placements))
        kind, title = placements[docname]
        return docname, kind, title

    def close_matches(self, target: str) -> list[str]:
        exact_case = [item_id for item_id in self.objects if item_id.casefold() == target.casefold()]
        return exact_case or difflib.get_close_matches(target, list(self.objects), n=2, cutoff=0.8)

    # ---------------------------------------------------------------- dependencies

    def note_dependency(self, docname: str, query: Query, digest: str, read: str | None = None) -> None:
        """The page shows ``query``'s answer, of fingerprint ``digest``; ``read``: the fingerprint of
        what reading the page took of it (:meth:`BuildData.read_digest`), when not all of it."""
        key = QUERY_SEPARATOR.join(query)
        self.data["dependencies"].setdefault(docname, {})[key] = digest
        reads: dict[str, str] = self.data["read_digests"].setdefault(docname, {})
        if read is None:
            reads.pop(key, None)
        else:
            reads[key] = read

    def dependencies(self) -> Iterator[tuple[str, Query, str, str | None]]:
        """Each page's queries: (page, query, fingerprint of its answer, of what reading the page took of it)."""
        reads: dict[str, dict[str, str]] = self.data["read_digests"]
        for docname, entries in self.data["dependencies"].items():
            read = reads.get(docname, {})
            for key, digest in entries.items():
                yield docname, tuple(key.split(QUERY_SEPARATOR)), digest, read.get(key)

    def note_controlled(self, docname: str) -> None:
        self.data["controlled"][docname] = True

    # ---------------------------------------------------------------- Sphinx's protocol

    def clear_doc(self, docname: str) -> None:
        self._placed.clear()
        for item_id in list(self.objects):
            placements = self.objects[item_id]
            placements.pop(docname, None)
            if not placements:
                del self.objects[item_id]
        for key in ("dependencies", "read_digests", "controlled", "references", "resolved", "histories"):
            self.data[key].pop(docname, None)

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        self._placed.clear()
        for item_id, placements in otherdata["objects"].items():
            for docname, entry in placements.items():
                if docname in docnames:
                    self.objects.setdefault(item_id, {})[docname] = entry
        for key in ("dependencies", "read_digests", "controlled", "references", "histories"):
            for docname, value in otherdata[key].items():
                if docname in docnames:
                    self.data[key][docname] = value

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: pending_xref,
        contnode: Element,
    ) -> nodes.reference | None:
        found = self.placement(target)
        if found is None:
            return None
        docname, _kind, title = found
        return make_refnode(builder, fromdocname, docname, target, contnode, f"{target} {title}".strip())

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: pending_xref,
        contnode: Element,
    ) -> list[tuple[str, nodes.reference]]:
        resolved = self.resolve_xref(env, fromdocname, builder, "item", target, node, contnode)
        return [("qms:item", resolved)] if resolved is not None else []

    def get_objects(self) -> Iterable[tuple[str, str, str, str, str, int]]:
        for item_id in sorted(self.objects):
            found = self.placement(item_id)
            if found is not None:
                docname, kind, title = found
                yield item_id, f"{item_id} {title}".strip(), kind, docname, item_id, 1

    def get_type_name(self, type: ObjType, primary: bool = False) -> str:
        return type.lname


def warn_missing_item(app: Any, domain: Domain, node: pending_xref) -> bool | None:
    """An unknown id in ``:item:`` is a warning at the reference, with the ids it may have meant."""
    if domain is None or domain.name != "qms":
        return None
    target = node["reftarget"]
    assert isinstance(domain, QmsDomain)
    matches = domain.close_matches(target)
    hint = f" (did you mean {' or '.join(matches)}?)" if matches else ""
    warn(logger, BuildWarning.UNKNOWN_ITEM, f"unknown item id '{target}'{hint}", node)
    return True
