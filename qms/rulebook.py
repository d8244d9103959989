"""Every rule of ``qms check`` as data: code, name, one-line summary, explanation, default severity.

One visible table, below the project file's settings (``rules:`` in ``qms.yaml`` names these codes):
:mod:`qms.rules` attaches a check function to a code with ``@rule(CODE)``; a code without one is
reported by the loader while it reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from qms.elements import Severity

GROUPS = {
    "Q": "integrity",
    "T": "traceability",
    "R": "risk",
    "S": "SOUP",
    "E": "evidence",
    "C": "change control",
    "A": "documents and approvals",
    "L": "lifecycle records",
    "G": "regulatory submissions",
}


@dataclass(frozen=True)
class RuleSpec:
    """A rule's face: what ``qms check --list-rules`` lists and ``qms rule CODE`` explains."""

    code: str
    name: str
    summary: str
    explanation: str
    default: Severity = Severity.ERROR
    #: software safety classes for which the rule is on by default
    classes: tuple[str, ...] = ("A", "B", "C")

    @property
    def group(self) -> str:
        return GROUPS[self.code[0]]

    def severity_in(self, overrides: Mapping[str, Severity], safety_class: str) -> Severity:
        """The rule's severity in a project: as ``rules:`` of ``qms.yaml`` sets it, else by safety class."""
        override = overrides.get(self.code)
        if override is not None:
            return override
        return self.default if safety_class in self.classes else Severity.OFF


def _rule(
    code: str,
    name: str,
    summary: str,
    explanation: str,
    default: Severity = Severity.ERROR,
    classes: tuple[str, ...] = ("A", "B", "C"),
) -> RuleSpec:
    return RuleSpec(code, name, summary, explanation.strip(), default, classes)


