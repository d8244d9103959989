"""What an item's block shows, as one typed value that the HTML and the docutils writers both render.

:class:`ItemView` holds the item's fields (each typed by what it shows), its badges, its links
both ways, its verification with the results behind it, its open findings, its audit trail, and
for a hazard each risk control with that control's status and tests.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from qms.fingerprints import found_of_items
from qms.model import Finding, Item, Project
from qms.parsecache import ItemTexts
from qms.reprs import plain_reprs
from qms.risk import hazard_risk
from qms.schema import EXTENSION_PREFIX, KINDS, FieldSpec, FieldType
from qms.sphinx.audit import AuditView, audit_view, trail_digest, trails_digest
from qms.sphinx.views.build import (
    BuildData,
    Query,
    digest,
    field_label,
    kind_label,
    natural_sorted,
    repr_digest,
    text_line,
)
from qms.sphinx.views.cells import Badge, Listed

#: Fields shown as the item's body, before the field table.
BODY_FIELDS = ("text", "description", "hazard")


@dataclass(frozen=True, slots=True)
class RiskView:
    """A risk estimate as shown: severity and probability named, and the class they fall in."""

    severity: str
    probability: str
    risk_class: str  # A, R, U, or ? outside the policy's scales
    label: str


@dataclass(frozen=True, slots=True)
class TextValue:
    """Item text (may hold markup): parsed where the page is read, at ``line`` of the item's file."""

    text: str
    line: int


@dataclass(frozen=True, slots=True)
class StepsValue:
    """Numbered texts (procedure steps), each at its own line."""

    steps: tuple[TextValue, ...]


@dataclass(frozen=True, slots=True)
class ListValue:
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlainValue:
    text: str


@dataclass(frozen=True, slots=True)
class UrlValue:
    """An address shown as a link when it is safe to follow."""

    url: str


@dataclass(frozen=True, slots=True)
class RiskValue:
    risk: RiskView | None  # None: not evaluated


@dataclass(frozen=True, slots=True)
class AnomalyReview:
    reference: str
    evaluation: TextValue


@dataclass(frozen=True, slots=True)
class AnomaliesValue:
    reviews: tuple[AnomalyReview, ...]


FieldValue = TextValue | StepsValue | ListValue | PlainValue | UrlValue | RiskValue | AnomaliesValue


@dataclass(frozen=True, slots=True)
class FieldEntry:
    """One row of an item's field list."""

    label: str
    value: FieldValue


@dataclass(frozen=True, slots=True)
class Relation:
    """The item's links of one meaning (``upward``: towards what it derives from)."""

    label: str
    upward: bool
    items: tuple[Listed, ...]


@dataclass(frozen=True, slots=True)
class ResultView:
    """One result or execution record behind a status, as its block shows it."""

    test: str
    case: str
    record: bool
    source: str
    line: int
    download: str  # where the site publishes the file, else ""
    outcome: str
    at: str
    by: str
    version: str
    commit: str
    note: str
    message: str
    stale: str  # what changed after it ran, else ""
    uncommitted: bool
    deviations: str = ""  # an execution record's deviations from the procedure, as written
    anomalies: tuple[str, ...] = ()  # the anomalies it raised


@dataclass(frozen=True, slots=True)
class Verification:
    """An item's verification status, why it is not passed, and the results it rests on."""

    status: str
    reasons: tuple[str, ...]
    results: tuple[ResultView, ...]


@dataclass(frozen=True, slots=True)
class FindingView:
    rule: str
    severity: str
    message: str
    location: str
    item: str


@dataclass(frozen=True, slots=True)
class ControlView:
    """A hazard's risk control with its verification status and the tests behind it, each with its status."""

    id: str
    title: str
    status: str | None
    tests: tuple[Listed, ...]


@dataclass(frozen=True, slots=True)
class ItemView:
    """Everything an item's block shows."""

    id: str
    kind: str
    title: str
    file: str
    line: int
    badges: tuple[Badge, ...]
    status: str | None
    body: tuple[TextValue, ...]
    fields: tuple[FieldEntry, ...]
    relations: tuple[Relation, ...]
    verification: Verification | None
    findings: tuple[FindingView, ...]
    controls: tuple[ControlView, ...]
    audit: AuditView

    def texts(self) -> Iterator[tuple[str, TextValue]]:
        """Every item text of the block with its key: the directive parses them, the writers place them."""
        for index, text in enumerate(self.body):
            yield body_key(index), text
        for index, entry in enumerate(self.fields):
            for position, text in enumerate(field_texts(entry.value)):
                yield field_key(index, position), text


