"""The site's object inventory (``objects.inv``, which other Sphinx projects read to link to its items)
left as it is where it already holds what this build would write.

Sphinx writes the inventory at the end of every HTML build, compressing it entry by entry: at
10,000 items some 0.05 s of every rebuild, most of them after an edit that changes no entry (a
text, a link, a severity). Here the entries are listed as Sphinx lists them and compared with those
of the inventory the last build left in the site (copied into this build's, :func:`qms.cli.build._seed`):
where they are the same, with the same header, the file is kept; where they differ (a title
edit), the file is written from the entries listed, as Sphinx writes it (the same bytes: zlib's
stream of the same text at the same level, whether handed over entry by entry or at once),
instead of Sphinx listing them all again. Where a second process changes pages in place, the one
done with its pages first does this (:func:`qms.sphinx.sources.rewritten`), not the build at its
end. Where the file is missing or cannot be read, and in a build with a new environment
(``--clean``, another Sphinx), Sphinx writes it as ever.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders.html import INVENTORY_FILENAME

from qms.atomic import write_bytes
from qms.sphinx.sources import INVENTORY_WRITTEN
from qms.sphinx.state import build_data

#: the level Sphinx compresses the inventory at (``sphinx.util.inventory.InventoryFile.dump``)
LEVEL = 9


def keep_unchanged_inventory(app: Sphinx) -> None:
    """``builder-inited``: have the HTML builder write the inventory only where it changed."""
    builder: Any = app.builder
    dump = getattr(builder, "dump_inventory", None)
    if dump is None or app.fresh_env_used:
        return

    def dump_inventory() -> None:
        if build_data(app.env).cache.get(INVENTORY_WRITTEN) is True:
            return  # written as the pages were changed in place (qms.sphinx.sources.rewritten)
        if not write_inventory(app):
            dump()

    builder.dump_inventory = dump_inventory


def write_inventory(app: Sphinx) -> bool:
    """Write the site's inventory where it differs from this build's (keep it where it does not);
    False, and nothing written, where the site has none to compare with or the build has a new
    environment (Sphinx writes it then, as ever). Once the pages are read: what it lists is known."""
    if app.fresh_env_used or getattr(app.builder, "dump_inventory", None) is None:
        return False
    path = Path(app.outdir) / INVENTORY_FILENAME
    try:
        written = path.read_bytes()
    except OSError:
        return False
    header, entries = _header(app), _entries(app)
    if not _holds(written, header, entries):
        write_bytes(path, header + zlib.compress(entries, LEVEL))
    return True


def _holds(written: bytes, header: bytes, entries: bytes) -> bool:
    """Whether ``written``, the site's ``objects.inv``, holds exactly the inventory of ``header`` and ``entries``."""
    if not written.startswith(header):
        return False
    try:
        return zlib.decompress(written[len(header) :]) == entries
    except zlib.error:
        return False


def _escape(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _header(app: Sphinx) -> bytes:
    """The inventory's header, as ``sphinx.util.inventory.InventoryFile.dump`` writes it."""
    config = app.env.config
    return (
        "# Sphinx inventory version 2\n"
        f"# Project: {_escape(config.project)}\n"
        f"# Version: {_escape(config.version)}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()


def _entries(app: Sphinx) -> bytes:
    """The inventory's entries, uncompressed, as ``sphinx.util.inventory.InventoryFile.dump`` writes them."""
    builder = app.builder
    lines = []
    for domain in app.env.domains.sorted():
        for fullname, dispname, kind, docname, anchor, priority in sorted(domain.get_objects()):
            if anchor.endswith(fullname):
                anchor = anchor.removesuffix(fullname) + "$"
            uri = builder.get_target_uri(docname)
            if anchor:
                uri += "#" + anchor
            if dispname == fullname:
                dispname = "-"
            lines.append(f"{fullname} {domain.name}:{kind} {priority} {uri} {dispname}\n")
    return "".join(lines).encode()
