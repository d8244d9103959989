"""Modules Sphinx and its theme import as they start that a qms build seldom uses: loaded when first used.

Every Sphinx application loads its built-in extensions, and the one that copies images
(``sphinx.transforms.post_transforms.images``) imports ``sphinx.util.requests`` for remote images,
which imports ``requests`` (with ``urllib3``, ``charset_normalizer`` and ``idna``): some 50 ms of
every build, a fortieth of a one-edit rebuild at 10,000 items, for pages that show no remote image.
Here such a module is registered with the standard library's :class:`importlib.util.LazyLoader`
before Sphinx is imported: ``from sphinx.util import requests`` then gives a module whose code runs
when an attribute of it is first read (a remote image, ``linkcheck``, ``intersphinx``), the same
module as before. A module already imported (Sphinx started before qms, as ``sphinx-build`` starts
it) is left as it is.

A module imported for one function that is called on every page a build writes but seldom has work
to do stands in for itself until then (:func:`stand_in`): the theme's navigation
(``furo.navigation``) imports BeautifulSoup, whose HTML parser, CSS selectors and encoding detection
take some 90 ms to import, to make a page's navigation tree from its table of contents; qms gives
the theme no table of contents where the tree the last build made is still the same
(:mod:`qms.sphinx.navigation`), and the theme gives an empty one back as it is. A build after an edit
that moves no page in the navigation then parses none, and BeautifulSoup is imported by the first
page whose tree is made.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

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
    _bind(name, module)
    return True


def _bind(name: str, module: ModuleType) -> None:
    """Make ``module`` (named ``name``) an attribute of its package where that is imported, as an import does."""
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)


#: how a stand-in (:func:`stand_in`) makes one of its module's functions from the real one, given a
#: function that loads the module and gives it
Forwarding = Callable[[Callable[[], Callable[..., Any]]], Callable[..., Any]]


def stand_in(name: str, functions: Mapping[str, Forwarding]) -> bool:
    """Put a stand-in for the module ``name`` into :data:`sys.modules` (unless it is imported already
    or cannot be found); whether it did. The stand-in is the module itself before its code ran: the
    module's code runs in it when an attribute of it is first read (:pep:`562` ``__getattr__``), and
    from then on it is the module, the same object for whoever holds it. Its importers may take
    ``functions`` from it by name as they are imported (``from furo.navigation import
    get_navigation_tree``): each is made by its :data:`Forwarding` from a function that loads the
    module and gives the real one, and may answer a call without it. The parent package is not
    imported to find the module (it may import the module itself)."""
    if name in sys.modules:
        return False
    spec = _find_unimported(name)
    if spec is None or spec.loader is None:
        return False
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    package = spec.submodule_search_locations is not None

    def load() -> ModuleType:
        namespace = vars(module)
        if namespace.get("__getattr__") is stood_in:
            del namespace["__getattr__"]
            for function in functions:
                namespace.pop(function, None)  # the module's code defines it
            try:
                loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)  # as a failed import leaves it
                raise
            _bind(name, module)
        return module

    def stood_in(attribute: str) -> Any:
        if attribute == "__path__" and not package:  # the import system asks every module it imports from
            raise AttributeError(attribute)
        return getattr(load(), attribute)

    module.__getattr__ = stood_in  # type: ignore[method-assign]
    for function, forwarding in functions.items():
        setattr(module, function, forwarding(functools.partial(_real, load, function)))
    sys.modules[name] = module
    _bind(name, module)
    return True


def _real(load: Callable[[], ModuleType], function: str) -> Callable[..., Any]:
    """The function ``function`` of the module ``load`` loads (and gives)."""
    real: Callable[..., Any] = getattr(load(), function)
    return real


def _find_unimported(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of the module ``name``, found without importing its parent package."""
    parent, _, _ = name.rpartition(".")
    try:
        if not parent:
            return importlib.util.find_spec(name)
        found = sys.modules[parent].__spec__ if parent in sys.modules else _find_unimported(parent)
    except (ImportError, ValueError):
        return None
    locations = found.submodule_search_locations if found is not None else None
    return importlib.machinery.PathFinder.find_spec(name, list(locations)) if locations else None


def _navigation_tree(real: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """furo's ``get_navigation_tree``, which gives an empty tree back as it is (nothing to parse)."""

    def get_navigation_tree(toctree_html: str) -> str:
        if not toctree_html:
            return toctree_html
        tree: str = real()(toctree_html)
        return tree

    return get_navigation_tree


#: modules imported for a function seldom given work: stood in for until it is (:func:`stand_in`)
STOOD_IN: dict[str, dict[str, Forwarding]] = {"furo.navigation": {"get_navigation_tree": _navigation_tree}}


def defer_unused() -> None:
    """:func:`defer` each of :data:`DEFERRED`, and :func:`stand_in` for each of :data:`STOOD_IN`."""
    for name in DEFERRED:
        defer(name)
    for name, functions in STOOD_IN.items():
        stand_in(name, functions)
