"""Item text cannot put script into the site or pull files from the disk into it.

One project carries every payload we know of in an item's text, title and in qms.yaml; the built
site must hold none of them, and each refused construct is a warning at its YAML line.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import build, line_of, new_project, page, parse_html, site_page, text_of

from qms.markup import is_prose, unsafe_math_links
from qms.sphinx.maths import MathError, mathml
from qms.sphinx.safe_rst import is_safe_uri, prose_paragraphs

PASSWD = Path("/etc/passwd")

EVIL_ITEMS = """\
kind: software_requirement
items:
  - id: SWR-666
    title: <img src=x onerror=alert('title')> Evil title
    derives_from: [SYS-001]
    text: |
      Before the payloads.

      .. raw:: html

         <script>alert("raw")</script>

      .. include:: /etc/passwd

      .. literalinclude:: /etc/passwd

      .. csv-table:: Users
         :file: /etc/passwd

      .. image:: /etc/passwd

      .. meta::
         :http-equiv=refresh: 0; url=https://evil.example/

      .. role:: rawhtml(raw)
         :format: html

      :rawhtml:`<script>alert("role")</script>` and :download:`/etc/passwd` end.

      A `link <javascript:alert('href')>`_ and a bare javascript:alert('bare').

      .. |evil| raw:: html

         <script>alert("substitution")</script>

      Safe markup stays: *emphasised words* and ``literal code``.

      Maths: :math:`\\frac{a}{b}`, :math:`\\href{javascript:alert('math')}{click}`,
      :math:`\\text{<script>alert('mtext')</script>}` and :math:`x^`.

      .. math::

         \\sum_{i=1}^{n} d_i \\le D_{max}
"""

EVIL_DEVICE = '  name: <script>alert("device")</script> Pump\n'


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The project with every payload, built; (site, the YAML text, the build's stderr)."""
    root = new_project(tmp_path_factory.mktemp("evil") / "project", files={"traceability/evil.yaml": EVIL_ITEMS})
    config = (root / "qms.yaml").read_text(encoding="utf-8")
    (root / "qms.yaml").write_text(re.sub(r"  name: .*\n", EVIL_DEVICE, config, count=1), encoding="utf-8")
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html", EVIL_ITEMS, result.stderr


def _all_output(site: Path, suffix: str = "") -> str:
    """Every file of the site (of one suffix) as text; the build cache is not part of the site."""
    files = (path for path in site.rglob(f"*{suffix}") if path.is_file() and ".doctrees" not in path.parts)
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


@pytest.mark.slow
def test_no_script_from_item_text_or_project_file(evil_site: tuple[Path, str, str]) -> None:
    site, _, _ = evil_site
    everything = _all_output(site, ".html")  # the search index keeps titles as JSON strings: text, not markup
    for payload in ('alert("raw")', 'alert("role")', 'alert("substitution")'):
        assert f"<script>{payload}" not in everything
    assert "<script>alert" not in everything
    assert not re.search(r"""href=["']\s*javascript:""", everything, re.IGNORECASE)
    assert "http-equiv" not in everything.lower()


@pytest.mark.slow
def test_no_file_is_pulled_into_the_site(evil_site: tuple[Path, str, str]) -> None:
    site, _, _ = evil_site
    first_line = PASSWD.read_text(encoding="utf-8").splitlines()[0] if PASSWD.exists() else "root:x:0:0"
    assert first_line not in _all_output(site)
    assert not [path for path in site.rglob("*passwd*")]  # nothing copied to _images or _downloads


@pytest.mark.slow
def test_titles_and_project_names_are_text(evil_site: tuple[Path, str, str]) -> None:
    site, _, _ = evil_site
    requirements = page(site, "software-requirements.html")
    assert "<img src=x onerror=alert('title')> Evil title" in text_of(parse_html(requirements))
    assert "<img src=x" not in requirements
    assert '<script>alert("device")</script> Pump' in text_of(site_page(site, "index.html"))


@pytest.mark.slow
def test_safe_markup_survives(evil_site: tuple[Path, str, str]) -> None:
    site, _, _ = evil_site
    requirements = site_page(site, "software-requirements.html")
    assert "emphasised words" in [text_of(emphasis) for emphasis in requirements.select("em")]
    assert "literal code" in [text_of(code) for code in requirements.select("code.literal")]
    assert "Before the payloads." in text_of(requirements)