def body_key(index: int) -> str:
    return f"body-{index}"


def field_key(index: int, position: int) -> str:
    return f"field-{index}-{position}"


def field_texts(value: FieldValue) -> tuple[TextValue, ...]:
    """The item texts a field shows, in order."""
    if isinstance(value, TextValue):
        return (value,)
    if isinstance(value, StepsValue):
        return value.steps
    if isinstance(value, AnomaliesValue):
        return tuple(review.evaluation for review in value.reviews)
    return ()


def risk_view(data: BuildData, severity: object, probability: object) -> RiskView | None:
    policy = data.project.config.risk_policy
    if not isinstance(severity, int) or not isinstance(probability, int):
        return None
    risk_class = policy.classify(severity, probability)
    return RiskView(
        severity=f"{policy.severity_name(severity)} ({severity})",
        probability=f"{policy.probability_name(probability)} ({probability})",
        risk_class=risk_class.value if risk_class else "?",
        label=risk_class.label if risk_class else "outside the policy's scales",
    )


def field_value(data: BuildData, item: Item, spec: FieldSpec | None, name: str, value: Any) -> FieldValue:
    """What one field of an item shows, typed by the field's schema type."""
    policy = data.project.config.risk_policy
    kind = spec.type if spec is not None else None
    if kind is FieldType.TEXT:
        return TextValue(value, text_line(item, name))
    if kind is FieldType.TEXTS:
        return StepsValue(tuple(TextValue(text, item.location((name, index)).line) for index, text in enumerate(value)))
    if kind is FieldType.STRINGS:
        return ListValue(tuple(value))
    if kind is FieldType.SEVERITY and isinstance(value, int):
        return PlainValue(f"{policy.severity_name(value)} ({value})")
    if kind is FieldType.PROBABILITY and isinstance(value, int):
        return PlainValue(f"{policy.probability_name(value)} ({value})")
    if kind is FieldType.RESIDUAL and isinstance(value, Mapping):
        return RiskValue(risk_view(data, value.get("severity"), value.get("probability")))
    if kind is FieldType.ANOMALY_REVIEWS:
        return AnomaliesValue(
            tuple(
                AnomalyReview(
                    str(review.get("ref", "")),
                    TextValue(str(review.get("evaluation", "")), item.location((name, index, "evaluation")).line),
                )
                for index, review in enumerate(value)
            )
        )
    if kind is FieldType.CHOICE:
        return PlainValue(str(value).replace("_", " "))
    if name == "anomaly_list_url" and isinstance(value, str):
        return UrlValue(value)
    if name.startswith(EXTENSION_PREFIX) and isinstance(value, str):  # text as written: paragraphs, markup
        return TextValue(value, text_line(item, name))
    if (
        name.startswith(EXTENSION_PREFIX)
        and isinstance(value, (list, tuple))
        and all(isinstance(v, str) for v in value)
    ):
        return StepsValue(tuple(TextValue(text, item.location((name, index)).line) for index, text in enumerate(value)))
    if isinstance(value, str):
        return PlainValue(value)
    # an x- field holding a mapping or nested lists: shown as written
    return PlainValue(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def shown_value(value: FieldValue) -> str:
    """A field's value as one line of text (table cells)."""
    match value:
        case TextValue(text) | PlainValue(text) | UrlValue(text):
            return text
        case ListValue(values):
            return ", ".join(values)
        case StepsValue(steps):
            return ", ".join(step.text for step in steps)
        case RiskValue(risk):
            return f"{risk.risk_class} {risk.label}" if risk else "not evaluated"
        case AnomaliesValue(reviews):
            return ", ".join(review.reference for review in reviews)


def _badges(data: BuildData, item: Item) -> tuple[Badge, ...]:
    """Short facts shown under an item's heading."""
    badges = [Badge(kind_label(item.kind), "kind")]
    if item.get("control_type"):
        badges.append(Badge(f"risk control: {str(item.get('control_type')).replace('_', ' ')}", "control"))
    if item.get("safety_class"):
        badges.append(Badge(f"class {item.get('safety_class')}", "class"))
    if item.kind == "test":
        badges += [Badge(f"{name} {item.get(name)}", "method") for name in ("method", "level") if item.get(name)]
    if item.kind == "anomaly" and item.get("status"):
        badges.append(Badge(f"{item.get('status')}", f"status-{item.get('status')}"))
    if item.kind == "hazard":
        risk = hazard_risk(data.project.config.risk_policy, item)
        if risk.initial:
            letter = risk.initial.risk_class.value
            badges.append(Badge(f"initial risk {letter}", f"risk-{letter}"))
        if risk.residual:
            letter = risk.residual.risk_class.value
            badges.append(Badge(f"residual risk {letter}", f"risk-{letter}"))
    found = data.findings_by_item.get(item.id, ())
    if found:
        count = len(found)
        badges.append(Badge(f"{count} open finding{'s' if count > 1 else ''}", "finding"))
    return tuple(badges)


def _relations(data: BuildData, item: Item) -> tuple[Relation, ...]:
    """The item's links in both directions, grouped by their meaning: up the trace first."""
    groups: dict[tuple[bool, str], list[Listed]] = {}
    for upward, label, neighbour in data.relations(item.id):
        entry = Listed(neighbour.id, neighbour.title, data.verdict(neighbour.id))
        members = groups.setdefault((not upward, label), [])
        if entry not in members:
            members.append(entry)
    ordered = sorted(groups.items(), key=lambda group: group[0][0])  # stable: keeps field order within a side
    return tuple(Relation(label, not downward, tuple(members)) for (downward, label), members in ordered)


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


def _verification(data: BuildData, item: Item) -> Verification | None:
    """What an item's status rests on: each result or record (case, file, time, version, who), and why
    the status is not passed."""
    found = data.statuses.of(item.id) if data.statuses is not None else None
    if found is None:
        return None
    published = {file.path: file.target for file in data.answer(("evidence-files",)) if file.sha256}
    results = tuple(
        ResultView(
            test=result.test,
            case=result.case,
            record=result.record,
            source=result.source,
            line=result.line,
            download=published.get(result.source, ""),
            outcome=result.outcome.value,
            at=result.at or "",
            by=result.by or "",
            version=result.version or "",
            commit=_revision(result.commit),
            note=result.note,
            message=result.message,
            stale=result.stale.summary if result.stale is not None else "",
            uncommitted=result.source in data.uncommitted,
            deviations=result.deviations,
            anomalies=result.anomalies,
        )
        for result in found.results
    )
    return Verification(found.status.value, tuple(found.reasons), results)


def _controls(data: BuildData, hazard: Item) -> tuple[ControlView, ...]:
    """A hazard's risk controls, each with its status and the tests that status rests on (:mod:`qms.status`)."""
    project = data.project
    controls = []
    for control_id in dict.fromkeys(hazard.links("controls")):
        control = project.items.get(control_id)
        if control is None:
            continue  # an unknown id: Q005 says so where it is written
        found = data.statuses.of(control.id) if data.statuses is not None else None
        if found is not None:
            test_ids = found.tests
        else:  # no status (no statuses computed, or a kind that carries none): the tests that verify it
            test_ids = tuple(link.source for link in project.incoming(control.id, "verifies", "test"))
        tests = natural_sorted(
            project.items[test_id] for test_id in dict.fromkeys(test_ids) if test_id in project.items
        )
        listed = tuple(Listed(test.id, test.title, data.verdict(test.id)) for test in tests)
        controls.append(ControlView(control.id, control.title, data.verdict(control.id), listed))
    return tuple(controls)


def finding_view(finding: Finding) -> FindingView:
    return FindingView(finding.rule, str(finding.severity), finding.message, str(finding.location), finding.item or "")


def item_view(data: BuildData, item_id: str) -> ItemView | None:
    """Everything an item's block shows: fields, badges, links both ways, findings, evidence."""
    item = data.project.items.get(item_id)
    if item is None:
        return None
    spec = KINDS.get(item.kind)
    names = [name for name in (spec.field_names if spec else ()) if name in item.fields]
    names += [name for name in item.fields if name not in names]
    body: list[TextValue] = []
    fields: list[FieldEntry] = []
    for name in names:
        field_spec = spec.field(name) if spec else None
        if name == "title" or (field_spec is not None and field_spec.is_link):
            continue
        if item.kind == "hazard" and name in ("severity", "probability"):
            continue  # shown together as the initial risk
        value = field_value(data, item, field_spec, name, item.fields[name])
        if name in BODY_FIELDS and isinstance(value, TextValue):
            body.append(value)
        else:
            fields.append(FieldEntry(field_label(name), value))
    if item.kind == "hazard":
        initial = risk_view(data, item.get("severity"), item.get("probability"))
        if initial is not None:
            fields.insert(0, FieldEntry("Initial risk", RiskValue(initial)))
    return ItemView(
        id=item.id,
        kind=item.kind,
        title=item.title,
        file=item.file,
        line=item.location().line,
        badges=_badges(data, item),
        status=data.verdict(item.id),
        body=tuple(body),
        fields=tuple(fields),
        relations=_relations(data, item),
        verification=_verification(data, item),
        findings=tuple(finding_view(finding) for finding in data.findings_by_item.get(item.id, ())),
        controls=_controls(data, item) if item.kind == "hazard" else (),
        audit=audit_view(data, item.id),
    )


def item_read(view: ItemView | None) -> object:
    """What reading a page takes of an item's block, the rest being filled in when the page is written:
    its kind and title (the site's index of items, the links to it) and its texts with where they are
    written (they are parsed with the page). A change elsewhere in the block, or in what it shows of
    its neighbours, writes its page again without reading it again."""
    if view is None:
        return None
    return (view.kind, view.title, view.file, tuple((key, text.text, text.line) for key, text in view.texts()))


def item_inputs(data: BuildData, item_id: str) -> list[object]:
    """Everything :func:`item_view` reads for one item, cheap to fingerprint: the same inputs, the same block.

    The item as written (fields, file, every field's line and column), the project file (risk
    policy names, rule severities), its findings, its status with the results behind it (their
    published copies, whether their files are committed), each linked item's id, kind (its
    page), title and status, a hazard's controls with their tests, and its own audit trail (not
    the commit checked out: a commit leaves the blocks of the items it did not change as they
    were). Rendering every block only to fingerprint it cost most of a one-edit rebuild.
    """
    item = data.project.items.get(item_id)
    if item is None:
        return [item_id, None]
    found = data.statuses.of(item_id) if data.statuses is not None else None
    files = {result.source for result in found.results} if found is not None else set()
    by_source = _published_by_source(data)
    published = [copy for source in files for copy in by_source.get(source, ())]
    shown, sides = _shown_as_neighbour(data), _sides()
    neighbours = "\n".join(
        sides[upward, label] + shown[neighbour.id] for upward, label, neighbour in data.relations(item_id)
    )
    return [
        project_inputs(data),
        trail_digest(data, item_id),
        _written(data, item),
        repr(data.findings_by_item.get(item_id, ())),
        repr(found),
        repr((sorted(published), sorted(files & data.uncommitted))),
        neighbours,
        repr(_controls(data, item)) if item.kind == "hazard" else "",
    ]


# ------------------------------------------------------------------ blocks' fingerprints kept between builds

#: where a build finds the fingerprints of the blocks the last build made (:class:`KeptBlocks`)
KEPT_BLOCKS: Query = ("kept-blocks",)
#: the file of the build's doctree folder keeping them, beside the environment
BLOCKS_FILE = "qms-block-digests.pickle"


@dataclass(frozen=True, slots=True)
class KeptBlocks:
    """The fingerprint of each item's block (:func:`item_inputs`) and of each range of a long table's
    rows a build made, with what they were made from: the fingerprint of what they read of the
    whole project (:func:`shared_inputs`), and of each item as written and as found (:func:`_found`)."""

    shared: str
    written: dict[str, str]
    found: dict[str, str]
    #: the ids each item links to (items linking to none left out)
    links: dict[str, tuple[str, ...]]
    digests: dict[str, str]
    #: the fingerprint of each range of a long table's rows shown (by its query and rows), with the
    #: fingerprint of the rows it shows (:func:`kept_range`)
    ranges: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)


