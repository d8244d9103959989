"""Loading the project once per build, and the queries that need the document set or clause table.

The loaded :class:`~qms.sphinx.views.BuildData` rides on the Sphinx environment in a holder that
pickles to nothing: the environment is saved between builds, the project is read fresh each time.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError

from qms.checking import check_context
from qms.clauses import IEC62304_EDITIONS, ClauseTableError, load_clause_table
from qms.compliance import clause_result
from qms.config import PROJECT_FILE
from qms.gitinfo import document_control, uncommitted
from qms.project import load_project
from qms.rules import ordered_rules, run_rules
from qms.sphinx.documents import DOCUMENTS, document_id, document_spec
from qms.sphinx.views import BuildData, clause_row, query

ATTRIBUTE = "qms_build"


class _Holder:
    """Keeps the build's data on the environment; pickles empty, so the next build loads afresh."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: BuildData | None = None

    def __reduce__(self) -> tuple[type[_Holder], tuple[()]]:
        return (_Holder, ())


def build_data(env: BuildEnvironment) -> BuildData:
    """The project data of the current build."""
    holder = getattr(env, ATTRIBUTE, None)
    if holder is None or holder.data is None:
        raise ExtensionError("qms: the project is not loaded; is 'qms.sphinx' in the extensions of conf.py?")
    data: BuildData = holder.data
    return data


def project_root(confdir: Path | None, srcdir: Path, setting: str) -> Path:
    """The folder holding ``qms.yaml``: ``qms_project`` relative to conf.py's folder."""
    base = confdir if confdir is not None else srcdir
    return (base / setting).resolve()


def load_build_data(env: BuildEnvironment, root: Path, *, edition: str, prefix: str, clause_table: str) -> BuildData:
    """Load the project, check it, read its evidence and git state; keep the result on ``env``."""
    if edition not in IEC62304_EDITIONS:
        raise ExtensionError(f"qms_iec62304_edition = {edition!r}: use one of {', '.join(IEC62304_EDITIONS)}")
    if not (root / PROJECT_FILE).is_file():
        raise ExtensionError(
            f"qms: no {PROJECT_FILE} in {root}; set qms_project in conf.py to the folder holding it "
            "(relative to conf.py), or run `qms init` there"
        )
    try:
        clauses = load_clause_table((root / clause_table) if clause_table else None)
    except (ClauseTableError, OSError) as error:
        raise ExtensionError(f"qms: clause table: {error}") from None
    project = load_project(root)
    context = check_context(project)
    findings = tuple(run_rules(context))
    evidence = context.evidence
    if evidence is not None and not evidence.files:
        evidence = None  # no result file read: the verification report says so
    records = context.records
    published = [
        *(evidence.files if evidence is not None else ()),
        *(records.files if records is not None else ()),
        *(
            attachment.path
            for record in (records.records if records is not None else ())
            for attachment in record.attachments
        ),
    ]
    data = BuildData(
        project=project,
        findings=findings,
        control=document_control(root),
        evidence=evidence,
        statuses=context.statuses,
        records=records,
        uncommitted=uncommitted(root, published),
        clauses=clauses,
        edition=edition,
        document_prefix=prefix,
    )
    holder = getattr(env, ATTRIBUTE, None)
    if not isinstance(holder, _Holder):
        holder = _Holder()
        setattr(env, ATTRIBUTE, holder)
    holder.data = data
    return data


# ------------------------------------------------------------------------------ queries


@query("documents")
def documents_view(data: BuildData) -> dict[str, Any]:
    return {
        "rows": [
            [spec.docname, document_id(spec, data.document_prefix), spec.title, spec.purpose, spec.clauses]
            for spec in DOCUMENTS
        ]
    }


@query("device")
def device_view(data: BuildData) -> dict[str, Any]:
    config = data.project.config
    device = config.device
    facts = [["Device", device.name]]
    if device.manufacturer:
        facts.append(["Manufacturer", device.manufacturer])
    facts.append(["Version", device.version or "not stated in qms.yaml"])
    facts.append(["Software safety class", f"{device.software_safety_class} (IEC 62304:{data.edition})"])
    return {
        "facts": facts,
        "name": device.name,
        "version": device.version,
        "safety_class": device.software_safety_class,
        "intended_use": device.intended_use,
        "intended_use_line": config.location(("device", "intended_use")).line + 1,
    }


def _standard_name(data: BuildData, standard: str) -> str:
    assert data.clauses is not None
    try:
        return data.clauses.standard(standard).name
    except StopIteration:
        raise ValueError(
            f"unknown standard {standard!r}; standards: {', '.join(s.id for s in data.clauses.standards)}"
        ) from None


@query("clauses")
def clauses_view(data: BuildData, standard: str, numbers: str) -> dict[str, Any]:
    """Some clauses of a standard with their applicability to the device's class."""
    assert data.clauses is not None
    name = _standard_name(data, standard)
    safety_class = data.project.config.safety_class
    rows = []
    for number in numbers.split():
        clause = data.clauses.find(standard, number)
        if clause is None:
            raise ValueError(f"{name} has no clause {number} in the clause table")
        rows.append(clause_row(clause, safety_class, data.edition))
    return {"standard": name, "edition": data.edition, "safety_class": safety_class, "clauses": rows}


@query("clause-index")
def clause_index_view(data: BuildData, standard: str) -> dict[str, Any]:
    """Every clause of a standard asking for a record, whether it applies, and the sections holding it."""
    assert data.clauses is not None
    name = _standard_name(data, standard)
    safety_class = data.project.config.safety_class
    rows = []
    findings = Counter(finding.rule for finding in data.findings)
    for clause in sorted(data.clauses.of(standard), key=lambda c: c.sort_key):
        row = clause_row(clause, safety_class, data.edition)
        places = []
        for place in clause.where:
            docname, _, label = place.partition("#")
            spec = document_spec(docname)
            places.append([docname, spec.title if spec else docname, label])
        row["where"] = places
        if clause.classes_in(data.edition) is not None:  # computed from the records, as `qms clauses`
            result = clause_result(data.project, clause, findings, data.edition)
            row["status"], row["why"] = result.status.value, result.why
        rows.append(row)
    return {"standard": name, "edition": data.edition, "safety_class": safety_class, "clauses": rows}


@query("rules")
def rules_view(data: BuildData) -> dict[str, Any]:
    return {"rows": [[code, rule.summary, str(rule.severity_for(data.project))] for code, rule in ordered_rules()]}


@query("release-changes")
def release_changes(data: BuildData, base: str) -> dict[str, Any]:
    """Items, links and risk classes changed since the previous release (``release: previous``)."""
    from qms.diff import DiffError, diff_json, release_diff

    try:
        changes = diff_json(release_diff(data.project.root, base))
    except DiffError as error:
        return {"error": str(error)}
    return changes
