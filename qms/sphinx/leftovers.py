"""The copies of images, downloads and extra files the project no longer has, taken out of the site.

Sphinx copies each image a page shows into ``_images``, each file a ``:download:`` role names into
``_downloads`` and each file of ``html_extra_path`` into the site, and never removes one: after a
figure was taken out of the pages, or a file out of ``html_extra_path``, its copy stayed in the
site (served, though nothing links to it, with what the file held when it was last copied), where
a clean build has none. A withdrawn diagram or document must not stay in a technical file.

The build notes the copies the environment named before pages were read again, with those the
last build left (kept beside the environment: a build that starts with a fresh environment, after
a configuration change, names none), and once the site is written removes those the project names
no more, unless a page of the site has that name now or the build wrote the file (an extra file
that stood in for one of Sphinx's own, such as ``search.html``, is Sphinx's again). Only such
copies are removed: a file an extension writes into the site itself (graphviz's images, for one)
is left as Sphinx leaves it.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment import BuildEnvironment
from sphinx.util.matching import Matcher

from qms.atomic import remove_empty_folders, write_text
from qms.sphinx.state import build_data
from qms.sphinx.views.build import Query

#: where a build keeps the copies named when it started, and when that was (:func:`note_copies`)
_NAMED: Query = ("copies-named-before-reading",)
_NOTED: Query = ("copies-noted-at",)
_LAST: Query = ("copies-the-last-build-made",)
#: how far a file's modification time may lag behind the clock (the kernel stamps it from a coarse one)
_COARSE_CLOCK = 20_000_000
#: the folder of the downloads' copies in an HTML site (Sphinx's own name)
DOWNLOADS = "_downloads"
#: the copies the last build made, in the doctree folder
NAMED_FILE = "qms-named-copies.json"


def named_copies(env: BuildEnvironment, images: str) -> set[str]:
    """The copies of images and downloads the pages name, relative to the site (``images``: the
    builder's folder of images)."""
    copies = {f"{images}/{unique}" for _, unique in env.images.values()}
    copies.update(f"{DOWNLOADS}/{Path(destination).as_posix()}" for _, destination in env.dlfiles.values())
    return copies


def extra_copies(app: Sphinx) -> tuple[set[str], set[str]]:
    """The files ``html_extra_path`` puts into the site, and the folders it makes there, relative to
    the site, as Sphinx copies them: a file by its name, a folder's files and folders below it,
    less what ``exclude_patterns`` leaves out."""
    excluded = Matcher(app.config.exclude_patterns)
    copies: set[str] = set()
    made: set[str] = set()
    for entry in app.config.html_extra_path:
        source = Path(app.confdir, entry)
        if source.is_file():
            copies.add(source.name)
            continue
        for folder, folders, files in os.walk(source, followlinks=True) if source.is_dir() else ():
            relative = Path(folder).relative_to(source).as_posix()
            folders[:] = [name for name in folders if not excluded(posixpath.join(relative, name))]
            made.update(posixpath.normpath(posixpath.join(relative, name)) for name in folders)
            copies.update(
                posixpath.normpath(posixpath.join(relative, name))
                for name in files
                if not excluded(posixpath.join(relative, name))
            )
    return copies, made


def note_copies(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """``env-get-outdated`` (before any page is read again): note the copies the pages named, and
    those the last build made."""
    if isinstance(app.builder, StandaloneHTMLBuilder):
        data = build_data(env)
        data.cache[_NOTED] = time.time_ns()
        data.cache[_LAST] = last = _last_made(app)
        data.cache[_NAMED] = named_copies(env, app.builder.imagedir) | last
    return []


def _last_made(app: Sphinx) -> set[str]:
    """The copies the last build made (none where it kept no list, or one not of ours)."""
    try:
        kept = json.loads((Path(app.doctreedir) / NAMED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {name for name in kept if isinstance(name, str)} if isinstance(kept, list) else set()


def remove_unnamed_copies(app: Sphinx) -> list[str]:
    """After a successful HTML build: remove from the site the copies noted when the build started
    that the project names no more and that no page of the site has the name of (with the folders
    they leave empty, as a clean build makes none); the paths removed."""
    builder = app.builder
    if not isinstance(builder, StandaloneHTMLBuilder):
        return []
    data = build_data(app.env)
    before: set[str] = data.cache.get(_NAMED) or set()
    noted: int = data.cache.get(_NOTED, 0)
    extra, folders = extra_copies(app)
    made = named_copies(app.env, builder.imagedir) | extra
    site = Path(app.outdir).resolve()
    keep = frozenset(site / folder for folder in folders)  # made by Sphinx as a clean build makes them
    gone = before - made
    if gone:
        gone -= {
            Path(builder.get_outfilename(docname)).resolve().relative_to(site).as_posix()
            for docname in app.env.found_docs
        }
    removed = []
    for relative in sorted(gone):
        path = site / relative
        if not path.resolve().is_relative_to(site):  # a name no build of Sphinx's makes
            continue
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime_ns < noted - _COARSE_CLOCK:
            path.unlink()
            removed.append(relative)
        remove_empty_folders(path.parent, site, keep)
    if made != data.cache.get(_LAST):
        with contextlib.suppress(OSError):  # a read-only build folder: the environment's list stands alone
            write_text(Path(app.doctreedir) / NAMED_FILE, json.dumps(sorted(made), indent=0))
    return removed