def shared_inputs(data: BuildData) -> str:
    """Fingerprint of what :func:`item_inputs` reads beyond each item as written and as found: the
    project file, the published result files and those not committed, and every audit trail. While
    it is the same, a block's fingerprint changes only with its item, its neighbours and theirs, as
    written and as found, and with the links among them."""
    key = ("shared-block-inputs",)
    if key not in data.digests:
        data.digests[key] = repr_digest(
            (
                project_inputs(data),
                sorted(_published_by_source(data).items()),
                sorted(data.uncommitted),
                trails_digest(data),
            )
        )
    return data.digests[key]


def reuse_blocks(data: BuildData, kept: KeptBlocks | None) -> int:
    """Give the build the fingerprints ``kept`` from the last build of the blocks no edit can have
    changed, so only the others are made again (at 10,000 items a fifth of a second, on every
    build): none where what every block reads changed (:func:`shared_inputs`); else all but those
    of the items written or found otherwise (a finding, a status), taken away, or linked to or from
    one of those whose links changed, of the items linked with those (a block shows its neighbours'
    titles and statuses), and of the items linked with these (a hazard shows its controls' tests).
    Returns how many were taken."""
    data.cache[KEPT_BLOCKS] = kept
    if kept is None or kept.shared != shared_inputs(data):
        return 0
    project, found = data.project, found_of_items(data)
    touched = {
        item.id
        for item in project
        if kept.written.get(item.id) != _written(data, item) or kept.found.get(item.id) != found[item.id]
    }
    # a link taken away or added changes what its old and new targets show (a reverse link), and
    # an item taken away what the items linking to it show
    removed = kept.written.keys() - project.items.keys()
    moved = {item_id for item_id in touched if kept.links.get(item_id, ()) != _targets(project, item_id)}
    for item_id in (*moved, *removed):
        touched.update(kept.links.get(item_id, ()))
        touched.update(_targets(project, item_id))
    if removed:
        touched.update(source for source, targets in kept.links.items() if not removed.isdisjoint(targets))
    touched |= removed
    data.cache[_CHANGED] = frozenset(touched)
    for _ in range(2):
        touched |= {neighbour for item_id in touched for neighbour in _linked_ids(project, item_id)}
    reused = 0
    for item_id, digest_kept in kept.digests.items():
        if item_id not in touched and item_id in project.items:
            data.digests[("item", item_id)] = digest_kept
            reused += 1
    return reused


