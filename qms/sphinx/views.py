"""What each page element shows, as plain data computed from the loaded project.

Every directive of the extension asks one of the queries below for its data and renders only
that data. The data is JSON-like (tuples, dicts, strings, numbers), so its digest tells whether
a page must be read again after the project changed: same data, same page. Nothing here
imports Sphinx.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qms.clauses import DEFAULT_EDITION, Clause, ClauseTable
from qms.gitinfo import DocumentControl
from qms.matrix import DESIGN, RISK, Chain, natural_key, parse_chain, passed_by, trace_matrix
from qms.model import Finding, Item, Project, Severity
from qms.risk import RiskClass, hazard_risk
from qms.rules import RULES
from qms.schema import EXTENSION_PREFIX, KIND_ORDER, KINDS, FieldSpec, FieldType, link_spec
from qms.sphinx.audit import audit_view
from qms.sphinx.filters import COMPUTED, Condition, field_values, is_computed, matching, parse_filter

#: A query: its name, then its arguments (all strings, so it can be stored and compared).
Query = tuple[str, ...]


@dataclass
class BuildData:
    """The project as one build sees it: loaded once, with its findings, evidence and git state.

    ``cache`` keeps each query's answer for the rest of the build (the project does not change
    while Sphinx runs), so a query asked by many pages is computed once.
    """

    project: Project
    findings: tuple[Finding, ...]
    control: DocumentControl
    evidence: Any = None  # qms.evidence.Evidence when the project has result files
    statuses: Any = None  # qms.status.StatusIndex: every item's verification status
    records: Any = None  # qms.records.RecordSet: the execution records read
    #: result files, record files and attachments that differ from the last commit (or are not in git)
    uncommitted: frozenset[str] = frozenset()
    clauses: ClauseTable | None = None
    edition: str = DEFAULT_EDITION
    document_prefix: str = ""
    cache: dict[Query, Any] = field(default_factory=dict)
    #: the Excel workbook being written beside the build (qms.sphinx.downloads)
    workbook_job: Any = None
    digests: dict[Query, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_item: dict[str, list[Finding]] = {}
        for finding in self.findings:
            if finding.item:
                by_item.setdefault(finding.item, []).append(finding)
        self.findings_by_item = {item: tuple(found) for item, found in by_item.items()}

    def answer(self, query: Query) -> Any:
        """The data for ``query`` (computed once per build)."""
        if query not in self.cache:
            function = QUERIES.get(query[0])
            if function is None:
                raise KeyError(f"unknown query {query[0]!r}")
            self.cache[query] = function(self, *query[1:])
        return self.cache[query]

    def digest(self, query: Query) -> str:
        """A short fingerprint of a query's data, to notice when a page needs reading again.

        Queries that are costly to answer (matrices, tables) are fingerprinted by their inputs
        instead: the same inputs give the same answer, and the inputs are cheap to hash.
        """
        if query not in self.digests:
            inputs = INPUTS.get(query[0])
            try:
                data = [list(query), inputs(self, *query[1:])] if inputs else self.answer(query)
            except (KeyError, TypeError, ValueError):
                data = None  # the query became invalid: the page must be read again to report it
            self.digests[query] = digest(data)
        return self.digests[query]

    @functools.cached_property
    def relation_index(self) -> dict[str, list[tuple[bool, str, Item]]]:
        """Every item's neighbours as (up the trace?, the link's meaning read from the item, neighbour).

        The same relations as :func:`qms.trace.relations` (forward links first), found for all
        items in one pass over the links.
        """
        project = self.project
        forward: dict[str, list[tuple[bool, str, Item]]] = {}
        backward: dict[str, list[tuple[bool, str, Item]]] = {}
        for link in project.links:
            source, target = project.items[link.source], project.items[link.target]
            spec = link_spec(source.kind, link.field)
            if spec is None:
                continue
            forward.setdefault(source.id, []).append((spec.upward, spec.label, target))
            backward.setdefault(target.id, []).append((not spec.upward, spec.reverse, source))
        return {item_id: forward.get(item_id, []) + backward.get(item_id, []) for item_id in {*forward, *backward}}

    @functools.cached_property
    def skeleton(self) -> str:
        """Fingerprint of what matrices show: every item's id, kind and title, every link, every outcome."""
        items = [[item.id, item.kind, item.title, self.verdict(item.id)] for item in self.project]
        links = [[link.source, link.field, link.target] for link in self.project.links]
        return digest([items, links])

    @functools.cached_property
    def findings_digest(self) -> str:
        return digest(
            [
                [finding.rule, str(finding.severity), finding.message, str(finding.location), finding.item]
                for finding in self.findings
            ]
        )

    def kind_content(self, kinds: tuple[str, ...]) -> str:
        """Fingerprint of everything the items of ``kinds`` hold, where they are written included."""
        key = ("kind-content", *kinds)
        if key not in self.digests:
            content = [
                [item.id, item.file, item.location().line, dict(item.fields)] for item in self.project.of_kind(*kinds)
            ]
            self.digests[key] = digest(content)
        return self.digests[key]

    # ---------------------------------------------------------------- shared look-ups

    def verdict(self, item_id: str) -> str | None:
        """The verification status of an item (:mod:`qms.status`); None for kinds that carry none."""
        if self.statuses is None:
            return None
        found = self.statuses.of(item_id)
        return found.status.value if found is not None else None


