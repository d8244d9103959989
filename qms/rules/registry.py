"""What a rule of ``qms check`` is made of: the context it looks at, what it finds, and the table its
check functions are attached to by code. The rule modules import this; :mod:`qms.rules` lists them."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import astuple, dataclass, field
from typing import TYPE_CHECKING, Any

from qms.approvals import ApprovalLog, DocumentState, document_states, read_approvals
from qms.diff import DiffError, ProjectDiff, release_diff
from qms.model import Finding, Item, Location, Project, Severity
from qms.parsecache import ItemTexts, project_memo, project_memo_beside
from qms.risk import HazardRisk, hazard_risk
from qms.rulebook import SPECS, RuleSpec
from qms.status import ChangeHistory, StatusIndex, compute_statuses

if TYPE_CHECKING:
    from qms.evidence import Evidence
    from qms.records import RecordSet
    from qms.review import ReviewState


@dataclass(frozen=True)
class CheckContext:
    """What the rules look at: the project graph and, where loaded, test evidence, execution
    records, reviews and version-control history.

    ``findings`` are problems met while gathering the context (an unreadable result file);
    they are reported like the loader's.
    """

    project: Project
    evidence: Evidence | None = None
    reviews: ReviewState | None = None
    findings: tuple[Finding, ...] = ()
    records: RecordSet | None = None
    history: ChangeHistory | None = None
    #: a release check: every document must be approved (``qms check --release``)
    release: bool = False
    #: the project's hits being found since the context was made (:func:`qms.checking.check_context`
    #: with ``beside``), given by calling it; None: found when the rules ask
    hits_beside: Callable[[], dict[str, list[Hit]]] | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def statuses(self) -> StatusIndex:
        """Every item's verification status (:mod:`qms.status`), computed once per context."""
        records = self.records.records if self.records is not None else ()
        return compute_statuses(self.project, self.evidence, records, self.history)

    @functools.cached_property
    def approvals(self) -> ApprovalLog:
        """The approvals of ``approvals.yaml`` (:mod:`qms.approvals`), read once per context."""
        return read_approvals(self.project, history=self.history is not None)

    @functools.cached_property
    def documents(self) -> Mapping[str, DocumentState]:
        """The state of every document, computed once per context (a document no one approved is a
        draft without a digest: a check and a site show none)."""
        return document_states(self.project, self.statuses, self.history, self.approvals, unapproved_digests=False)

    @functools.cached_property
    def project_hits(self) -> dict[str, list[Hit]]:
        """What the enabled rules of the project alone (:data:`PROJECT_RULES`) find, once per
        context (and kept with the project's fingerprint, see :func:`project_hits`)."""
        return self.hits_beside() if self.hits_beside is not None else project_hits(self)

    def project_hits_beside(self) -> Callable[[], dict[str, list[Hit]]]:
        """:attr:`project_hits`, found from now on (in a second process where they are not kept and
        the project is large, see :func:`project_hits_beside`) while the caller runs the other
        rules; the function returned gives them, and keeps them on the context."""
        if "project_hits" in vars(self):
            return lambda: self.project_hits
        later = self.hits_beside or project_hits_beside(self)

        def hits() -> dict[str, list[Hit]]:
            if "project_hits" not in vars(self):
                vars(self)["project_hits"] = later()
            found: dict[str, list[Hit]] = vars(self)["project_hits"]
            return found

        return hits

    @functools.cached_property
    def hazard_risks(self) -> Mapping[str, HazardRisk]:
        """The initial and residual risk of every hazard under the project's risk policy, by id,
        computed once per context (several rules weigh each hazard's risk)."""
        policy = self.project.config.risk_policy
        return {hazard.id: hazard_risk(policy, hazard) for hazard in self.project.of_kind("hazard")}

    @functools.cached_property
    def item_hits(self) -> ItemHits:
        """What the rules of one item at a time (:func:`item_rule`) find in every item, kept between
        runs by each item file's key in the parse cache, found once per context."""
        return ItemHits(self.project)

    @functools.cached_property
    def release_diff(self) -> ProjectDiff | DiffError | None:
        """What changed since the previous release (``release: previous``), read once per context:
        None without a previous release or outside git, the error when it cannot be compared."""
        previous = self.project.config.previous_release
        if previous is None or self.history is None:
            return None
        try:
            return release_diff(self.project.root, previous)
        except DiffError as error:
            return error


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found: the rule's runner turns it into a finding with the rule's severity."""

    message: str
    location: Location
    item: str | None = None

    @classmethod
    def at(cls, item: Item, message: str, path: tuple[str | int, ...] = ()) -> Hit:
        return cls(message, item.location(path), item.id)


CheckFunction = Callable[[CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule(RuleSpec):
    """A rule of :mod:`qms.rulebook` with its check function (None: the loader reports it)."""

    check: CheckFunction | None = field(default=None, compare=False)

    def severity_for(self, project: Project) -> Severity:
        return self.severity_in(project.config.rules, project.config.safety_class)


#: The check function of each code, as the rule modules attach them.
CHECKS: dict[str, CheckFunction] = {}
#: The rules whose findings depend on the project alone (:func:`rule`, ``of_project``).
PROJECT_RULES: set[str] = set()
#: The rules whose findings depend on whether the check is a release check (:func:`rule`, ``at_release``).
RELEASE_RULES: set[str] = set()
#: What rules keep of the project alone besides their hits, each a function of the project that
#: finds and keeps it (:func:`qms.parsecache.project_memo`): found with the project's hits where
#: those are found in a second process (:func:`project_hits_beside`), for the rules to take.
PROJECT_MEMOS: list[Callable[[Project], object]] = []


def rule(code: str, *, of_project: bool = False, at_release: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Attach a check function to the rule ``code`` of :mod:`qms.rulebook`.

    ``of_project``: the check looks at ``context.project`` alone (its items and qms.yaml: no
    evidence, records, reviews, history or release flag, no other file, nothing of the clock), so
    that its findings are kept with the project's fingerprint (:func:`qms.parsecache.project_memo`)
    and found again only when something the project is made of changed.

    ``at_release``: the check reads ``context.release`` (it finds more, or other things, at a
    release). Every other rule finds the same at a release, so the release check of records
    already checked runs only these again (:func:`qms.checking.release_findings`)."""
    _known(code)
    if of_project and at_release:
        raise ValueError(f"rule {code}: a rule of the project alone does not read the release flag")

    def register(check: CheckFunction) -> CheckFunction:
        CHECKS[code] = check
        if of_project:
            PROJECT_RULES.add(code)
        if at_release:
            RELEASE_RULES.add(code)
        return check

    return register