def _targets(project: Project, item_id: str) -> tuple[str, ...]:
    """The ids of the items ``item_id`` links to, in the order it writes them."""
    return tuple(link.target for link in project.links_from(item_id))


def _linked_ids(project: Project, item_id: str) -> Iterator[str]:
    """The ids of the items ``item_id`` links to and of those linking to it."""
    for link in project.links_from(item_id):
        yield link.target
    for link in project.backlinks.get(item_id, ()):
        yield link.source


#: where a build keeps the items written or found otherwise than when the kept fingerprints were
#: made (None: none of them can be taken, :func:`reuse_blocks`)
_CHANGED: Query = ("items-changed-since-kept",)
#: where a build notes the ranges of rows it fingerprinted: by range, the fingerprint of its rows
#: (None: not known) and its own
_RANGES: Query = ("ranges-fingerprinted",)


def kept_range(data: BuildData, name: str, rows: str, shown: Iterable[str]) -> str | None:
    """The fingerprint the last build made of the range of rows ``name`` (its query and rows), where
    it can be taken: the range has the same ``rows`` (the fingerprint of the ids in each of its rows
    and of what the whole table decides for every row, such as its number of rows), what any range
    reads of the whole project is the same (:func:`shared_inputs`), and no item it ``shown`` (its
    rows' items and the items their cells name) is written or found otherwise, or linked to or from
    one whose links changed (:func:`reuse_blocks`). A title edit then answers only the ranges that
    show the item."""
    changed: frozenset[str] | None = data.cache.get(_CHANGED)
    kept: KeptBlocks | None = data.cache.get(KEPT_BLOCKS)
    if changed is None or kept is None:
        return None
    found = kept.ranges.get(name)
    if found is None or found[0] != rows or not changed.isdisjoint(shown):
        return None
    return found[1]