def digest(data: Any) -> str:
    """Fingerprint of JSON-like data."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


QUERIES: dict[str, Callable[..., Any]] = {}
#: For costly queries: a fingerprint of their inputs, used instead of their answer's digest.
INPUTS: dict[str, Callable[..., Any]] = {}


def query(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as the answer to the query ``name``."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        QUERIES[name] = function
        return function

    return register


def kind_label(kind: str) -> str:
    """``software_requirement`` -> ``software requirement``."""
    return "SOUP item" if kind == "soup" else kind.replace("_", " ")


def field_label(name: str) -> str:
    """``sequence_of_events`` -> ``Sequence of events``."""
    label = name.removeprefix("x-").replace("_", " ").replace("-", " ")
    return label[:1].upper() + label[1:]


def natural_sorted(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda item: natural_key(item.id))


def text_line(item: Item, name: str) -> int:
    """The line where a text field's content starts (the line after ``|`` for a block scalar)."""
    line = item.location((name,)).line
    value = item.get(name)
    is_block = isinstance(value, str) and value.endswith("\n")
    return line + 1 if is_block and line else max(line, 1)


def clause_row(clause: Clause, safety_class: str, edition: str) -> dict[str, Any]:
    classes = clause.classes_in(edition) if clause.standard == "iec62304" else "ABC"
    if classes is None:
        status = f"not in {edition}"
    elif safety_class in classes:
        status = "required"
    else:
        status = "not required"
    return {
        "clause": clause.clause,
        "topic": clause.topic,
        "record": clause.record,
        "note": clause.note,
        "classes": classes or "",
        "status": status,
    }


# ------------------------------------------------------------------------------ one item

#: Fields shown as the item's body, before the field table.
BODY_FIELDS = ("text", "description", "hazard")


def _risk(data: BuildData, severity: Any, probability: Any) -> dict[str, Any] | None:
    policy = data.project.config.risk_policy
    if not isinstance(severity, int) or not isinstance(probability, int):
        return None
    risk_class = policy.classify(severity, probability)
    return {
        "severity": f"{policy.severity_name(severity)} ({severity})",
        "probability": f"{policy.probability_name(probability)} ({probability})",
        "class": risk_class.value if risk_class else "?",
        "label": risk_class.label if risk_class else "outside the policy's scales",
    }


