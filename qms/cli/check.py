"""``qms check``: the CI gate, and ``qms rule`` to explain a rule."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qms import atomic
from qms.checking import check_project, root_causes
from qms.cli.common import EXIT_FINDINGS, EXIT_OK, fail, load, output_file, project_option, say, writing
from qms.model import Severity
from qms.reporting import FORMATS, FORMATTERS, Summary, format_text
from qms.rules import RULES, ordered_rules
from qms.yamlfile import collection_paused


def _list_rules() -> str:
    lines = [f"{'code':<6}{'default':<9}{'classes':<9}{'name':<32}summary"]
    for code, registered in ordered_rules():
        classes = ",".join(registered.classes)
        lines.append(f"{code:<6}{registered.default.value:<9}{classes:<9}{registered.name:<32}{registered.summary}")
    return "\n".join(lines) + "\n"


@click.command()
@project_option
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also show the findings that follow from another (folded under their cause by default).",
)
@click.option(
    "--release",
    is_flag=True,
    help="A release check: every document must be approved (implied when HEAD carries the tag of device.version).",
)
@click.option(
    "--list-rules", is_flag=True, help="List every rule with its code, default severity and summary, then exit."
)
@click.option(
    "--results",
    "results",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JUnit XML result file (repeatable), in addition to the project's `evidence` globs.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read every item, record and result file afresh, neither reading nor writing the parse cache "
    "(`cache` in qms.yaml).",
)
def check(
    project_dir: Path | None,
    output_format: str,
    output: Path | None,
    strict: bool,
    everything: bool,
    release: bool,
    list_rules: bool,
    results: tuple[Path, ...],
    no_cache: bool,
) -> None:
    """Check the project for gaps and report every finding (exit 1 if any error)."""
    if list_rules:
        click.echo(_list_rules(), nl=False)
        return
    project = load(project_dir, cache=not no_cache)
    output_file(output, project)
    for path in results:
        if not path.is_file():
            fail(f"results file {path} does not exist")
    with collection_paused():  # as loading: many objects, no cycles worth collecting, in a process that ends
        findings = check_project(project, results=results, release=release, cache=not no_cache)
        folded = root_causes(project, findings)
    color = output is None and sys.stdout.isatty()
    if output_format == "text":
        report = format_text(project, folded, color=color, everything=everything, project_dir=project_dir)
    else:
        report = FORMATTERS[output_format](project, folded)
    if output is not None:
        with writing(output, f"the report to {output}"):
            atomic.write_text(output, report)
        click.echo(Summary.of(project, folded).line())
    elif output_format == "text" and color:
        click.echo(report, nl=False)  # user data in it is escaped already (format_text); the colours stay
    else:
        say(report, nl=False)
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    raise SystemExit(EXIT_FINDINGS if any(f.severity in failing for f in findings) else EXIT_OK)


@click.command()
@click.argument("code")
@project_option
def rule(code: str, project_dir: Path | None) -> None:
    """Explain one rule: what it finds, why it matters, how to fix it (with --project, its severity there)."""
    registered = RULES.get(code.upper())
    if registered is None:
        fail(f"no rule {code}; `qms check --list-rules` lists them")
        return
    classes = ", ".join(registered.classes)
    click.echo(
        f"{registered.code} {registered.name} ({registered.group})\n"
        f"{registered.summary}\n\n{registered.explanation}\n\n"
        f"Default severity: {registered.default.value} (software safety classes {classes}).\n"
        f"Change it in qms.yaml:  rules: {{{registered.code}: warning}}"
    )
    if project_dir is not None:
        project = load(project_dir)
        overridden = " (set in qms.yaml)" if registered.code in project.config.rules else ""
        severity = registered.severity_for(project)
        say(f"In {project.root} (class {project.config.safety_class}): {severity.value}{overridden}.")


commands = (check, rule)
