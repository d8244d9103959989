"""Running the checks: load evidence, execution records and review stamps where the project has
them, then the rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qms import fingerprints, gitinfo
from qms.causes import Folded, fold
from qms.evidence import load_evidence
from qms.model import Finding, Location, Project, Severity
from qms.parsecache import beside_in_turn, can_fork
from qms.project import load_project
from qms.records import load_records
from qms.review import read_lock
from qms.rules import CheckContext, ordered_rules, run_rules
from qms.rules.registry import RELEASE_RULES
from qms.status import project_statuses as project_statuses  # where the commands have found it


def check_context(
    project: Project, results: Iterable[Path] = (), release: bool = False, *, cache: bool = False, beside: bool = False
) -> CheckContext:
    """The context the rules need: the project, plus its evidence, execution records, review state
    and git history where present. A release check (every document approved) when ``release`` says
    so or the checked-out commit carries the tag of the device's version. ``cache``: records and
    results are read through the parse cache (:mod:`qms.parsecache`).

    ``beside``: the rules of the project alone start now (in a second process on a cold run of a
    large project, :meth:`CheckContext.project_hits_beside`) while the rest is read; for a caller
    that runs the rules on the context, which then takes what that process found."""
    hits = CheckContext(project).project_hits_beside() if beside else None
    history = gitinfo.git_history(project.root)
    reviews = read_lock(project.root, history=history.line_history(project) if history is not None else None)
    evidence, evidence_findings = load_evidence(project, results, cache=cache)
    records = load_records(project, cache=cache)
    return CheckContext(
        project,
        evidence=evidence,
        reviews=reviews,
        findings=(*evidence_findings, *records.findings),
        records=records,
        history=history,
        release=release or is_release(project),
        hits_beside=hits,
    )


@dataclass
class _Started:
    """A check started beside a build (:func:`check_beside`): the functions that take the parts it
    sends (its findings, their fingerprints, the findings of the release check), which parts were
    taken, and whether the build took its findings (the rest is of use only then)."""

    parts: list[Callable[[], Any]]
    taken: set[int] = field(default_factory=set)
    accepted: bool = False

    def take(self, index: int) -> Any:
        """The part ``index``, once (None the next time)."""
        if index in self.taken:
            return None
        self.taken.add(index)
        return self.parts[index]()


#: the checks started beside a build as it starts (:func:`check_beside`), by the project's root
_BESIDE: dict[Path, _Started] = {}
#: the project and its check context that :func:`check_beside` read for the build, by the project's root
_READ: dict[Path, CheckContext] = {}


def check_beside(root: Path, unchanged: Callable[[], bool], doctrees: Path | None = None) -> None:
    """Read the project at ``root`` for a build as it starts, and start the check the build makes of it
    in a second process, while the build starts Sphinx (its imports, the theme, the last build's
    environment: half a second at 10,000 items on one core, the other idle until the workbook
    starts). The project is read here, as the build reads it (through the parse cache), with its
    evidence, records and statuses, before the process starts: the build takes them
    (:func:`read_beside`) and the process works on the same objects, not reading them again. The
    process runs the rules and gives their findings only where ``unchanged`` says, once they are
    found, that no input of the build changed since it started (:func:`findings_beside` hands them
    to the build); then it makes the fingerprints of whole kinds of items that the last build into
    ``doctrees`` made (:mod:`qms.fingerprints`), from the project, its statuses and those findings
    (nothing read again), and gives them while the build goes on (:func:`fingerprints_beside`). A
    project that cannot be read here is left to the build, which reads it and says why."""
    if not can_fork():
        return
    try:
        project = load_project(root, cache=True)
        context = check_context(project, cache=True)
        context.statuses  # noqa: B018  # computed once, here: the build and the process both need them
    except Exception:  # the build reads the project again and reports what is wrong
        return
    parts = beside_in_turn(lambda: _check(context, unchanged, doctrees), 3)
    if parts is not None:
        _BESIDE[root.resolve()] = _Started(parts)
        _READ[root.resolve()] = context


def read_beside(root: Path) -> CheckContext | None:
    """The check context (with its project) that :func:`check_beside` read for a build of ``root``,
    if it read one; taken once."""
    return _READ.pop(root.resolve(), None)


def _check(context: CheckContext, unchanged: Callable[[], bool], doctrees: Path | None) -> Iterator[list[Any]]:
    """In the process :func:`check_beside` starts: the parse-cache keys of the item files read and the
    findings as plain data, sent only where no input changed meanwhile; then the fingerprints made;
    then the findings of the release check (:func:`release_findings`), as plain data."""
    project = context.project
    findings = tuple(run_rules(context, beside=False))
    if not unchanged():
        return
    yield [sorted(project.file_keys.items()), plain_findings(findings)]
    made: dict[tuple[str, ...], str] = {}
    found: dict[str, str] | None = None
    if doctrees is not None:
        checked = fingerprints.Checked(project, context.statuses, fingerprints.by_item(findings))
        made = fingerprints.made_beside(checked, fingerprints.kept_keys(doctrees))
        found = fingerprints.found_of_items(checked)
    yield [made, found]
    yield plain_findings(release_findings(context, findings))


def plain_findings(findings: Iterable[Finding]) -> list[tuple[Any, ...]]:
    """``findings`` as plain data another process sends (:mod:`marshal`), for :func:`from_plain`."""
    return [
        (f.rule, f.severity.value, f.message, f.location.file, f.location.line, f.location.column, f.item)
        for f in findings
    ]


def from_plain(plain: Iterable[Sequence[Any]]) -> list[Finding]:
    """The findings :func:`plain_findings` made plain."""
    return [
        Finding(rule, Severity(severity), message, Location(file, line, column), item)
        for rule, severity, message, file, line, column, item in plain
    ]


@dataclass(frozen=True)
class Made:
    """The fingerprints the check started beside a build made of its findings, the project and its
    statuses (:mod:`qms.fingerprints`): those of whole kinds of items by their keys, and of what was
    found of each item (None: not made)."""

    fingerprints: dict[tuple[str, ...], str]
    found_of_items: dict[str, str] | None


@dataclass(frozen=True)
class Beside:
    """What the check started beside a build found (:func:`check_beside`): its findings; the
    fingerprints it makes of them follow (:func:`fingerprints_beside`)."""

    findings: list[Finding]


def findings_beside(project: Project) -> Beside | None:
    """What the check started beside the build found (:func:`check_beside`), where it read the item
    files the build read, each to the same bytes (their parse-cache keys); None where none was
    started, it failed, an input changed while it ran, or it read other files: the build runs the
    rules itself, and makes every fingerprint (the process is waited for). Taken once; where taken,
    the fingerprints follow (:func:`fingerprints_beside`)."""
    root = project.root.resolve()
    _READ.pop(root, None)  # what it read is the build's now, or never will be
    started = _BESIDE.get(root)
    if started is None:
        return None
    made = started.take(0)
    if not (isinstance(made, list) and len(made) == 2 and project.file_keys):
        return None  # the process is waited for as the build ends (discard_beside)
    if made[0] != sorted(project.file_keys.items()):
        return None
    started.accepted = True
    return Beside(from_plain(made[1]))


def fingerprints_beside(project: Project) -> Made | None:
    """The fingerprints the check started beside the build made of the findings it gave
    (:func:`findings_beside`), once it made them; None where it gave none, or failed before it made
    them: the build makes them itself. Taken once."""
    started = _BESIDE.get(project.root.resolve())
    made = started.take(1) if started is not None and started.accepted else None
    if not isinstance(made, list) or len(made) != 2 or not isinstance(made[0], dict):
        return None
    digests, found = made
    return Made(digests, found if isinstance(found, dict) else None)


def release_beside(project: Project) -> list[Finding] | None:
    """The findings of the release check that the check started beside the build made of the same
    records (:func:`release_findings`), once it made them; None where the build did not take its
    findings (:func:`findings_beside`), or it failed before it made these: the build finds them."""
    started = _BESIDE.get(project.root.resolve())
    plain = started.parts[2]() if started is not None and started.accepted else None
    if not isinstance(plain, list):
        return None
    return from_plain(plain)


def discard_beside(root: Path) -> None:
    """Once a build of ``root`` ends: wait for the check started beside it, whose parts the build may
    not all have taken (it ended before, found them of no use, or needed no release check), so that
    no process of it is left behind."""
    _READ.pop(root.resolve(), None)
    started = _BESIDE.pop(root.resolve(), None)
    if started is not None:
        started.parts[-1]()  # the last part: the process has ended once it is in


def is_release(project: Project) -> bool:
    """Whether the checked-out commit carries the tag of ``device.version`` (``2.1.0`` or ``v2.1.0``)."""
    version = project.config.device.version
    if not version or gitinfo.git_history(project.root) is None:
        return False
    return bool({version, f"v{version}"} & gitinfo.head_tags(project.root))


#: What a context reads or computes once and that does not depend on whether it is a release check.
RELEASE_INDEPENDENT = (
    "statuses",
    "approvals",
    "documents",
    "release_diff",
    "project_hits",
    "hazard_risks",
    "item_hits",
)


def release_context(context: CheckContext) -> CheckContext:
    """The same records checked as a release (``qms check --release``), sharing with ``context``
    what does not depend on it being a release and ``context`` has computed (a build checks both
    ways: the development check first); the release context computes the rest when it asks for it.
    Nothing is computed for it that it may not need: the project's hits may have come from another
    process (:meth:`CheckContext.project_hits_beside`) without the item hits they are made of."""
    if context.release:
        return context
    release = replace(context, release=True)
    computed = vars(context)
    for name in RELEASE_INDEPENDENT:
        if name in computed:
            vars(release)[name] = computed[name]
    return release


def release_findings(context: CheckContext, findings: Sequence[Finding] | None = None) -> list[Finding]:
    """The findings of the release check of what ``context`` read: what ``qms check --release``
    reports and the release notes state, decided here for both.

    ``findings``: those :func:`qms.rules.run_rules` gave for ``context`` itself, when the caller
    has them (a build shows both checks): only the rules whose findings depend on the release
    flag (:data:`qms.rules.registry.RELEASE_RULES`) run again, and the others' findings are kept."""
    if findings is None:
        return run_rules(release_context(context))
    if context.release:
        return list(findings)
    kept = [finding for finding in findings if finding.rule not in RELEASE_RULES]
    return sorted([*kept, *run_rules(release_context(context), RELEASE_RULES)], key=Finding.sort_key)


def check_project(
    project: Project, results: Iterable[Path] = (), release: bool = False, *, cache: bool = False
) -> list[Finding]:
    """Every finding of the project, sorted by file, line and column (of the release check when
    ``release`` says so or HEAD carries the version's tag; ``cache``: see :func:`check_context`)."""
    return context_findings(check_context(project, results, cache=cache, beside=True), release)


def context_findings(context: CheckContext, release: bool = False) -> list[Finding]:
    """The findings of what ``context`` read: of the release check when ``release`` says so or HEAD
    carries the version's tag."""
    return release_findings(context) if release or context.release else run_rules(context)


def root_causes(project: Project, findings: Iterable[Finding]) -> Folded:
    """The findings in root-cause order (the order of the rules), each that follows from another with its cause."""
    return fold(project, findings, [code for code, _ in ordered_rules()])
