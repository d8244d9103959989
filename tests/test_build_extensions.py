"""`qms build` starts Sphinx without the builders it never uses, where no code of the project's own
runs, and the site is the same, byte for byte, as one built with every builder Sphinx has."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sphinx.application
from sphinx_support import build, new_project, site_files

from qms.cli import build as build_module
from qms.cli.build import UNUSED_BUILDERS, _builders_never_used, sphinx_build

LINK_CHECKER = "sphinx.builders.linkcheck"


@pytest.mark.parametrize(
    "conf",
    [
        'extensions = ["qms.sphinx"]\n',
        '"""The device\'s technical file."""\n\nextensions = ["qms.sphinx"]\nqms_document_id_prefix = "AID"\n',
        'extensions = ("qms.sphinx",)\nhtml_theme = "furo"\nhtml_copy_source = True\n',
        'project = "Device"\nextensions = ["qms.sphinx"]\nhtml_theme_options = {"sidebar_hide_name": True}\n',
    ],
)
def test_a_conf_py_of_plain_settings_runs_no_builder_qms_does_not_use(tmp_path: Path, conf: str) -> None:
    (tmp_path / "conf.py").write_text(conf, encoding="utf-8")
    assert _builders_never_used(tmp_path / "conf.py") == UNUSED_BUILDERS
    assert _builders_never_used(None) == UNUSED_BUILDERS  # no conf.py: qms gives the extension


@pytest.mark.parametrize(
    "conf",
    [
        'extensions = ["qms.sphinx", "sphinx.ext.todo"]\n',  # another extension: it may use the link checker's event
        'extensions = ["qms.sphinx"]\nhtml_theme = "alabaster"\n',  # a theme is an extension too
        'extensions = ["qms.sphinx"]\n\ndef setup(app):\n    app.connect("linkcheck-process-uri", print)\n',
        'import os\nextensions = ["qms.sphinx"]\n',
        'extensions = ["qms.sphinx"]\nextensions.append("sphinx.ext.todo")\n',
        'extensions = ["qms.sphinx"] + ["sphinx.ext.todo"]\n',
        'extensions = ["qms.sphinx"\n',  # not Python: Sphinx reports it
        'extensions: list[str] = ["qms.sphinx"]\n',
    ],
)
def test_code_of_the_projects_own_runs_with_every_builder_sphinx_has(tmp_path: Path, conf: str) -> None:
    (tmp_path / "conf.py").write_text(conf, encoding="utf-8")
    assert _builders_never_used(tmp_path / "conf.py") == ()


def _build(root: Path) -> sphinx.application.Sphinx:
    return sphinx_build(
        root,
        root / "_build" / "out",
        root / "_build" / "doctrees",
        root / "_build" / "html",
        strict=False,
        clean=True,
        status=None,
        warning=io.StringIO(),
    )


@pytest.mark.slow
def test_the_builders_left_out_are_left_out_of_that_build_only(tmp_path: Path) -> None:
    builtin = sphinx.application.builtin_extensions
    plain = _build(new_project(tmp_path / "plain"))
    assert LINK_CHECKER not in plain.extensions and "sphinx.builders.html" in plain.extensions
    assert not set(UNUSED_BUILDERS) & set(plain.extensions)
    assert sphinx.application.builtin_extensions is builtin  # Sphinx's own list, as it was
    own = _build(new_project(tmp_path / "own", files={"conf.py": 'extensions = ["qms.sphinx", "sphinx.ext.todo"]\n'}))
    assert set(UNUSED_BUILDERS) <= set(own.extensions)


@pytest.mark.slow
def test_the_site_is_the_same_with_every_builder_sphinx_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed = new_project(tmp_path / "trimmed" / "device")
    assert build(trimmed).exit_code == 0
    whole = new_project(tmp_path / "whole" / "device")
    monkeypatch.setattr(build_module, "_builders_never_used", lambda conf: ())
    assert build(whole).exit_code == 0
    assert site_files(whole / "_build" / "html") == site_files(trimmed / "_build" / "html")
