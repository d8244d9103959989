"""Maths on the site as MathML written at build time: no script, no network, no link out of a formula.

Browsers render MathML themselves, so a page with maths stays a static page that works offline
(Sphinx's default renderer would load MathJax from a public CDN). LaTeX goes through
``latex2mathml``; what comes out is rebuilt element by element from an allow-list of MathML
elements and attributes, with every text escaped. ``\\href`` and ``\\url`` never become links:
a link to anything but a web address is refused (rule Q010) and the formula is shown as written.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any
from xml.etree.ElementTree import Element

from docutils import nodes
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from qms.markup import unsafe_math_links
from qms.sphinx.build_warnings import BuildWarning, warn

logger = logging.getLogger(__name__)

#: The MathML elements a formula may hold (MathML Core, plus what latex2mathml writes).
ELEMENTS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot", "mstyle",
        "merror", "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder", "mover",
        "munderover", "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd", "mlabeledtr",
        "semantics", "annotation", "mfenced",
    }
)  # fmt: skip

#: The attributes kept: presentation only (no ``href``, no event handlers, no foreign namespaces).
ATTRIBUTES = frozenset(
    {
        "xmlns", "display", "mathvariant", "mathsize", "mathcolor", "mathbackground", "stretchy", "fence",
        "separator", "lspace", "rspace", "minsize", "maxsize", "symmetric", "largeop", "movablelimits",
        "accent", "accentunder", "form", "width", "height", "depth", "linethickness", "columnalign",
        "columnlines", "columnspacing", "rowalign", "rowlines", "rowspacing", "frame", "framespacing",
        "notation", "displaystyle", "scriptlevel", "open", "close", "separators", "columnspan", "rowspan",
        "equalrows", "equalcolumns", "align", "encoding",
    }
)  # fmt: skip

#: Character references latex2mathml writes into element text (``&#x0003C;``); nothing else is unescaped.
_REFERENCE = re.compile(r"&amp;(#x[0-9A-Fa-f]{1,6};|#[0-9]{1,7};)")


class MathError(ValueError):
    """LaTeX that cannot be shown as MathML: it does not parse, or it holds what a page may not."""


def mathml(latex: str, *, block: bool) -> str:
    """The MathML of one LaTeX formula; raises :class:`MathError` if it cannot be shown safely."""
    refused = unsafe_math_links(latex)
    if refused:
        link = refused[0]
        raise MathError(f"\\{link.command} to '{link.target}': maths may link only to http or https addresses")
    from latex2mathml.converter import convert_to_element  # loaded by the first page with maths

    try:
        return _markup(convert_to_element(latex, display="block" if block else "inline"))
    except MathError:
        raise
    except Exception as error:  # latex2mathml raises bare exceptions of many kinds; deep nesting recurses
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise MathError(f"LaTeX the maths renderer cannot read ({reason})") from error


def _markup(element: Element) -> str:
    tag = element.tag
    if tag not in ELEMENTS:
        raise MathError(f"LaTeX the maths renderer turns into <{tag}>, which a page may not hold")
    attributes = "".join(
        f' {name}="{_text(str(value))}"' for name, value in element.attrib.items() if name in ATTRIBUTES
    )
    inner = _text(element.text or "") + "".join(_markup(child) + _text(child.tail or "") for child in element)
    return f"<{tag}{attributes}>{inner}</{tag}>"


def _text(text: str) -> str:
    return _REFERENCE.sub(r"&\1", escape(text, quote=True))


def _fallback(translator: Any, node: nodes.Element, latex: str, error: MathError, tag: str) -> None:
    """Warn at the formula's place and show the LaTeX as written, as code."""
    warn(logger, BuildWarning.MATH, f"maths shown as written: {error}", node)
    translator.body.append(f'<{tag} class="qms-math-source"><code>{escape(latex)}</code></{tag}>')


def visit_math(translator: Any, node: nodes.math) -> None:
    """Inline maths (``:math:``) as a MathML ``<math>`` element."""
    latex = node.astext()
    try:
        translator.body.append(mathml(latex, block=False))
    except MathError as error:
        _fallback(translator, node, latex, error, "span")
    raise nodes.SkipNode


def visit_math_block(translator: Any, node: nodes.math_block) -> None:
    """A maths block: one ``<math display="block">`` per formula (they are separated by blank lines)."""
    translator.body.append(translator.starttag(node, "div", CLASS="math qms-math"))
    if node["number"]:
        number = get_node_equation_number(translator, node)
        translator.body.append(f'<span class="eqno">({number})')
        translator.add_permalink_ref(node, _("Link to this equation"))
        translator.body.append("</span>")
    latex = node.astext()
    formulas = [formula for formula in latex.split("\n\n") if formula.strip()]
    try:
        translator.body.append("".join(mathml(formula, block=True) for formula in formulas))
    except MathError as error:
        _fallback(translator, node, latex, error, "pre")
    translator.body.append("</div>\n")
    raise nodes.SkipNode
