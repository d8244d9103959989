"""Modules Sphinx imports as it starts that a qms build seldom uses: loaded when first used.

Every Sphinx application loads its built-in extensions, and the one that copies images
(``sphinx.transforms.post_transforms.images``) imports ``sphinx.util.requests`` for remote images,
which imports ``requests`` (with ``urllib3``, ``charset_normalizer`` and ``idna``): some 50 ms of
every build, a fortieth of a one-edit rebuild at 10,000 items, for pages that show no remote image.
Here such a module is registered with the standard library's :class:`importlib.util.LazyLoader`
before Sphinx is imported: ``from sphinx.util import requests`` then gives a module whose code runs
when an attribute of it is first read (a remote image, ``linkcheck``, ``intersphinx``), the same
module as before. A module already imported (Sphinx started before qms, as ``sphinx-build`` starts
it) is left as it is.
"""

from __future__ import annotations

import importlib.util
import sys

#: modules a build imports only to have them at hand: loaded when first used
DEFERRED = ("sphinx.util.requests",)


def defer(name: str) -> bool:
    """Register the module ``name`` to be loaded when first used, unless it is imported already or
    cannot be found (then its import says why, where it is made); whether it was registered."""
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except ModuleNotFoundError:  # its package is missing
        return False
    if spec is None or spec.loader is None:
        return False
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return True


def defer_unused() -> None:
    """:func:`defer` each of :data:`DEFERRED`."""
    for name in DEFERRED:
        defer(name)
