"""The layers of the package: the model and the project file's settings sit at the bottom, the core
modules import one another without a circle, and the core loads none of the adapters' libraries
(git, click, openpyxl, Sphinx, docutils) when it is imported."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "qms"
#: the adapters: the command line, the Sphinx extension, the workbooks, the pytest plugin, PDF printing, docutils
ADAPTERS = ("qms.cli", "qms.sphinx", "qms.excel", "qms.pytest_plugin", "qms.pdf", "qms.__main__", "qms.rst")
#: the git adapter, which the core may import: it imports git only inside the functions that read history
GIT_ADAPTER = "qms.gitinfo"
ADAPTER_LIBRARIES = ("git", "click", "openpyxl", "sphinx", "docutils", "playwright")


def core_modules() -> list[str]:
    """Every module of the package that is not an adapter."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        if name != GIT_ADAPTER and not any(name == adapter or name.startswith(f"{adapter}.") for adapter in ADAPTERS):
            names.append(name)
    return names


def loaded_after(*modules: str) -> set[str]:
    """The modules a fresh interpreter holds after importing ``modules``."""
    code = f"import json, sys\nimport {', '.join(modules)}\nprint(json.dumps(sorted(sys.modules)))"
    environment = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, cwd=PACKAGE.parent
    )
    return set(json.loads(result.stdout))


def roots(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def imported_anywhere(module: str) -> set[str]:
    """The package modules ``module`` imports, at the top, inside functions or for types only."""
    relative = Path(*module.split("."))
    path = PACKAGE.parent / relative.with_suffix(".py")
    if not path.exists():
        path = PACKAGE.parent / relative / "__init__.py"
    known = set(core_modules()) | {GIT_ADAPTER}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        found |= {name for name in names if name in known and name != module}
    return found


def reached_from(module: str) -> set[str]:
    """Every package module ``module`` depends on, directly or through others."""
    reached: set[str] = set()
    waiting = [module]
    while waiting:
        for name in imported_anywhere(waiting.pop()) - reached:
            reached.add(name)
            waiting.append(name)
    return reached


@pytest.mark.parametrize("module", ["qms.model", "qms.config"])
def test_the_model_and_the_project_settings_depend_on_nothing_above_them(module: str) -> None:
    below = reached_from(module)

    assert module not in below, f"{module} imports a module that imports it back"
    assert not {name for name in below if name == "qms.rules" or name.startswith("qms.rules.")}
    assert "qms.rulebook" in reached_from("qms.config"), "the project file reads the rule codes from the rulebook"


def test_the_model_and_the_project_settings_load_no_rules_and_no_adapter_library() -> None:
    loaded = loaded_after("qms.model", "qms.config")

    assert "qms.rules" not in loaded
    assert not {name for name in loaded if name.startswith("qms.rules.")}
    assert not roots(loaded) & set(ADAPTER_LIBRARIES)


@pytest.mark.parametrize("module", core_modules())
def test_a_core_module_loads_no_adapter_and_no_adapter_library(module: str) -> None:
    loaded = loaded_after(module)

    assert not roots(loaded) & set(ADAPTER_LIBRARIES)
    assert not {
        name for name in loaded if any(name == adapter or name.startswith(f"{adapter}.") for adapter in ADAPTERS)
    }


def test_the_git_adapter_loads_git_only_when_history_is_read() -> None:
    assert "git" not in roots(loaded_after(GIT_ADAPTER, "qms.checking", "qms.history", "qms.diff"))


def test_the_core_list_holds_the_modules_the_checks_run_on() -> None:
    assert {"qms.checking", "qms.reporting", "qms.loading", "qms.project", "qms.rules", "qms.model"} <= set(
        core_modules()
    )


def test_no_module_of_the_package_needs_jsonschema_to_run() -> None:
    every_module = [".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts) for path in PACKAGE.rglob("*.py")]
    modules = [name.removesuffix(".__init__") for name in every_module if not name.endswith("__main__")]

    assert "jsonschema" not in roots(loaded_after(*modules))


def top_level_imports(module: str) -> set[str]:
    """The package modules ``module`` imports when it is loaded: its top-level imports (in ``if`` and
    ``try`` blocks too), not those inside functions and not those for type checking only."""
    relative = Path(*module.split("."))
    path = PACKAGE.parent / relative.with_suffix(".py")
    if not path.exists():
        path = PACKAGE.parent / relative / "__init__.py"
    known = {*core_modules(), GIT_ADAPTER, *ADAPTERS}
    found: set[str] = set()
    waiting = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while waiting:
        node = waiting.pop()
        if isinstance(node, ast.If) and not _type_checking(node.test):
            waiting += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            waiting += [*node.body, *node.orelse, *node.finalbody, *(s for h in node.handlers for s in h.body)]
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in found if name in known and name != module}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_cycle(modules: list[str], imports: Callable[[str], set[str]] = top_level_imports) -> list[str]:
    """A circle of ``imports`` among ``modules`` (``a`` imports ``b`` ... imports ``a``), or none."""
    graph = {module: imports(module) & set(modules) for module in modules}
    state: dict[str, str] = {}  # "open" while its imports are followed, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = "done"
        return []

    for module in modules:
        if module not in state and (found := visit(module)):
            return found
    return []


def test_the_core_modules_import_one_another_without_a_circle() -> None:
    assert import_cycle(core_modules()) == []


def test_a_circle_of_imports_is_found() -> None:
    """The test above can fail: modules that import one another, directly or through others, are a circle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert import_cycle(["d", "a", "b", "c"], graph.__getitem__) == ["a", "b", "c", "a"]
    assert import_cycle(["a", "b", "d"], graph.__getitem__) == []
    assert "qms.rules.registry" in top_level_imports("qms.rules.trace")
    assert "qms.evidence" not in top_level_imports("qms.rules.registry"), "type-only imports are no edge"


#: Imports of the package inside functions in the core, each for a reason other than a circle: what it
#: would load at import time (an adapter and its library) only when it is needed.
LATE_IMPORTS = {
    ("qms.evidence", "qms.junitcase"): "junitparser (and lxml), only when a result file is read, not from the cache",
    ("qms.rules.markup", "qms.rst"): "docutils, only when some item text holds markup",
    ("qms.serve", "qms.cli.build"): "the command line and Sphinx, only when the preview builds",
    ("qms.serve", "qms.sphinx.state"): "Sphinx, only when the preview builds",
}


def test_the_core_imports_the_package_inside_functions_only_to_load_an_adapter_late() -> None:
    found = set()
    for module in core_modules():
        relative = Path(*module.split("."))
        path = PACKAGE.parent / relative.with_suffix(".py")
        if not path.exists():
            path = PACKAGE.parent / relative / "__init__.py"
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                found |= {
                    (module, node.module)
                    for node in ast.walk(function)
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qms"
                }
    assert found == set(LATE_IMPORTS)