def note_range(data: BuildData, name: str, rows: str | None, digest_made: str) -> None:
    """Note the fingerprint of the range ``name`` (and of its ``rows``, None where not known) for the
    next build (:func:`kept_range`)."""
    data.cache.setdefault(_RANGES, {})[name] = (rows, digest_made)


def blocks_to_keep(data: BuildData) -> KeptBlocks | None:
    """The fingerprints this build made or took, for the next build (None: those it was given). A
    range whose rows it did not fingerprint (its whole table's inputs were as before, so its rows
    were too) keeps the fingerprint of its rows the last build gave."""
    digests = {query[1]: found for query, found in data.digests.items() if query[0] == "item" and len(query) == 2}
    written = {item.id: _written(data, item) for item in data.project}
    kept: KeptBlocks | None = data.cache.get(KEPT_BLOCKS)
    ranges: dict[str, tuple[str, str]] = {}
    for name, (rows, made) in data.cache.get(_RANGES, {}).items():
        earlier = kept.ranges.get(name) if kept is not None else None
        if rows is None and earlier is not None and earlier[1] == made:
            rows = earlier[0]
        if rows is not None:
            ranges[name] = (rows, made)
    links = {item.id: targets for item in data.project if (targets := _targets(data.project, item.id))}
    made_now = KeptBlocks(shared_inputs(data), written, found_of_items(data), links, digests, ranges)
    return None if made_now == kept else made_now