def _field_entry(data: BuildData, item: Item, spec: FieldSpec | None, name: str, value: Any) -> dict[str, Any]:
    """One row of an item's field table: a label and a typed value."""
    policy = data.project.config.risk_policy
    entry: dict[str, Any] = {"label": field_label(name)}
    kind = spec.type if spec is not None else None
    if kind is FieldType.TEXT:
        entry.update(type="text", value=value, line=text_line(item, name))
    elif kind is FieldType.TEXTS:
        entry.update(
            type="steps", value=list(value), lines=[item.location((name, index)).line for index in range(len(value))]
        )
    elif kind is FieldType.STRINGS:
        entry.update(type="list", value=list(value))
    elif kind is FieldType.SEVERITY and isinstance(value, int):
        entry.update(type="plain", value=f"{policy.severity_name(value)} ({value})")
    elif kind is FieldType.PROBABILITY and isinstance(value, int):
        entry.update(type="plain", value=f"{policy.probability_name(value)} ({value})")
    elif kind is FieldType.RESIDUAL and isinstance(value, Mapping):
        entry.update(type="risk", value=_risk(data, value.get("severity"), value.get("probability")))
    elif kind is FieldType.ANOMALY_REVIEWS:
        entry.update(
            type="anomalies",
            value=[[str(review.get("ref", "")), str(review.get("evaluation", ""))] for review in value],
            lines=[item.location((name, index, "evaluation")).line for index in range(len(value))],
        )
    elif kind is FieldType.CHOICE:
        entry.update(type="plain", value=str(value).replace("_", " "))
    elif name == "anomaly_list_url" and isinstance(value, str):
        entry.update(type="url", value=value)
    elif name.startswith(EXTENSION_PREFIX) and isinstance(value, str):  # text as written: paragraphs, markup
        entry.update(type="text", value=value, line=text_line(item, name))
    elif (
        name.startswith(EXTENSION_PREFIX)
        and isinstance(value, (list, tuple))
        and all(isinstance(v, str) for v in value)
    ):
        entry.update(type="steps", value=list(value), lines=[item.location((name, i)).line for i in range(len(value))])
    elif isinstance(value, str):
        entry.update(type="plain", value=value)
    else:  # an x- field holding a mapping or nested lists: shown as written
        entry.update(type="plain", value=json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    return entry


def _badges(data: BuildData, item: Item) -> list[list[str]]:
    """Short facts shown under an item's heading: [text, style]."""
    badges = [[kind_label(item.kind), "kind"]]
    if item.get("control_type"):
        badges.append([f"risk control: {str(item.get('control_type')).replace('_', ' ')}", "control"])
    if item.get("safety_class"):
        badges.append([f"class {item.get('safety_class')}", "class"])
    if item.kind == "test":
        badges += [[f"{name} {item.get(name)}", "method"] for name in ("method", "level") if item.get(name)]
    if item.kind == "anomaly" and item.get("status"):
        badges.append([f"{item.get('status')}", f"status-{item.get('status')}"])
    if item.kind == "hazard":
        risk = hazard_risk(data.project.config.risk_policy, item)
        if risk.initial:
            badges.append([f"initial risk {risk.initial.risk_class.value}", f"risk-{risk.initial.risk_class.value}"])
        if risk.residual:
            badges.append([f"residual risk {risk.residual.risk_class.value}", f"risk-{risk.residual.risk_class.value}"])
    found = data.findings_by_item.get(item.id, ())
    if found:
        count = len(found)
        badges.append([f"{count} open finding{'s' if count > 1 else ''}", "finding"])
    return badges


def _relations(data: BuildData, item: Item) -> list[dict[str, Any]]:
    """The item's links in both directions, grouped by their meaning: up the trace first."""
    groups: dict[tuple[bool, str], list[list[str | None]]] = {}
    for upward, label, neighbour in data.relation_index.get(item.id, ()):
        key = (not upward, label)
        entry = [neighbour.id, neighbour.title, neighbour.kind, data.verdict(neighbour.id)]
        members = groups.setdefault(key, [])
        if entry not in members:
            members.append(entry)
    ordered = sorted(groups.items(), key=lambda group: group[0][0])  # stable: keeps field order within a side
    return [{"label": label, "upward": not downward, "items": members} for (downward, label), members in ordered]


#: How a commit says it ran on a tree with uncommitted changes: the pytest plugin's and git describe's.
DIRTY_SUFFIXES = ("+dirty", "-dirty")


def _revision(commit: str | None) -> str:
    """A result's commit, short; a dirty tree (see :data:`DIRTY_SUFFIXES`) is said so."""
    if not commit:
        return ""
    for suffix in DIRTY_SUFFIXES:
        if commit.endswith(suffix):
            return f"{commit.removesuffix(suffix)[:12]} (uncommitted changes in the tree it ran on)"
    return commit[:12]


def _verification(data: BuildData, item: Item) -> dict[str, Any] | None:
    """What an item's status rests on: each result or record (case, file, time, version, who), and why
    the status is not passed."""
    found = data.statuses.of(item.id) if data.statuses is not None else None
    if found is None:
        return None
    published = {row[0]: row[1] for row in data.answer(("evidence-files",))["files"] if row[3]}
    results = [
        {
            "test": result.test,
            "case": result.case,
            "record": result.record,
            "source": result.source,
            "line": result.line,
            "download": published.get(result.source, ""),
            "outcome": result.outcome.value,
            "at": result.at or "",
            "by": result.by or "",
            "version": result.version or "",
            "commit": _revision(result.commit),
            "note": result.note,
            "message": result.message,
            "stale": result.stale.summary if result.stale is not None else "",
            "uncommitted": result.source in data.uncommitted,
        }
        for result in found.results
    ]
    return {"status": found.status.value, "reasons": list(found.reasons), "results": results}


@query("item")
def item_view(data: BuildData, item_id: str) -> dict[str, Any] | None:
    """Everything an item's block shows: fields, badges, links both ways, findings, evidence."""
    item = data.project.items.get(item_id)
    if item is None:
        return None
    spec = KINDS.get(item.kind)
    names = [name for name in (spec.field_names if spec else ()) if name in item.fields]
    names += [name for name in item.fields if name not in names]
    body: list[Any] = []
    fields: list[Any] = []
    for name in names:
        field_spec = spec.field(name) if spec else None
        if name == "title" or (field_spec is not None and field_spec.is_link):
            continue
        if item.kind == "hazard" and name in ("severity", "probability"):
            continue  # shown together as the initial risk
        entry = _field_entry(data, item, field_spec, name, item.fields[name])
        (body if name in BODY_FIELDS and entry["type"] == "text" else fields).append(entry)
    if item.kind == "hazard":
        initial = _risk(data, item.get("severity"), item.get("probability"))
        if initial is not None:
            fields.insert(0, {"label": "Initial risk", "type": "risk", "value": initial})
    location = item.location()
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "file": item.file,
        "line": location.line,
        "badges": _badges(data, item),
        "status": data.verdict(item.id),
        "body": body,
        "fields": fields,
        "relations": _relations(data, item),
        "verification": _verification(data, item),
        "findings": [_finding_row(finding) for finding in data.findings_by_item.get(item.id, ())],
        "audit": audit_view(data, item.id),
    }


