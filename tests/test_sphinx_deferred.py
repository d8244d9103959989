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


def _loaded(name: str) -> bool:
    """Whether the module ``name`` ran its code (a lazy module has not until an attribute is read)."""
    module = sys.modules.get(name)
    return module is not None and type(module).__name__ != "_LazyModule"
