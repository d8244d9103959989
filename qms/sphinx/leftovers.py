"""The copies of images and downloads no page shows any more, taken out of the site.

Sphinx copies each image a page shows into ``_images`` and each file a ``:download:`` role names
into ``_downloads``, and never removes one: after a figure is taken out of the pages, its copy
stayed in the site (served, though no page links to it, with what the file held when it was last
copied), where a clean build has none. A withdrawn diagram must not stay in a technical file.

The build notes the copies the environment named before pages were read again, with those the
last build left (kept beside the environment: a build that starts with a fresh environment, after
a configuration change, names none), and once the site is written removes those that no page names
now. Only copies an environment named are removed: a file an extension writes into ``_images``
itself (graphviz, for one) is left as Sphinx leaves it.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment import BuildEnvironment

from qms.atomic import remove_empty_folders, write_text
from qms.sphinx.state import build_data
from qms.sphinx.views.build import Query

#: where a build keeps the copies the environment named when it started (:func:`note_copies`)
_NAMED: Query = ("copies-named-before-reading",)
#: the folder of the downloads' copies in an HTML site (Sphinx's own name)
DOWNLOADS = "_downloads"
#: the copies the last build's pages named, in the doctree folder
NAMED_FILE = "qms-named-copies.json"


def named_copies(env: BuildEnvironment, images: str) -> set[str]:
    """The copies of images and downloads the pages name, relative to the site (``images``: the
    builder's folder of images)."""
    copies = {f"{images}/{unique}" for _, unique in env.images.values()}
    copies.update(f"{DOWNLOADS}/{Path(destination).as_posix()}" for _, destination in env.dlfiles.values())
    return copies


def note_copies(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """``env-get-outdated`` (before any page is read again): note the copies the pages named."""
    if isinstance(app.builder, StandaloneHTMLBuilder):
        build_data(env).cache[_NAMED] = named_copies(env, app.builder.imagedir) | _last_named(app)
    return []


def _last_named(app: Sphinx) -> set[str]:
    """The copies the last build's pages named (none where it kept no list, or one not of ours)."""
    try:
        kept = json.loads((Path(app.doctreedir) / NAMED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {name for name in kept if isinstance(name, str)} if isinstance(kept, list) else set()


def remove_unnamed_copies(app: Sphinx) -> list[str]:
    """After a successful HTML build: remove from the site the copies the pages named when the build
    started and name no more (and the folders they leave empty, as a clean build makes none); the
    paths removed."""
    if not isinstance(app.builder, StandaloneHTMLBuilder):
        return []
    before: set[str] = build_data(app.env).cache.get(_NAMED) or set()
    named = named_copies(app.env, app.builder.imagedir)
    site = Path(app.outdir).resolve()
    removed = []
    for relative in sorted(before - named):
        path = site / relative
        if not path.resolve().is_relative_to(site):  # a name no environment of Sphinx's makes
            continue
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(relative)
        remove_empty_folders(path.parent, site)
    if named != _last_named(app):
        with contextlib.suppress(OSError):  # a read-only build folder: the environment's list stands alone
            write_text(Path(app.doctreedir) / NAMED_FILE, json.dumps(sorted(named), indent=0))
    return removed