def _finding_row(finding: Finding) -> list[str]:
    return [finding.rule, str(finding.severity), finding.message, str(finding.location), finding.item or ""]


@query("titles")
def item_titles(data: BuildData) -> dict[str, list[str]]:
    """Every item's title and kind (link tooltips and the domain's object list)."""
    return {item.id: [item.title, item.kind] for item in data.project}


# ------------------------------------------------------------------------------ tables


def _column_values(data: BuildData, kinds: tuple[str, ...], item: Item, name: str) -> list[str]:
    """An item's values of a column for filtering: computed columns as the table shows them."""
    if not is_computed(name, kinds):
        return field_values(item, name)
    if name == "status":
        status = data.verdict(item.id)
        return [status] if status else []
    if name == "findings":
        return [finding.rule for finding in data.findings_by_item.get(item.id, ())]
    if name in ("risk", "residual_risk"):
        risk = hazard_risk(data.project.config.risk_policy, item)
        estimate = risk.initial if name == "risk" else risk.residual
        return [estimate.risk_class.value] if estimate else []
    return field_values(item, name)


@functools.cache
def _link_column(kinds: tuple[str, ...], name: str) -> tuple[str, FieldSpec] | None:
    """A column naming a link field (forward) or a link's reverse label (``verified_by``)."""
    for kind in kinds:
        spec = KINDS.get(kind)
        found = spec.field(name) if spec else None
        if found is not None and found.is_link:
            return ("forward", found)
    wanted = name.replace("_", " ")
    for spec in KINDS.values():
        for field_spec in spec.link_fields:
            if field_spec.reverse == wanted:
                return ("reverse", field_spec)
    return None


def column_names(kinds: tuple[str, ...]) -> set[str]:
    names = set(COMPUTED)
    for kind in kinds:
        names.update(KINDS[kind].field_names)
    for spec in KINDS.values():
        names.update(field_spec.reverse.replace(" ", "_") for field_spec in spec.link_fields)
    return names


