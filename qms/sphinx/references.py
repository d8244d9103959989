"""Pages whose links into other pages now resolve differently are written again.

Sphinx writes again only the pages it read again. A page that links to a section of another
page (``:ref:``), to another page (``:doc:``) or to an item (``:item:``) keeps the link it was
written with when only the other page changed: a section that disappeared stays a dead link with
no warning, one that came back keeps its old warning, and a renamed section keeps its old link
text. So each page's cross-references are noted when it is read, what each resolves to is
remembered as a digest, and on the next build every page whose digest moved is written again,
which is what a clean build would have written.

The blocks qms fills while writing (tables, the clause index, document-control blocks) link to
sections and pages as well, resolved only then. Those pages depend on the site's whole set of
section labels and page titles (a few hundred, from the templates and the files' titles; items are
not among them): when that set changes, every page with blocks is written again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util import docname_join

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.domains.std import StandardDomain
    from sphinx.environment import BuildEnvironment

    from qms.sphinx.domain import QmsDomain

#: The cross-references whose resolution is followed: (domain, role type).
FOLLOWED = frozenset({("std", "ref"), ("std", "doc"), ("std", "numref"), ("qms", "item")})


def note(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: remember the page's cross-references into the rest of the site."""
    env = app.env
    references = sorted(
        {
            (str(node.get("refdomain", "")), str(node.get("reftype", "")), str(node.get("reftarget", "")))
            for node in doctree.findall(pending_xref)
        }
    )
    followed = [reference for reference in references if reference[:2] in FOLLOWED]
    domain = cast("QmsDomain", env.domains["qms"])
    if followed:
        domain.data["references"][env.docname] = followed
    else:
        domain.data["references"].pop(env.docname, None)


def _resolution(env: BuildEnvironment, docname: str, domain_name: str, role: str, target: str) -> object:
    """What one reference from ``docname`` resolves to now (its page, anchor and link text)."""
    if domain_name == "qms":
        return cast("QmsDomain", env.domains["qms"]).placement(target)
    std: StandardDomain = env.domains["std"]  # a mapping in every Sphinx this supports
    if role == "doc":
        page = docname_join(docname, target)
        title = env.titles.get(page)
        return (page in env.all_docs, title.astext() if title is not None else None)
    label = target.lower()
    return (std.labels.get(label), std.anonlabels.get(label))


def resolutions_digest(env: BuildEnvironment, docname: str, references: Iterable[Sequence[str]]) -> str:
    """One digest of what every noted reference of the page resolves to now."""
    resolved = [
        (reference, _resolution(env, docname, reference[0], reference[1], reference[2])) for reference in references
    ]
    return hashlib.sha256(repr(resolved).encode("utf-8")).hexdigest()


def sections_digest(env: BuildEnvironment) -> str:
    """One digest of every section label (page, anchor, title) and every page title of the site."""
    std: StandardDomain = env.domains["std"]  # a mapping in every Sphinx this supports
    titles = sorted((docname, title.astext()) for docname, title in env.titles.items())
    return hashlib.sha256(repr((sorted(std.labels.items()), titles)).encode("utf-8")).hexdigest()


def moved(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``: the pages whose references resolve differently from when they were written."""
    domain = cast("QmsDomain", env.domains["qms"])
    stale = set()
    sections = sections_digest(env)
    if domain.data["sections_digest"] != sections:
        domain.data["sections_digest"] = sections
        stale.update(domain.data["dependencies"])  # the pages with blocks
    resolved: dict[str, str] = domain.data["resolved"]
    for docname, references in domain.data["references"].items():
        now = resolutions_digest(env, docname, references)
        if resolved.get(docname) != now:
            resolved[docname] = now
            stale.add(docname)
    for docname in set(resolved) - set(domain.data["references"]):
        del resolved[docname]
    return sorted(stale)