_TABLE = (
    _rule(
        "Q001",
        "unreadable-file",
        "file cannot be read or parsed (encoding, YAML syntax)",
        """
A file under `sources` (or qms.yaml) could not be read: it is not UTF-8, it is not valid YAML
(tabs for indentation, unclosed quotes, bad indentation), it uses a tag that would build an
object (`!!python/object`), or it expands through aliases far beyond its size. Nothing in the
file is taken until it parses. Fix the file at the line and column given.

An entry of `sources`, `evidence` or `records` in qms.yaml that reads nothing it was meant to is a
Q001 at its own line too: it names a folder that does not exist, it points outside the project
(unless `allow_outside` lists the folder), or it lies in a site qms built (a folder holding
`.qms-output`), whose files are copies of the records and are never read back. A symbolic link
that leads nowhere is a Q001 at its own path.
""",
    ),
    _rule(
        "Q002",
        "schema",
        "schema: missing required field, unknown field, wrong type, value not allowed",
        """
An item does not match the fields of its kind: a required field is missing, a field is unknown
(typo? own fields must start with `x-`), a value has the wrong type (a link written as a string
instead of a list) or is not allowed (a severity name that is not in the risk policy). The
published JSON Schema (qms/schemas/qms-items.schema.json) lets an editor flag these as you type.
""",
    ),
    _rule(
        "Q003",
        "duplicate-id",
        "duplicate id (both places named)",
        """
Two items have the same id. Ids must be unique across the whole project. Links to the id resolve
to the first definition; rename one of them.
""",
    ),
    _rule(
        "Q004",
        "duplicate-key",
        "duplicate key in one YAML mapping (silently dropped data otherwise)",
        """
A mapping has the same key twice. Plain YAML loaders keep the last value and drop the first
without a word; qms keeps the first and reports the second, so nothing is lost unseen.
""",
    ),
    _rule(
        "Q005",
        "unknown-link",
        "link to an unknown id",
        """
A link field names an id that no item has. Correct the id (the message names the closest one),
or add the missing item. When the id is defined in a file that does not parse (Q001), the message
says so: fix that file first, and this finding goes away with it.
""",
    ),
    _rule(
        "Q006",
        "wrong-link-kind",
        "link to an item of a kind that field does not allow",
        """
Each link field allows certain kinds of target: a software requirement derives from system
requirements, a test verifies requirements or software items, a hazard is controlled by
requirements. The link points at an item of another kind.
""",
    ),
    _rule(
        "Q007",
        "link-cycle",
        "cycle in derives_from or parent",
        """
Following derives_from (or parent) from an item leads back to it. Decomposition must be a tree
(or a directed acyclic graph): break the cycle.
""",
    ),
    _rule(
        "Q010",
        "unsafe-math-link",
        "link in item text maths to something other than an http or https address",
        r"""
A LaTeX link command in item text (`\href{target}{text}` or `\url{target}`, usually inside
:math:`...` or a math directive) names a target that is not an http or https address, such as
`javascript:...` (script run on a click), `file:` or `data:`. The site never renders links from
maths: the formula is shown as written instead. Write the address as a normal link in the text
(`` `text <https://...>`_ ``), or remove the command.
""",
    ),
    _rule(
        "Q011",
        "option-out-of-bounds",
        "directive option in item text beyond its bound (columns, line numbers, table sizes)",
        """
A directive in item text asks the site's renderer for more than item text may: `hlist :columns:`
above 12, `:emphasize-lines:` beyond the block's lines, `:lineno-start:` or `:number-lines:`
above 10^9, `:dedent:` above 1,000, `:header-rows:` or `:stub-columns:` above 100, `:widths:`
for more than 100 columns, a `:width:` above 10,000. Such numbers can make a build take
gigabytes of memory (three million list columns, a billion highlighted lines). The site shows
the directive as written instead; correct the option to the size you mean.
""",
    ),
    _rule(
        "T101",
        "need-not-refined",
        "need not refined by any system requirement",
        """
Every user need is a design input (ISO 13485 7.3.3) that must be refined into system
requirements; a need that no system requirement derives from is not designed for.
""",
    ),
    _rule(
        "T102",
        "requirement-without-parent",
        "requirement with no derives_from and no `derived` rationale",
        """
A requirement must trace up to what it refines (IEC 62304 5.2.6, 5.1.1 traceability). If it
has no parent on purpose (a derived requirement, e.g. from a design decision), say why in
`derived: <rationale>`.
""",
    ),
    _rule(
        "T103",
        "requirement-not-verified",
        "requirement not verified by any test",
        """
Every system and software requirement must be verified (IEC 62304 5.7.1, 5.7.4; ISO 13485
7.3.6): some test must list it under `verifies`, or an automated test result must name it
(`@pytest.mark.verifies("SWR-014")`, a JUnit `verifies` property). (Risk control requirements
are reported by R205 instead, so that one gap gives one finding.)
""",
    ),
    _rule(
        "T104",
        "need-not-validated",
        "need not validated by any test",
        """
Every user need must be validated under the intended use (ISO 13485 7.3.7): some test (usually
of level validation) must list it under `validates`.
""",
    ),
    _rule(
        "T105",
        "requirement-not-implemented",
        "software requirement not implemented by any software item (class B, C)",
        """
For software safety classes B and C the architecture must show which software item implements
each software requirement (IEC 62304 5.3.1, 5.3.6, 7.3.3). A requirement with its own
`safety_class: A` is exempt.
""",
        classes=("B", "C"),
    ),
    _rule(
        "T106",
        "test-without-target",
        "test that verifies and validates nothing",
        """
A test that lists nothing under `verifies` or `validates`, and that no hazard names under
`effectiveness`, proves nothing in the technical file: link it to what it verifies, or remove it.
""",
        default=Severity.WARNING,
    ),
    _rule(
        "T107",
        "matrix-cut",
        "traceability matrix with more rows than a matrix shows",
        """
The traceability matrix has a row per path along its chain of kinds, so paths multiply where
items link to many items on both sides: 25 items per level, each linking to all 25 above, give
millions of rows. A matrix makes at most 20,000 rows (on the site's page, in `qms matrix`,
the CSV download and the workbooks); the rows beyond are counted, and every format says how many
were left out and where they start. Nothing of the trace is lost (each item's page
and `qms show ID` show its links both ways), but an auditor cannot read it as one matrix: link
each item to what it refines, implements or verifies, rather than to everything of a level, or
read the trace per item.
""",
        default=Severity.WARNING,
    ),
    _rule(
        "R201",
        "risk-not-evaluable",
        "hazard whose initial risk cannot be evaluated (unknown severity or probability)",
        """
Risk estimation needs the severity of the harm and its probability (ISO 14971 5.5), written as
`probability` or, where the policy defines P1 x P2, as `p1` and `p2`. A hazard
that lacks either cannot be evaluated against the acceptability matrix. (A value that is not a
level of the policy is reported as Q002 where it was written.)
""",
    ),
    _rule(
        "R202",
        "uncontrolled-risk",
        "hazard whose initial risk is not acceptable and that has no control",
        """
A hazard whose initial risk falls in R (reduce as far as possible) or U (unacceptable) needs
risk control measures (ISO 14971 6, 7.1): list the requirements that control it in `controls`.
""",
    ),
    _rule(
        "R203",
        "no-residual-risk",
        "hazard with controls but no residual risk",
        """
Once controls are in place, the residual risk must be estimated and evaluated (ISO 14971 7.3):
add `residual: {severity: ..., probability: ...}`.
""",
    ),
    _rule(
        "R204",
        "residual-risk-not-acceptable",
        "residual risk R without benefit_risk, or residual risk U",
        """
A residual risk in R is acceptable only with a documented benefit-risk justification
(`benefit_risk`, ISO 14971 7.4); a residual risk in U is not acceptable at all: add controls
until it falls out of U.
""",
    ),
    _rule(
        "R205",
        "control-not-verified",
        "risk control (a requirement in some hazard's `controls`) not verified by any test",
        """
Each risk control measure must be verified: its implementation and its effectiveness (ISO 14971
7.2; IEC 62304 7.3.1). Some test must list the control requirement under `verifies`, or an
automated test result must name it.
""",
    ),
    _rule(
        "S301",
        "soup-not-identified",
        "SOUP item without version or supplier",
        """
IEC 62304 8.1.2 asks for each SOUP item's title, manufacturer and unique designator: give every
SOUP item a `version` (version, date or patch) and a `supplier`.
""",
    ),
    _rule(
        "S302",
        "soup-anomalies-not-evaluated",
        "SOUP item without known-anomalies evaluation (class B, C)",
        """
For classes B and C, the published anomaly list of each SOUP item must be evaluated for the
version in use (IEC 62304 7.1.3): list the relevant anomalies under `known_anomalies`, each with
its `evaluation` (an empty list states that none is relevant).
""",
        classes=("B", "C"),
    ),
    _rule(
        "S303",
        "soup-unused",
        "SOUP item used by no software item",
        """
A SOUP item that no software item `uses` is either missing from the architecture or no longer
part of the device: link it or remove it.
""",
        default=Severity.WARNING,
    ),
    _rule(
        "E401",
        "test-failed",
        "test whose latest result failed or errored",
        """
A test case that proves this test (named under its `evidence:` or naming the item in its
`verifies` property), or the test's newest execution record, failed or errored (a blocked
run counts as an error). The design output does not meet its input until the failure is fixed
and the test run again (IEC 62304 5.5.5, 5.6.7, 5.7.5; ISO 13485 7.3.6). The finding is on the
test item; for a result that names a requirement or software item directly, it is on that item.
""",
    ),
    _rule(
        "E402",
        "evidence-not-run",
        "test whose evidence ids match no result in the evidence files",
        """
An id under a test's `evidence:` matches no test case in the result files: the test was not
run (or was renamed, or its result file was not collected). A test that was not run verifies
nothing. Run it so that its JUnit XML lands where `evidence:` in qms.yaml looks (or pass the
file with `qms check --results FILE`), or correct the id. Ids match as `classname.name`,
`classname::name`, or a pytest node id (`tests/test_dosing.py::test_max_basal`); an id without
`[parameters]` matches every parametrization, and a classname (or dotted prefix of one)
matches every case in it.
""",
    ),
    _rule(
        "E403",
        "only-skipped",
        "requirement whose only test results were skipped",
        """
Every result behind this requirement (or software item, or need) was skipped, or recorded as
not applicable: no test that verifies it passed, and none failed. A skipped test proves
nothing, so the item is not verified (IEC 62304 5.7.4). Find out why the tests were skipped (a
missing fixture, a platform condition, an `xfail`) and run them, or verify the item by another
passing test.
""",
    ),
    _rule(
        "E404",
        "result-names-unknown-item",
        "test result whose `verifies` property names an unknown item",
        """
A test case in a result file carries `<property name="verifies" value="ID"/>` (written by
`@pytest.mark.verifies` or `record_property`) for an id that is not in the project, or that
names an item a test result cannot verify (only tests, requirements, software items and needs
can be). The result proves nothing until the id is corrected in the test code.
""",
    ),
    _rule(
        "E405",
        "test-not-run",
        "test with no result: no JUnit result and no execution record",
        """
No result file holds a result for this test and no execution record records a run of it: it
was not executed, or its execution was not recorded. IEC 62304 5.5.5, 5.6.7 and 5.7.5 ask for
the results of every verification, and a requirement whose test was never run is not verified.
Run the test and keep its record: for automated tests, list the JUnit test ids under
`evidence:` (or mark the test code `@pytest.mark.verifies("TST-...")`) and let the result file
land where `evidence:` in qms.yaml looks; for manual tests, inspections, analyses and
validation, record the execution with `qms record TEST-ID --outcome passed` (or write an
execution record under `records:`). A test whose `evidence:` entries match nothing is reported
by E402 instead.
""",
        classes=("B", "C"),
    ),
    _rule(
        "E406",
        "failure-without-anomaly",
        "failed test with no anomaly that records and evaluates the failure",
        """
A test whose latest result failed (or errored, or whose run was blocked) has no anomaly item
linked to it with an evaluation. IEC 62304 5.6.8, 5.7.5 and 9.1 ask that anomalies found in
verification are entered in the problem resolution process and evaluated; 5.8.2-5.8.3 that
residual anomalies are evaluated before release. Raise an `anomaly` item that `affects` the
test or the requirement it verifies (or list it under `anomalies:` in the failing execution
record) and write its `evaluation`, then fix and re-run.
""",
    ),
    _rule(
        "E407",
        "stale-result",
        "result that ran before the last change of its test or of what the test verifies",
        """
The result (a JUnit test case or an execution record) ran on a revision older than the last
change of its test item or of an item that test verifies or validates: it no longer speaks for
what the items say now (IEC 62304 5.7.5 asks for results of the software under release, 7.4.3
and 9.7 for re-verification after a change). The message names the change: who, when, which
commit.

How "before" is judged: a result that names the commit it ran on (`commit:` in a record, the
`qms:commit` property the qms pytest plugin writes) is before the change when the change's
commit is not that commit or one of its ancestors. A result whose commit git does not know,
that ran on a tree with uncommitted changes (`+dirty`), or that names none is judged by time:
it ran before the change when its time (the record's `executed_at`, the result file's suite
timestamp, else the file's modification time) is earlier than the change's author date. A
change not yet committed counts from the file's modification time. Outside git, results are
not checked for staleness (`qms status` says so).

Lines of fields that only classify an item do not count as a change: a requirement's `type`
(IEC 62304 5.2.2), `control_type` (ISO 14971 7.1) and `safety_class` (IEC 62304 4.3). They sort
the item; none states a behaviour the test observed, so correcting one (a software check
relabelled a protective measure) leaves its results current. What a new safety class asks for
is checked by the rules of that class.

Re-run the test on the current revision and record the new result (a re-run is a new record).
""",
    ),
    _rule(
        "E408",
        "record-attachment",
        "execution record attachment outside the project, missing, or changed since recorded",
        """
An execution record lists an attachment (a log, a screenshot, a signed protocol) with the
sha256 it had when the run was recorded. The file must be in the project (the repository keeps
it), and must still have that sha256: a missing or changed attachment no longer backs the
record (IEC 62304 5.7.5, ISO 13485 4.2.5 control of records). Restore the file from git. A new
run is a new record with its own attachments; a record is never edited after the fact.
""",
    ),
    _rule(
        "C501",
        "suspect-link",
        "suspect link: the linked item changed since the link was last reviewed",
        """
Every trace link is reviewed against what its target said at the time, and the review is
stamped in `qms.lock` (one line per link with a digest of the target's content). When the
target's content changes (its text, title, severity... any field but its own links and `x-`
fields; not whitespace, comments or layout), each link pointing at it becomes suspect: the
requirement derived from it, the software item implementing it, the test verifying it and the
hazard it controls may no longer hold. There is one finding per changed target, at the target,
naming the linking items still to check and who last changed the target and when (where git can
tell). Check that each linking item still holds against the changed target (edit it if not),
then run the one command the finding names, `qms review TARGET`, which stamps every link to and
from the target. Commit `qms.lock` with the change.

A new link (never reviewed) is not suspect: it is reviewed with the change that adds it (the
pull request), and `qms review --all` stamps every link in the release process. A release check
(`qms check --release`) reports links still unstamped as one finding. To have each new link
reported until it is stamped, set `change_control: {review_new_links: true}` in qms.yaml: one
finding per item with unreviewed links, naming `qms review ITEM`.

A project without `qms.lock` has not started change control and gets no C501 finding:
`qms review --all` starts it (`qms init` does so for new projects).

Default severity is error: a change whose impact nobody reviewed must block a release (IEC 62304
7.4 asks for the safety impact of every change). Set `C501: warning` to see suspect links
without failing the check while a change is in progress.
""",
    ),
    _rule(
        "A601",
        "document-not-approved",
        "release with a document that was never approved in every role it needs",
        """
A document of the technical file is issued with a release: ISO 13485 4.2.4 asks that it is reviewed
and approved before issue, by the roles the quality system names (`roles` in qms.yaml; by default
author, reviewer and approver), and ISO 14971 9 asks for the risk management report's sign-off.
This finding lists each document that no complete set of roles ever approved (a draft).

It is reported only for a release check: `qms check --release`, or `qms check` on a commit that
carries the tag of `device.version` (2.1.0 or v2.1.0). During development drafts are normal and
the document-control block of each page shows the state.

Approve with `qms approve DOC-ID --role ROLE` (once per role), then commit approvals.yaml
(signed: `git commit -S`). Default severity is error for every class: a release with unapproved
documents has not issued them.
""",
    ),
    _rule(
        "A602",
        "document-changed-since-approval",
        "release with a document whose content changed since it was approved",
        """
An approval covers the document's content digest: its templates, the items it shows with their
fields and links, the configuration it shows and the verification statuses it prints. When any of
these changes, the approval no longer speaks for what the document says (ISO 13485 4.2.4: changes
are reviewed and approved again). The finding names the document, the approval it moved on from,
and the items and files that changed since that approval's commit, with who changed them (from
git); when none of these changed, the verification results it prints did, or the approval's digest
was edited by hand and matches no state the document had.

Reported only for a release check (`qms check --release`, or a commit tagged with
`device.version`): between releases a document changes as work goes on, and its page shows
"changed since approval". Review the changes, then `qms approve DOC-ID --role ROLE` again for each
role. Default severity is error for every class.
""",
    ),
    _rule(
        "A603",
        "approval-entry-invalid",
        "an entry of approvals.yaml that does not read as an approval",
        """
`approvals.yaml` is written by `qms approve` and only ever appended to. An entry that is missing a
field (document, digest, role, name, email, at, meaning), names a document or role that does not
exist, names a person who does not hold the role (`roles.people` in qms.yaml), has a date-time
without a time zone or a digest not in the form `qms approve` writes, or repeats an earlier
approval, does not count as an approval: an approval must say exactly who approved which content,
when, and in which role.

Fix the entry by hand only to repair such a mistake, and record the reason in the commit message;
otherwise remove it and approve again with `qms approve`. Default severity is error for every
class, at any time.
""",
    ),
    _rule(
        "Q008",
        "placeholder",
        "placeholder text of `qms init` not replaced yet",
        """
`qms init` writes placeholders where only the manufacturer knows what is true: the manufacturer
in qms.yaml ("Your Company") and the intended use ("State the intended use: ..."). They let a
new project check and build at once, but they would appear in the technical file as if they
were the device's: replace each with what is true for the device. The finding is a warning, so a
new project checks clean until then; `qms check --strict` (or `rules: {Q008: error}`) fails on it.
""",
        default=Severity.WARNING,
    ),
    _rule(
        "L701",
        "problem-report-incomplete",
        "closed problem report without investigation, safety relevance, resolution or verification",
        """
IEC 62304 9.2 asks that each problem is investigated, its relevance to safety evaluated through
the risk management process, and either a change request raised or the decision to take no
action justified; 9.7 asks that the resolution is verified. Once a problem report's `status` is
resolved or closed it needs `investigation`, `safety_relevance`, a change request that
`resolves` it or a `no_action_rationale`, and, when a change request resolves it, the
`verification` of the fix.
""",
    ),
    _rule(
        "L702",
        "change-request-incomplete",
        "change request without impact or risk analysis, or carried out without approval",
        """
IEC 62304 6.2.3 asks for the effect of each change request on the organisation, the released
software and the systems it interfaces with (`impact`); 7.4.1 and 7.4.2 for its safety
analysis: new causes of hazardous situations and its effect on existing risk controls
(`risk_analysis`, with the `hazards` and `controls_changed` it names); 6.2.4 and ISO 13485 7.3.9
for its approval before it is carried out (`approved_by`, `approved_on`). A change request whose
`status` is approved, implemented or verified needs all of these; a proposed one needs the
impact and risk analysis only once it is put up for approval, so it is not reported.
""",
    ),
    _rule(
        "L703",
        "change-without-request",
        "item changed since the previous release that no change request lists (class B, C)",
        """
IEC 62304 8.2.1 lets a configuration item change only through an approved change request, and
8.2.4 asks that each change can be traced to its request. With `release: {previous: TAG}` in
qms.yaml, every item added, changed or removed since that tag (what `qms diff` lists) must be
named by a change request: in its `changes` (added or changed items) or `retires` (removed
items). Problem reports, change requests and design reviews are records of the process and need
none. Fix: list the item in the change request that changed it, or raise one.

The check needs git and the previous release's tag; without git it reports nothing, and when
the tag cannot be read it says so here. Without `release: previous`, a release check (`qms check
--release`, or a commit tagged with `device.version`) whose change requests name this release as
theirs reports that no baseline is named: the changes would go out never compared with what was
released. Where the history holds no state of the previous release (it was made before the
records were kept in git), say so in `release: {no_baseline: WHY}`: the release notes print it,
and the check accepts it, so the absence is stated rather than passed over.
""",
        classes=("B", "C"),
    ),
    _rule(
        "L704",
        "design-stage-not-reviewed",
        "release with a design stage that no design review closed",
        """
ISO 13485 7.3.2 asks the design plan to name the stages of design and development and the review
at each; 7.3.5 asks for a record of each review. The stages are `design_stages` in qms.yaml; a
`design_review` item with `stage: NAME` and an outcome of approved or approved_with_actions
closes one. A stage no such review closes is reported for a release check (`qms check
--release`, or a commit tagged with `device.version`): during development, later stages are
naturally still open.
""",
    ),
    _rule(
        "L705",
        "design-review-unknown-stage",
        "design review of a stage the design plan does not declare",
        """
A design review closes a stage of the design plan (ISO 13485 7.3.2, 7.3.5): its `stage` must
name one of `design_stages` in qms.yaml, or the review closes nothing. Fix the stage name, or
declare the stage in qms.yaml.
""",
    ),
    _rule(
        "L706",
        "unit-not-verified",
        "software unit that no test verifies (class B, C)",
        """
IEC 62304 5.5.3 and 5.5.5 (classes B and C) ask that each software unit meets its acceptance
criteria and that its verification is recorded. A `software_unit` needs a test item that
`verifies` it, or a test result that names it (`@pytest.mark.verifies("SU-...")`).
""",
        classes=("B", "C"),
    ),
    _rule(
        "L707",
        "no-detailed-design",
        "release with a class C software item that has neither sub-items nor software units (class C)",
        """
IEC 62304 5.4.2 and 5.4.3 ask, for class C, for a detailed design of each software unit and of
its interfaces. A class C software item at the bottom of the architecture (no item names it as
`parent`) needs at least one `software_unit` with `parent` naming it. The item's class is its own
`safety_class`, else its parent's, else the system's.

It is reported for a release check (`qms check --release`, or a commit tagged with
`device.version`; IEC 62304 5.8.6: every planned activity complete): while the design is worked
out, items without units yet are normal.
""",
        classes=("C",),
    ),
    _rule(
        "L708",
        "segregation-not-declared",
        "software item classed below its parent without declared segregation (class C)",
        """
A software item may have a lower safety class than the item it belongs to only when it is
segregated from the items that could make it contribute to a hazardous situation (IEC 62304
4.3, 5.3.5): record the segregation it relies on in `segregation` (the mechanism that makes it
effective) and the items it is separated from in `segregated_from`. The architecture's
segregation section lists exactly the items that declare one.
""",
        classes=("C",),
    ),
    _rule(
        "S304",
        "soup-version-not-unique",
        "SOUP version that names a range or 'or later' instead of one release",
        """
IEC 62304 8.1.2 asks for each SOUP item's unique designator: the version identifies exactly one
release, so that its anomaly list (7.1.3) and the released configuration (8.1.3) refer to what
was verified. A range (`11-14`), a comparison (`>=2.0`, `^1.2`), a wildcard (`1.x`), `2.0+` or
words such as "or later" and "latest" name several releases: pin the version (one SOUP item per
version where several are supported) and record what is checked at run time in `requirements`.
""",
    ),
    _rule(
        "L761",
        "release-step-not-evidenced",
        "release with a release-checklist step whose evidence is missing or not met",
        """
The development plan's release procedure (`plans.development.release_checklist` in qms.yaml,
IEC 62304 5.8) lists the steps of a release, each with the records that evidence it: item ids (a
test or requirement must have passed), document ids (SDP, SVR...) or `kind:NAME` (at least one
record of that kind). This finding names each step whose evidence is absent, unknown, or not
passed, so that the checklist rendered in the development plan never shows a step done that the
records do not show.

Reported only for a release check (`qms check --release`, or a commit tagged with
`device.version`): during development open steps are normal. Give the step its evidence, or
produce the record it names. Default severity is error for every class (5.8.1, 5.8.6).
""",
    ),
    _rule(
        "L762",
        "requirement-without-type",
        "requirement without a type while the development plan is kept as data (IEC 62304 5.2.2)",
        """
IEC 62304 5.2.2 lists what software requirements must cover: functional and performance,
inputs and outputs, interfaces, alarms, security, usability, data, installation, operation,
IT network, user maintenance and regulatory requirements. With `type:` on each requirement, the
software requirements specification shows a coverage table per type, so an empty category is
visible.

Reported for each system or software requirement without `type` once the project keeps its
development plan as data (`plans.development` in qms.yaml): the plan commits to typed
requirements. Add `type:` (one of the values `qms schema` lists) after the requirement's title.
Default severity is warning for every class.
""",
        default=Severity.WARNING,
    ),
    _rule(
        "G801",
        "gspr-without-evidence",
        "applicable GSPR with no evidence document",
        """
MDR Annex II 4 asks, for each applicable general safety and performance requirement of Annex I,
the method of conformity, the standards applied and the precise identity of the controlled
documents that give the evidence. An entry of `regulatory.gspr` in qms.yaml with `applies:
true` and no `evidence` claims conformity with nothing to show for it.

Name the documents under `evidence`: a document id of the technical file (SRS), a section of it
(SRS#srs-types), or the id of an entry of `regulatory.external_documents` (labelling, clinical
evaluation). Default severity is error for every class.
""",
    ),
    _rule(
        "G802",
        "gspr-evidence-unresolved",
        "GSPR evidence naming a document or section that does not exist",
        """
Each evidence entry of the GSPR checklist must resolve to a document of the technical file (its
id, and the label of one of its sections after #) or to an entry of
`regulatory.external_documents`: the checklist shows the document's id, revision and section,
and an entry that resolves to nothing would leave a reviewer with no document to open.

Correct the id or label (the message lists the document's sections), or add the external
document. Default severity is error for every class.
""",
    ),
    _rule(
        "G803",
        "gspr-not-applicable-without-justification",
        "GSPR marked not applicable with no justification",
        """
MDR Annex II 4 (a) asks why each general safety and performance requirement that does not apply
does not: an entry of `regulatory.gspr` with `applies: false` must give its `justification`
(for software only devices, for example, why a material or energy requirement cannot arise).
Default severity is error for every class.
""",
    ),
    _rule(
        "R206",
        "control-effectiveness-not-verified",
        "hazard whose risk control measures no test or analysis shows to be effective (class B, C)",
        """
ISO 14971 7.2 asks for two verifications of each risk control measure: that it is implemented
(the tests that verify the control requirement, R205) and that it is effective, i.e. that it
actually reduces the risk of the hazardous situation. Effectiveness is shown by a test, a
validation or usability activity, or an analysis that the hazard names under `effectiveness`.
""",
        classes=("B", "C"),
    ),
    _rule(
        "R207",
        "residual-severity-lowered",
        "hazard whose residual severity is lower than its initial severity, with no justification",
        """
Risk control measures usually lower the probability of harm; the harm itself, and so its
severity, usually stays (ISO 14971 7.3). A residual severity lower than the initial one needs a
written reason in `residual_rationale` (for example: a control that bounds the dose, so the
worst possible harm is now a lesser one), or the initial severity kept.
""",
    ),
    _rule(
        "R208",
        "software-control-lowest-probability",
        "hazard with software-only controls credited with the lowest probability, unjustified (class B, C)",
        """
A software failure's probability cannot be estimated (IEC 62304 4.3; IEC/TR 80002-1): a hazard
whose controls are all software requirements is not, by itself, brought to the lowest
probability level. State in `residual_rationale` why the residual probability is that low (an
independent check, a physical bound), or raise it.
""",
        classes=("B", "C"),
    ),
    _rule(
        "R209",
        "benefit-risk-without-evidence",
        "residual risk R whose benefit-risk justification references no evidence in the file",
        """
A benefit-risk justification (ISO 14971 7.4) must rest on evidence the file holds: list under
`benefit_risk_evidence` the item ids (a validation, a labelling item), document ids (as in the
document-control block) or project files (a clinical evaluation report) it relies on. Each entry
must resolve.
""",
    ),
    _rule(
        "R210",
        "control-not-reviewed-for-new-risks",
        "risk control without a record of its review for new hazards (ISO 14971 7.5)",
        """
Each risk control measure must be reviewed for hazards it introduces and for its effect on
risks already identified (ISO 14971 7.5; IEC 62304 7.3.1). Record the review and its outcome as
a `control_review` item that lists the control under `reviews`; a hazard the control introduces
names it under `arising_from`.
""",
    ),
    _rule(
        "R211",
        "safety-information-not-in-labeling",
        "information-for-safety control that no labelling item carries",
        """
Information for safety (ISO 14971 7.1 c) reaches users only through labelling, the instructions
for use, warnings or training. Each control with `control_type: information_for_safety` must be
carried by a `labeling` item (its `carries` field) that says where users find it.
""",
    ),
    _rule(
        "R212",
        "residual-risk-not-disclosed",
        "residual risk R that no labelling item discloses",
        """
Significant residual risks must be disclosed in the accompanying documents (ISO 14971 8): a
residual risk in R needs a `labeling` item that names the hazard under `discloses`.
""",
    ),
    _rule(
        "R213",
        "characteristic-not-analysed",
        "safety characteristic or misuse that leads to no hazard and is not marked not applicable",
        """
Each answer to a safety question (ISO/TR 24971 Annex A; ISO 14971 5.2, 5.3) either leads to
hazards (`leads_to`) or says why it does not apply to the device (`not_applicable`).
""",
    ),
    _rule(
        "R214",
        "hazard-without-characteristic",
        "hazard that no intended use, misuse or safety characteristic leads to",
        """
Hazards are identified from the intended use, the reasonably foreseeable misuse and the
characteristics related to safety (ISO 14971 5.2-5.4). A hazard that no `safety_characteristic`
item names under `leads_to` has no recorded origin in that analysis.
""",
    ),
    _rule(
        "R215",
        "hazard-without-cause",
        "hazard that names no cause (class B, C)",
        """
IEC 62304 7.1.2-7.1.4: the causes of each hazardous situation the software can contribute to,
and their sequences of events, are recorded: list `cause` items under the hazard's `causes`.
""",
        classes=("B", "C"),
    ),
    _rule(
        "R216",
        "cause-without-item",
        "cause (other than misuse) that names no contributing software item or SOUP (class B, C)",
        """
IEC 62304 7.1.1: the software items (and SOUP, 7.1.2 c) whose failure contributes to a
hazardous situation are identified. A cause of any type but `misuse` lists them under `items`;
a `soup_failure` cause names at least one SOUP item.
""",
        classes=("B", "C"),
    ),
    _rule(
        "R217",
        "item-contributes-to-no-hazard",
        "class B or C software item that no cause names, with no statement why (class B, C)",
        """
IEC 62304 7.1.1 asks which software items can contribute to a hazardous situation. A software
item of class B or C that no cause names (itself or an item it contains) states in
`no_hazard_rationale` why its failure contributes to none, or is classified A with a rationale.
""",
        classes=("B", "C"),
        default=Severity.WARNING,
    ),
    _rule(
        "R218",
        "probability-not-on-split-scale",
        "hazard whose p1 or p2 is off the policy's P1 or P2 scale, or disagrees with its probability",
        """
In P1 x P2 mode (ISO 14971 Annex C) a hazard writes `p1` (probability of the hazardous
situation; `not estimated` for a software cause, worst case assumed) and `p2` (probability of
harm once in the situation), each a level of the policy's scale; the combination table gives
the probability. A `probability` written beside them must agree; without P1 x P2 scales in the
policy, `p1` and `p2` cannot be evaluated.
""",
    ),
    _rule(
        "R219",
        "soup-anomaly-hazard-not-named",
        "SOUP item whose anomalies contribute to hazards it does not name, or that no cause traces to it",
        """
IEC 62304 7.1.2 c and 7.1.3: where a SOUP failure is a cause of a hazardous situation, its
published anomalies are evaluated for whether they lead to one. A SOUP item that a cause names
under `items` and that lists `known_anomalies` names the hazards its anomalies, as evaluated,
contribute to under `hazards` (`hazards: []` states that none does). Each hazard named there has
a cause that names the SOUP item, so the risk register shows hazard -> cause -> SOUP.
""",
        classes=("B", "C"),
    ),
    _rule(
        "Q009",
        "text-markup",
        "item text the site cannot render (markup error, refused directive, role or link, unknown item id)",
        """
The site renders item text (`text`, `description`, test steps, anomaly evaluations, `x-` text
fields, the device's intended use) as reStructuredText, with less power than a page: no raw HTML,
no included files, only admonitions, code, maths, tables and a few more directives (the message
about a refused one lists them), inline and link roles, links only to http, https and mailto
addresses. `qms check` parses each text the same way and reports here what
`qms build` would warn about, at the YAML line of the offending text line: an emphasis or literal
left open (`*word`, a lone backquote), a list or block without the blank line before it, an
indentation docutils cannot place, a section title (item text has none), a link target
(`` `name`_ ``) the text does not define, a directive or role item text may not use, an
`:item:` naming an id no item has. Text without any markup character is plain prose and needs no
parse. What only Sphinx knows (its directives' options, `:ref:` and `:doc:` targets) is left to
the build. Sizes beyond their bounds are Q011's, links in maths Q010's.
""",
    ),
)

#: Every rule by code, in the order of DESIGN.md's families.
SPECS: Mapping[str, RuleSpec] = MappingProxyType({spec.code: spec for spec in _TABLE})