def _cell(data: BuildData, item: Item, column: str, kinds: tuple[str, ...]) -> list[Any]:
    project = data.project
    if column == "id":
        return ["item", item.id, item.title]
    if column in ("title", "kind", "file"):
        return ["text", kind_label(item.kind) if column == "kind" else getattr(item, column)]
    if column == "status" and is_computed(column, kinds):
        status = data.verdict(item.id)
        return ["status", item.id, status] if status else ["text", ""]
    if column == "findings":
        return ["text", ", ".join(finding.rule for finding in data.findings_by_item.get(item.id, ()))]
    if column in ("risk", "residual_risk"):
        risk = hazard_risk(project.config.risk_policy, item)
        estimate = risk.initial if column == "risk" else risk.residual
        return ["risk", estimate.risk_class.value, estimate.risk_class.label] if estimate else ["empty"]
    link = _link_column(kinds, column)
    if link is not None:
        direction, spec = link
        if direction == "forward":
            targets = [project.items[target] for target in item.links(column) if target in project.items]
        else:
            targets = [project.items[link.source] for link in project.incoming(item.id, spec.name)]
        unique = {target.id: target for target in targets}
        if unique:
            return ["items", [[target.id, target.title] for target in natural_sorted(unique.values())]]
        # nothing verifies, implements or uses it: a gap; it links to nothing itself: just empty
        return ["empty"] if direction == "reverse" else NONE
    column_spec = KINDS[item.kind].field(column) if item.kind in KINDS else None
    value = item.get(column)
    if value is None:
        return NONE
    return [
        "text",
        _field_entry(data, item, column_spec, column, value)["value"]
        if column_spec and column_spec.type is not FieldType.TEXT
        else _plain(value),
    ]


#: An empty cell of an item table that is no gap in the trace.
NONE = ["muted", "—"]


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(entry) for entry in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {entry}" for key, entry in value.items())
    return " ".join(str(value).split())


def table_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.replace("|", ",").split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; kinds: {', '.join(KINDS)}")
    return kinds or KIND_ORDER


def table_query(
    kinds_text: str, filter_text: str, columns_text: str
) -> tuple[tuple[str, ...], tuple[Condition, ...], list[str]]:
    """A table's kinds, filter and columns, checked against the schema (ValueError names the problem)."""
    kinds = table_kinds(kinds_text)
    columns = [column.strip() for column in columns_text.split(",") if column.strip()] or ["id", "title"]
    known = column_names(kinds)
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ValueError(f"unknown column {', '.join(unknown)}; columns: {', '.join(sorted(known))}")
    return kinds, parse_filter(filter_text, kinds), columns


@query("table")
def item_table(data: BuildData, kinds_text: str, filter_text: str, columns_text: str) -> dict[str, Any]:
    """A filtered table of items: one row per item, in id order, the columns asked for."""
    kinds, conditions, columns = table_query(kinds_text, filter_text, columns_text)
    items = matching(data.project.of_kind(*kinds), conditions, functools.partial(_column_values, data, kinds))
    rows = [[_cell(data, item, column, kinds) for column in columns] for item in natural_sorted(items)]
    headers = [_header(column, kinds) for column in columns]
    return {"columns": headers, "rows": rows}


def _header(column: str, kinds: tuple[str, ...]) -> str:
    if not is_computed(column, kinds):
        return field_label(column)
    return {"id": "Id", "status": "Verification", "risk": "Initial risk", "residual_risk": "Residual risk"}.get(
        column, field_label(column)
    )


# ------------------------------------------------------------------------------ matrices

#: Named chains for the matrix directive (any other chain is written out as kinds).
CHAINS = {
    "design": DESIGN,
    "risk": RISK,
    "validation": Chain("Validation", parse_chain("need,test")),
    "inputs": Chain("Design inputs", parse_chain("need,system_requirement,software_requirement")),
    "verification": Chain("Verification", parse_chain("system_requirement|software_requirement,test")),
    "architecture": Chain("Architecture", parse_chain("software_requirement,software_item,soup")),
}


#: Matrices up to this many rows show each item's title next to its id.
MATRIX_TITLES_UP_TO = 1500