#: the build's :class:`~qms.parsecache.ItemTexts` of :func:`_written_digest`, in :attr:`BuildData.cache`
_WRITTEN = ("written-items",)


def _written(data: BuildData, item: Item) -> str:
    """Fingerprint of the item as written (id, kind, file, fields, every field's line and column),
    kept between builds by its file's key in the parse cache: an edit makes again only the
    fingerprints of the edited file's items."""
    texts = data.cache.get(_WRITTEN)
    if texts is None:
        texts = data.cache[_WRITTEN] = ItemTexts(data.project, _WRITTEN[0], _written_digest)
    return texts.text(item)


def keep_written(data: BuildData) -> None:
    """Keep the fingerprints :func:`_written` made this build for the next (once the pages are read)."""
    texts = data.cache.get(_WRITTEN)
    if texts is not None:
        texts.save()


def _written_digest(item: Item) -> str:
    return repr_digest((item.id, item.kind, item.file, item.fields, item.positions))


def _shown_as_neighbour(data: BuildData) -> dict[str, str]:
    """What a block shows of each item linked to its own (id, kind (its page), title and status), as
    text, once per build rather than once for every link to it."""
    key = ("neighbour-inputs",)
    if key not in data.cache:
        data.cache[key] = _Neighbours(data)
    shown: dict[str, str] = data.cache[key]
    return shown


class _Neighbours(dict[str, str]):
    """What a block shows of each item linked to its own, made the first time a block asks (a build
    after one edit fingerprints few blocks)."""

    def __init__(self, data: BuildData) -> None:
        super().__init__()
        self.data = data

    def __missing__(self, item_id: str) -> str:
        item = self.data.project.items[item_id]
        shown = self[item_id] = repr((item.id, item.kind, item.title, self.data.verdict(item.id)))
        return shown


@functools.cache
def _sides() -> dict[tuple[bool, str], str]:
    """The text of each side and meaning a neighbour can be linked by (up the trace?, the link's label
    or its reverse, as :meth:`BuildData.relations` reads them from the schema), made once rather
    than once for every link."""
    specs = [spec for kind in KINDS.values() for spec in kind.link_fields]
    sides = [(spec.upward, spec.label) for spec in specs] + [(not spec.upward, spec.reverse) for spec in specs]
    return {(upward, label): f"{upward} {label!r} " for upward, label in sides}


def _published_by_source(data: BuildData) -> dict[str, list[tuple[str, str, bool]]]:
    """Each published result file (its path, its copy in the site, whether it has a digest) by the
    file it is published from, once per build rather than a pass over them all for every item."""
    key = ("evidence-files-by-source",)
    if key not in data.cache:
        by_source: dict[str, list[tuple[str, str, bool]]] = {}
        for file in data.answer(("evidence-files",)):
            by_source.setdefault(file.path, []).append((file.path, file.target, bool(file.sha256)))
        data.cache[key] = by_source
    found: dict[str, list[tuple[str, str, bool]]] = data.cache[key]
    return found


def project_inputs(data: BuildData) -> str:
    """Fingerprint of the project file, read once per build (risk policy names, rule severities, sources)."""
    key = ("project-inputs",)
    if key not in data.digests:
        data.digests[key] = digest(dict(data.project.config.raw))
    return data.digests[key]


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
