"""Modules Sphinx imports as it starts and a qms build seldom uses are loaded only when first used."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sphinx_support import build, new_project

from qms.sphinx.deferred import DEFERRED


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_requests_is_loaded_when_sphinx_first_uses_it_not_when_qms_starts_sphinx() -> None:
    out = _run(
        """
        import sys
        import qms.sphinx
        from sphinx.util import requests as wrapper
        print("requests" in sys.modules, "urllib3" in sys.modules)
        wrapper.get  # an attribute read: the module's code runs now
        print("requests" in sys.modules, callable(wrapper.get), wrapper.get.__module__)
        """
    )
    assert out.split() == ["False", "False", "True", "True", "sphinx.util.requests"]


def test_a_module_imported_before_qms_is_left_as_it_is() -> None:
    out = _run(
        """
        import sys
        import sphinx.util.requests
        before = sys.modules["sphinx.util.requests"]
        import qms.sphinx
        from qms.sphinx.deferred import defer
        print(sys.modules["sphinx.util.requests"] is before, defer("sphinx.util.requests"), defer("no.such.module"))
        """
    )
    assert out.split() == ["True", "False", "False"]


def test_a_qms_build_starts_sphinx_without_loading_requests(tmp_path: Path) -> None:
    """A whole build in this process: the modules deferred are not loaded by it (the test session
    may have loaded them before: then only the build's success is asserted)."""
    loaded_before = {name for name in ("requests", *DEFERRED) if name in sys.modules and _loaded(name)}
    root = new_project(tmp_path / "device")
    result = build(root)
    assert result.exit_code == 0, result.output
    if not loaded_before:
        assert "requests" not in sys.modules
        assert not _loaded("sphinx.util.requests")


def test_the_theme_parses_no_navigation_until_a_page_has_one_to_make() -> None:
    """furo's navigation (and BeautifulSoup with it) is loaded by the first tree it makes: an empty one
    it gives back as it is, as furo itself does; a tree it makes is furo's own, and the module is then
    furo's, the same object for whoever took it before."""
    out = _run(
        """
        import sys
        import qms.sphinx
        import furo
        stand_in = sys.modules["furo.navigation"]
        print("bs4" in sys.modules, repr(furo.get_navigation_tree("")))
        tree = '<ul><li><a href="a.html">A</a><ul><li><a href="b.html">B</a></li></ul></li></ul>'
        made = furo.get_navigation_tree(tree)
        print("bs4" in sys.modules, sys.modules["furo.navigation"] is stand_in, furo.navigation is stand_in)
        del sys.modules["furo.navigation"]
        import importlib.util
        spec = importlib.util.find_spec("furo.navigation")
        real = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(real)
        print(made == real.get_navigation_tree.__wrapped__(tree))
        print(real.get_navigation_tree.__wrapped__("") == "", stand_in.BeautifulSoup is real.BeautifulSoup)
        """
    )
    assert out.split() == ["False", "''", "True", "True", "True", "True", "True", "True"]


def test_a_stand_in_is_its_module_once_an_attribute_is_read_and_a_module_imported_before_is_left(
    tmp_path: Path,
) -> None:
    """A package that imports a function of its module by name (as furo does its navigation's) gets
    the stand-in's, which answers without the module or loads it; the module's code runs once."""
    package = tmp_path / "standing"
    package.mkdir()
    (package / "__init__.py").write_text("from .work import answer\n", encoding="utf-8")
    (package / "work.py").write_text(
        "import sys\nsys.ran = getattr(sys, 'ran', 0) + 1\nVALUE = 42\ndef answer(x):\n    return x * 2\n",
        encoding="utf-8",
    )
    out = _run(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from qms.sphinx.deferred import stand_in
        forwarded = lambda real: (lambda x: "none" if x is None else real()(x))
        print(stand_in("standing.work", {{"answer": forwarded}}), "standing" in sys.modules)
        from standing import answer
        print(getattr(sys, "ran", 0), answer(None), getattr(sys, "ran", 0), answer(21), sys.ran)
        from standing import work
        print(work.VALUE, sys.modules["standing.work"] is work, work.answer(4), sys.ran)
        print(stand_in("standing.work", {{}}), stand_in("standing.nothing", {{}}), stand_in("nothing.at.all", {{}}))
        """
    )
    assert out.split() == [
        *["True", "False"],
        *["0", "none", "0", "42", "1"],
        *["42", "True", "8", "1"],
        *["False", "False", "False"],
    ]


def _loaded(name: str) -> bool:
    """Whether the module ``name`` ran its code (a lazy module has not until an attribute is read)."""
    module = sys.modules.get(name)
    return module is not None and type(module).__name__ != "_LazyModule"