@query("matrix")
def matrix_view(data: BuildData, chain_text: str, results: str = "yes") -> dict[str, Any]:
    """The traceability matrix along a chain of kinds, with the tests' evidence when there is any,
    the findings of the links a row shows (Q006), and what was left out past the page's row limit."""
    chain = CHAINS.get(chain_text) or Chain("Traceability matrix", parse_chain(chain_text))
    matrix = trace_matrix(data.project, chain)
    with_results = results == "yes" and data.statuses is not None and "test" in chain.columns[-1]
    headers = list(matrix.headers) + (["Result"] if with_results else []) + (["Findings"] if matrix.findings else [])
    titles = len(matrix.rows) <= MATRIX_TITLES_UP_TO  # beyond, titles are tooltips: the page stays light
    rows = []
    for index, row in enumerate(matrix.rows):
        between = passed_by(row)
        cells: list[list[Any]] = [
            ["item", item.id, item.title, titles] if item else ["muted", "→"] if column in between else ["empty"]
            for column, item in enumerate(row)
        ]
        if with_results:
            last = row[-1]
            outcome = data.verdict(last.id) if last is not None else None
            cells.append(["status", last.id, outcome] if last is not None and outcome else ["empty"])
        if matrix.findings:
            found = [_link_finding_cell(finding) for finding in matrix.findings[index]]
            cells.append(["lines", found] if found else ["text", ""])
        rows.append(cells)
    return {
        "columns": headers,
        "rows": rows,
        "kinds": [list(column) for column in chain.columns],
        "cuts": [str(cut) for cut in matrix.cuts],
    }


def _link_finding_cell(finding: Finding) -> list[Any]:
    """A finding of a link a matrix row shows: its code as a badge, then what is wrong."""
    return ["join", [["badge", finding.rule, "finding"], ["text", f" {finding.item}: {finding.message}"]]]


# ------------------------------------------------------------------------------ risk


@query("risk-register")
def risk_register(data: BuildData) -> dict[str, Any]:
    """One row per hazard: harm, initial risk, controls with their evidence, residual risk."""
    policy = data.project.config.risk_policy
    rows = []
    for hazard in data.project.of_kind("hazard"):
        risk = hazard_risk(policy, hazard)
        controls = [data.project.items[t] for t in hazard.links("controls") if t in data.project.items]
        rows.append(
            [
                ["item", hazard.id, hazard.title],
                ["text", _plain(hazard.get("harm", ""))],
                _estimate_cell(policy, risk.initial),
                _controls_cell(data, controls),
                _controls_verified(data, controls),
                _estimate_cell(policy, risk.residual),
            ]
        )
    columns = ["Hazard", "Harm", "Initial risk", "Risk controls", "Controls verified", "Residual risk"]
    return {"columns": columns, "rows": rows}


def _estimate_cell(policy: Any, estimate: Any) -> list[Any]:
    if estimate is None:
        return ["empty"]
    severity = f"S{estimate.severity} {policy.severity_name(estimate.severity)}"
    text = f"{severity} / P{estimate.probability} {policy.probability_name(estimate.probability)}"
    return ["risk", estimate.risk_class.value, text]


def _controls_cell(data: BuildData, controls: list[Item]) -> list[Any]:
    """A hazard's controls, each with its verification status."""
    if not controls:
        return ["empty"]
    lines = []
    for control in controls:
        status = data.verdict(control.id)
        parts: list[list[Any]] = [["item", control.id, control.title]]
        if status is not None:
            parts += [["text", " "], ["status", control.id, status]]
        lines.append(["join", parts])
    return ["lines", lines]


def _controls_verified(data: BuildData, controls: list[Item]) -> list[Any]:
    """How many of a hazard's controls a test verifies (and, with statuses, how many passed)."""
    if not controls:
        return ["empty"]
    verified = [c for c in controls if data.project.incoming(c.id, "verifies", "test")]
    text = f"{len(verified)} of {len(controls)} with a test"
    statuses = [data.verdict(control.id) for control in controls]
    if any(status is not None for status in statuses):
        text += f", {statuses.count('passed')} passed"
    return ["text", text]


@query("risk-matrix")
def risk_matrix_view(data: BuildData, when: str) -> dict[str, Any]:
    """Hazard counts per (severity, probability) cell of the policy's matrix, before or after controls."""
    if when not in ("initial", "residual", "policy"):
        raise ValueError(f"unknown risk matrix '{when}': initial, residual or policy")
    policy = data.project.config.risk_policy
    counts: Counter[tuple[int, int]] = Counter()
    ids: dict[tuple[int, int], list[str]] = {}
    unevaluated = []
    if when != "policy":
        for hazard in data.project.of_kind("hazard"):
            risk = hazard_risk(policy, hazard)
            estimate = risk.initial if when == "initial" else risk.residual
            if estimate is None:
                if when == "initial" or hazard.links("controls"):
                    unevaluated.append(hazard.id)
                continue
            key = (estimate.severity, estimate.probability)
            counts[key] += 1
            ids.setdefault(key, []).append(hazard.id)
    rows = []
    for severity in reversed(policy.severity):  # highest severity at the top
        cells = []
        for probability in policy.probability:
            key = (severity.level, probability.level)
            risk_class = policy.classify(severity.level, probability.level)
            cells.append([risk_class.value if risk_class else "?", counts.get(key, 0), ids.get(key, [])])
        rows.append({"level": severity.level, "name": severity.name, "cells": cells})
    return {
        "when": when,
        "probability": [[level.level, level.name] for level in policy.probability],
        "rows": rows,
        "total": sum(counts.values()),
        "unevaluated": unevaluated,
    }


