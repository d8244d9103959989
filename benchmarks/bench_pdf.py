"""Time ``qms build --format pdf`` against ``qms build`` (HTML) on generated projects.

    python benchmarks/bench_pdf.py [--sizes 1000 10000] [--repeat 1] [--workdir DIR]

For each N, :mod:`generate` writes a project; then both builds run as the real command in a new
process, from clean: the HTML site, then the PDFs (which build the site afresh themselves and
print each document with Chromium). Figures are wall-clock and CPU seconds (with ``--repeat`` the
minimum), and the pages printed; the issue's target is the PDF within twice the HTML build.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import QMS_CONF, Timing, best, run
from generate import generate
from pypdf import PdfReader


def bench(root: Path, repeat: int) -> tuple[Timing, Timing, int]:
    """The clean HTML build, the PDF build, and the pages of the bound technical file."""
    (root / "conf.py").write_text(QMS_CONF, encoding="utf-8")
    html, pdf = [], []
    for _ in range(repeat):
        shutil.rmtree(root / "_build", ignore_errors=True)
        html.append(run([sys.executable, "-m", "qms", "build", "--project", str(root)], root))
        pdf.append(run([sys.executable, "-m", "qms", "build", "--format", "pdf", "--project", str(root)], root))
    pages = len(PdfReader(root / "_build" / "pdf" / "technical-file.pdf").pages)
    return best(html), best(pdf), pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    arguments = parser.parse_args()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qms-bench-pdf-"))
    print(f"{'items':>6} {'html wall':>10} {'html cpu':>9} {'pdf wall':>9} {'pdf cpu':>8} {'pdf/html':>8} {'pages':>6}")
    for size in arguments.sizes:
        root = generate(size, workdir / f"n{size}")
        html, pdf, pages = bench(root, arguments.repeat)
        ratio = pdf.wall / html.wall
        print(
            f"{size:>6} {html.wall:>10.1f} {html.cpu:>9.1f} {pdf.wall:>9.1f} {pdf.cpu:>8.1f} {ratio:>8.1f} {pages:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