@pytest.mark.slow
def test_each_refused_construct_is_a_warning_at_its_yaml_line(evil_site: tuple[Path, str, str]) -> None:
    site, text, stderr = evil_site
    yaml_file = site.parent.parent / "traceability" / "evil.yaml"
    for directive, needle in (
        ("raw", ".. raw:: html"),
        ("include", ".. include::"),
        ("literalinclude", ".. literalinclude::"),
        ("image", ".. image::"),
        ("meta", ".. meta::"),
        ("role", ".. role::"),
    ):
        line = line_of(text, needle)
        expected = f"{yaml_file}:{line}: WARNING: directive '{directive}' is not allowed in item text"
        assert expected in stderr, f"{expected!r} not in {stderr}"
    roles = line_of(text, ":rawhtml:`")
    assert f"{yaml_file}:{roles}: WARNING: role ':rawhtml:' is not allowed in item text" in stderr
    assert f"{yaml_file}:{roles}: WARNING: role ':download:' is not allowed in item text" in stderr
    csv = line_of(text, ".. csv-table::")
    assert f"{yaml_file}:{csv}: WARNING: csv-table :file: is not allowed in item text" in stderr
    link = line_of(text, "<javascript:alert('href')>")  # its own line, not the first of the text holding it
    assert link > line_of(text, "Before the payloads.")
    assert f"{yaml_file}:{link}: WARNING: link to 'javascript:alert('href')' removed from item text" in stderr


def test_uri_schemes() -> None:
    assert is_safe_uri("https://example.org/a")
    assert is_safe_uri("mailto:qa@example.org")
    assert is_safe_uri("other-page.html#SWR-1")
    assert is_safe_uri("#SWR-1")
    for uri in (
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
    ):
        assert not is_safe_uri(uri), uri


def test_prose_skips_the_parser_only_without_markup() -> None:
    assert is_prose("The software shall do it, within 5 s (at most).\n")
    assert is_prose("Functional: BLE 4.2; a plain colon.\n\nSecond paragraph.\n")
    for text in (
        "*a*",
        "`x`",
        "x_",
        "a\n  b",
        "- item",
        "1. item",
        "A. item",
        ".. raw:: html",
        "see https://x.org",
        "a@b.org",
        "[1]",
        "x|y",
        "12:30",
    ):
        assert not is_prose(text), text
    assert prose_paragraphs("one\nline  \n\n\ntwo\n") == ["one\nline", "two"]


@pytest.mark.slow
def test_maths_is_mathml_written_at_build_time(evil_site: tuple[Path, str, str]) -> None:
    """No page loads a maths script (the site stays offline) and no formula links anywhere."""
    site, text, stderr = evil_site
    everything = _all_output(site).lower()
    assert "mathjax" not in everything
    assert not re.search(r"https?://cdn", everything)
    requirements = site_page(site, "software-requirements.html")
    maths = requirements.select('math[xmlns="http://www.w3.org/1998/Math/MathML"]')
    assert requirements.select('math[display="inline"] > mrow > mfrac')
    assert requirements.select('math[display="block"] > mrow > munderover')
    assert "<script>alert('mtext')</script>" in [text_of(text) for text in requirements.select("math mtext")]
    assert maths and len(maths) == len(requirements.select("math"))
    assert not [formula for formula in maths if formula.select("[href]") or "javascript" in str(formula)]
    shown_as_written = [text_of(code) for code in requirements.select("span.qms-math-source > code")]
    assert "\\href{javascript:alert('math')}{click}" in shown_as_written
    assert "x^" in shown_as_written
    yaml_file = site.parent.parent / "traceability" / "evil.yaml"
    line = line_of(text, "Maths:")
    assert (
        f"{yaml_file}:{line}: WARNING: maths shown as written: \\href to 'javascript:alert('math')': "
        "maths may link only to http or https addresses [qms.math]"
    ) in stderr
    assert (
        f"{yaml_file}:{line}: WARNING: maths shown as written: LaTeX the maths renderer cannot read "
        "(MissingSuperScriptOrSubscriptError) [qms.math]"
    ) in stderr


def test_mathml_keeps_no_link_and_no_foreign_element() -> None:
    for latex in (r"\href{https://example.org}{x}", r"\style{color: red}{x}", r"\class{evil}{x}"):
        markup = mathml(latex, block=False)
        assert "href" not in markup and "style=" not in markup and "class=" not in markup, markup
    for latex in (r"\href{javascript:alert(1)}{x}", r"\url{file:///etc/passwd}", "x^", "{" * 3000):
        with pytest.raises(MathError):
            mathml(latex, block=True)