@query("risk-classes")
def risk_classes(data: BuildData) -> dict[str, Any]:
    """Hazards per risk class before and after controls (the risk management report's counts)."""
    policy = data.project.config.risk_policy
    initial: Counter[str] = Counter()
    residual: Counter[str] = Counter()
    for hazard in data.project.of_kind("hazard"):
        risk = hazard_risk(policy, hazard)
        initial[risk.initial.risk_class.value if risk.initial else "?"] += 1
        if risk.residual:
            residual[risk.residual.risk_class.value] += 1
        elif risk.initial and not hazard.links("controls"):
            residual[risk.initial.risk_class.value] += 1  # no controls: the initial risk remains
        else:
            residual["?"] += 1
    rows = [
        [
            letter,
            RiskClass(letter).label if letter != "?" else "not evaluated",
            initial.get(letter, 0),
            residual.get(letter, 0),
        ]
        for letter in ("A", "R", "U", "?")
    ]
    return {"rows": rows, "total": len(data.project.of_kind("hazard"))}


@query("policy-scales")
def policy_scales(data: BuildData) -> dict[str, Any]:
    policy = data.project.config.risk_policy
    return {
        "severity": [[level.level, level.name, level.description] for level in policy.severity],
        "probability": [[level.level, level.name, level.description] for level in policy.probability],
        "classes": [[risk_class.value, risk_class.label] for risk_class in RiskClass],
    }


@query("control-types")
def control_types(data: BuildData) -> dict[str, Any]:
    """Risk control measures by type, in the ISO 14971 7.1 priority order."""
    controls = {link.target for link in data.project.links if link.field == "controls"}
    counts: Counter[str] = Counter()
    for control_id in controls:
        counts[str(data.project.items[control_id].get("control_type") or "unspecified")] += 1
    order = ("inherent_safety", "protective_measure", "information_for_safety", "unspecified")
    return {"rows": [[name.replace("_", " "), counts.get(name, 0)] for name in order], "total": len(controls)}


# ------------------------------------------------------------------------------ coverage, findings


def rule_prefixes(text: str) -> tuple[str, ...]:
    """Rule codes or code prefixes (``T, R2``); ValueError for one that no rule's code starts with."""
    prefixes = tuple(prefix.strip() for prefix in text.split(",") if prefix.strip())
    unknown = [prefix for prefix in prefixes if not any(code.startswith(prefix) for code in RULES)]
    if unknown:
        raise ValueError(f"no rule code starts with {', '.join(unknown)}; rules: {', '.join(sorted(RULES))}")
    return prefixes


@query("findings")
def findings_view(data: BuildData, prefixes: str = "") -> dict[str, Any]:
    """Open findings of ``qms check``, optionally only rules starting with one of ``prefixes``."""
    wanted = rule_prefixes(prefixes)
    rows = [_finding_row(finding) for finding in data.findings if not wanted or finding.rule.startswith(wanted)]
    rules = [code for code in sorted(RULES) if not wanted or code.startswith(wanted)]
    off = [code for code in rules if RULES[code].severity_for(data.project) is Severity.OFF]
    return {"rows": rows, "checked": [code for code in rules if code not in off], "off": off}


@query("counts")
def counts(data: BuildData) -> dict[str, int]:
    """Items per kind (template conditions and summaries)."""
    return {kind: len(data.project.of_kind(kind)) for kind in KINDS}


# ------------------------------------------------------------------------------ inputs of costly queries

INPUTS["matrix"] = lambda data, chain, results="yes": [
    data.skeleton,
    {code: str(severity) for code, severity in data.project.config.rules.items()},  # marks the Q006 links
]
INPUTS["table"] = lambda data, kinds, filter_text, columns: [
    data.skeleton,
    data.kind_content(table_kinds(kinds)),
    data.findings_digest,
    digest(dict(data.project.config.raw)),  # the risk policy names levels and classes
]