def _known(code: str) -> None:
    """Refuse a check for a rule :mod:`qms.rulebook` does not name."""
    if code not in SPECS:
        raise KeyError(f"rule {code} is not in qms.rulebook: add its name, summary and explanation there")


#: What a rule of one item at a time finds in an item: (message, location, and the id the finding
#: depends on besides the item: "" for none; see :class:`ItemHits`).
ItemHit = tuple[str, Location, str]
ItemCheck = Callable[[Item], Iterable[ItemHit]]
#: The check of one item of each rule of one item at a time (:func:`item_rule`).
ITEM_CHECKS: dict[str, ItemCheck] = {}


def item_rule(code: str) -> Callable[[ItemCheck], ItemCheck]:
    """Attach to the rule ``code`` (one of the project alone, :func:`rule`) a check of one item alone:
    its fields and their places, nothing of another item, of qms.yaml or of any other file. What it
    finds in an item is kept between runs by the item file's key in the parse cache
    (:class:`ItemHits`): after an edit only the edited file's items are looked at again. The rule's
    check takes those hits from ``context.item_hits.of(code)``."""
    _known(code)

    def register(check: ItemCheck) -> ItemCheck:
        ITEM_CHECKS[code] = check
        return check

    return register


class ItemHits:
    """What every rule of one item at a time (:data:`ITEM_CHECKS`) finds in each item of a project.

    A hit may name an id besides its item (an item text's ``:item:`` role): the rule's own check
    decides, when the findings are asked, what that id makes of it (:meth:`of`), since the other
    items are not the item's own. The hits of an item are kept as JSON by :class:`ItemTexts`."""

    def __init__(self, project: Project) -> None:
        texts = ItemTexts(project, "item-rule-hits", _item_hits_text)
        self._by_code: dict[str, list[tuple[Item, list[Any]]]] = {}
        for item in project:
            text = texts.text(item)
            if text:
                for code, *entry in json.loads(text):
                    self._by_code.setdefault(code, []).append((item, entry))
        texts.save()

    def of(self, code: str, named: Callable[[str, str], str | None] | None = None) -> Iterator[Hit]:
        """The hits of the rule ``code``, item by item in the project's order; ``named(message, id)``
        turns a hit naming another id into its message (None: no finding)."""
        for item, (message, file, line, column, other) in self._by_code.get(code, ()):
            if other and named is not None:
                message = named(message, other)
                if message is None:
                    continue
            yield Hit(message, Location(file, line, column), item.id)


