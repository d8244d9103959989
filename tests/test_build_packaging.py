"""The wheel carries the extension's templates, styles, script and clause table.

The templates live at the top of the repository and are mapped into the package as
``qms.templates``; packages are therefore listed in pyproject.toml rather than found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    settings = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(REPOSITORY).parts)
        for init in (REPOSITORY / "qms").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(settings["packages"]) == found | {"qms.templates"}
    assert settings["package-dir"] == {"qms.templates": "templates"}


@pytest.mark.slow
def test_the_built_package_contains_templates_static_files_and_the_clause_table(tmp_path: Path) -> None:
    """What setuptools' build_py puts into the wheel, from a copy of the repository."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPOSITORY / name, source / name)
    for folder in ("qms", "templates"):
        shutil.copytree(REPOSITORY / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path / "built"
    command = [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py", "-d", str(built)]
    completed = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    names = {path.relative_to(built).as_posix() for path in built.rglob("*") if path.is_file()}
    templates = {path.name for path in (REPOSITORY / "templates").glob("*.rst.jinja")}
    assert {f"qms/templates/{name}" for name in templates} <= names
    expected = {"qms/static/qms.css", "qms/static/qms.js", "qms/data/clauses.yaml", "qms/scaffold/conf.py"}
    assert expected | {"qms/sphinx/__init__.py", "qms/cli/build.py"} <= names
    # ... and the installed package finds them (outside the repository, as after `pip install .`)
    probe = "from qms.sphinx.documents import default_templates; print(default_templates())"
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(built)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == built / "qms" / "templates"