def test_links_in_maths_are_found_however_written() -> None:
    def targets(text: str) -> list[str]:
        return [link.target for link in unsafe_math_links(text)]

    assert targets(r"\href{javascript:alert(1)}{x}") == ["javascript:alert(1)"]
    assert targets(r"\href {java{}script:alert(1)}{x}") == ["javascript:alert(1)"]  # braces split the scheme
    assert targets("\\url{ jav\tascript:x }") == [" jav\tascript:x "]
    assert targets(r"\href{page.html}{x} \url{//evil.example}") == ["page.html", "//evil.example"]  # not web
    assert targets(r"\href j") == ["j"]
    assert targets(r"\href{https://example.org}{x} \url{HTTP://example.org} \hrefx{y}") == []
    assert targets(r"\\href{javascript:x}") == []  # a line break, then the letters href
    assert targets(r"\\\href{javascript:x}") == ["javascript:x"]


#: Directives whose options asked the renderer for gigabytes (a line each), and what is said of each.
BOMBS = {
    ".. hlist::\n   :columns: 3000000\n\n   * a\n   * b\n": "hlist :columns: 3000000 is out of range "
    "(item text allows 1 to 12)",
    ".. hlist::\n   :columns: 0\n\n   * a\n": "hlist :columns: 0 is out of range (item text allows 1 to 12)",
    ".. code-block:: text\n   :emphasize-lines: 1-30000000\n\n   one\n   two\n": "code-block :emphasize-lines: "
    "names line 30000000 (item text allows 1 to 2, the block's lines)",
    ".. code-block:: text\n   :emphasize-lines: 1-1000000000\n\n   one\n": "code-block :emphasize-lines: "
    "names line 1000000000 (item text allows 1 to 1, the block's lines)",
    ".. code-block:: text\n   :linenos:\n   :lineno-start: 1000000000000000\n\n   one\n": "code-block :lineno-start: "
    "1000000000000000 is out of range (item text allows 1 to 1000000000)",
    ".. code-block:: text\n   :dedent: 5000\n\n   one\n": "code-block :dedent: 5000 is out of range "
    "(item text allows 0 to 1000)",
    ".. code:: text\n   :number-lines: 99999999999\n\n   one\n": "code :number-lines: 99999999999 is out of range "
    "(item text allows 1 to 1000000000)",
    ".. list-table::\n   :header-rows: 500\n\n   * - a\n     - b\n": "list-table :header-rows: 500 is out of range "
    "(item text allows 0 to 100)",
    ".. list-table::\n   :widths: " + " ".join(["1"] * 200) + "\n\n   * - a\n": "list-table :widths: gives 200 "
    "columns (item text allows at most 100)",
    ".. csv-table::\n\n   " + "," * 2000 + "\n" + "   a\n" * 60: "csv-table of 61 rows and 2001 columns is too large "
    "(item text allows 10000 rows, 100 columns, 100000 cells)",
    ".. table::\n   :width: 99999999px\n\n   =  =\n   a  b\n   =  =\n": "table :width: 99999999px is too large "
    "(item text allows at most 10000)",
}


def _bomb_items() -> str:
    entries = [
        f"  - id: SWR-{900 + index}\n    title: Bomb {index}\n    derives_from: [SYS-001]\n    text: |\n"
        + textwrap.indent(text, "      ")
        for index, text in enumerate(BOMBS)
    ]
    return "kind: software_requirement\nitems:\n" + "".join(entries)


@pytest.mark.slow
def test_directive_options_are_bounded(tmp_path: Path) -> None:
    """Each option that could exhaust memory is refused at its line; the build runs in 3 GB of address space."""
    text = _bomb_items()
    root = new_project(tmp_path / "project", files={"traceability/bombs.yaml": text})
    command = [sys.executable, "-m", "qms", "build", "--project", str(root)]
    limit = 3 << 30
    completed = subprocess.run(
        command,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    yaml_file = root / "traceability" / "bombs.yaml"
    for bomb, message in BOMBS.items():
        line = line_of(text, bomb.splitlines()[0] + "\n" + textwrap.indent(bomb.splitlines()[1], "      "))
        assert f"{yaml_file}:{line}: WARNING: {message}; the directive is shown as written" in completed.stderr
    checked = invoke_qms("check", "--format", "json", cwd=root)
    findings = {(finding["line"], finding["message"]) for finding in json.loads(checked.stdout)["findings"]}
    for bomb, message in BOMBS.items():  # qms check reports the same, at the option's line
        if not bomb.startswith(".. csv-table::"):  # a table's size is known once its rows are read
            lines = bomb.splitlines()
            directive = line_of(text, lines[0] + "\n" + textwrap.indent(lines[1], "      "))
            option = next(index for index, line in enumerate(lines) if line.strip().startswith(message.split()[1]))
            assert (directive + option, message) in findings, message
    site = root / "_build" / "html"
    requirements = page(site, "software-requirements.html")
    assert ":columns: 3000000" in requirements  # shown as written, not dropped
    assert (site / "software-requirements.html").stat().st_size < 2_000_000