def _item_hits_text(item: Item) -> str:
    """The hits of every rule of one item at a time in ``item``, as JSON ("" for none)."""
    hits = [
        [code, message, location.file, location.line, location.column, other]
        for code, check in ITEM_CHECKS.items()
        for message, location, other in check(item)
    ]
    return json.dumps(hits, ensure_ascii=False) if hits else ""


def written(item: Item, field_name: str) -> bool:
    """Whether the user wrote the field at all (even if its value was refused)."""
    return (field_name,) in item.positions


def project_hits(context: CheckContext) -> dict[str, list[Hit]]:
    """What the enabled rules that look at the project alone find, kept by the project's fingerprint."""
    return project_memo(context.project, "rules", _project_rules(context), _hits_data, _hits_from)


def project_hits_beside(context: CheckContext) -> Callable[[], dict[str, list[Hit]]]:
    """:func:`project_hits`, started now (in a second process where they are not kept and the
    project is large, :func:`qms.parsecache.project_memo_beside`) and given by the function
    returned. That process finds and keeps :data:`PROJECT_MEMOS` first, for the rules of this one
    (where there is a cache to keep them in: without one, this process would find them again)."""
    hits = _project_rules(context)

    def found() -> dict[str, list[Hit]]:
        if context.project.fingerprint is not None:
            for memo in PROJECT_MEMOS:
                memo(context.project)
        return hits()

    return project_memo_beside(context.project, "rules", found, _hits_data, _hits_from)


def _project_rules(context: CheckContext) -> Callable[[], dict[str, list[Hit]]]:
    """What finds the hits of the enabled rules of :data:`PROJECT_RULES`, by code."""
    rules, safety_class = context.project.config.rules, context.project.config.safety_class
    codes = sorted(code for code in PROJECT_RULES if SPECS[code].severity_in(rules, safety_class) is not Severity.OFF)
    return lambda: {code: list(CHECKS[code](context)) for code in codes}


def _hits_data(hits: dict[str, list[Hit]]) -> dict[str, list[tuple[Any, ...]]]:
    return {code: [(hit.message, *astuple(hit.location), hit.item) for hit in found] for code, found in hits.items()}


def _hits_from(data: dict[str, list[tuple[Any, ...]]], _: str) -> dict[str, list[Hit]]:
    """The hits :func:`_hits_data` made plain data of (ValueError where the entry holds anything else)."""
    hits: dict[str, list[Hit]] = {}
    for code, found in data.items():
        hits[code] = []
        for message, file, line, column, item in found:
            if (
                {type(message), type(file)} != {str}
                or {type(line), type(column)} != {int}
                or type(item) not in (str, type(None))
            ):
                raise ValueError(f"not a finding of {code}")
            hits[code].append(Hit(message, Location(file, line, column), item))
    return hits
