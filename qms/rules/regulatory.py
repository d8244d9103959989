"""G rules: the GSPR checklist of MDR Annex II 4, each applicable requirement with evidence that
resolves to a document, its revision and section."""

from __future__ import annotations

from collections.abc import Iterator

from qms.regulatory import gspr_rows
from qms.rules import CheckContext, Hit, rule


@rule(
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
)
def gspr_without_evidence(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        if row.applies and not row.evidence:
            yield Hit(
                f"GSPR {row.number} applies but names no evidence document (MDR Annex II 4)",
                config.location(("regulatory", "gspr", row.index)),
            )


@rule(
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
)
def gspr_evidence_unresolved(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        for index, ref in enumerate(row.evidence):
            if ref.problem:
                yield Hit(
                    f"GSPR {row.number} evidence '{ref.ref}': {ref.problem}",
                    config.location(("regulatory", "gspr", row.index, "evidence", index)),
                )


@rule(
    "G803",
    "gspr-not-applicable-without-justification",
    "GSPR marked not applicable with no justification",
    """
MDR Annex II 4 (a) asks why each general safety and performance requirement that does not apply
does not: an entry of `regulatory.gspr` with `applies: false` must give its `justification`
(for software only devices, for example, why a material or energy requirement cannot arise).
Default severity is error for every class.
""",
)
def gspr_not_applicable_without_justification(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        if not row.applies and not row.justification:
            yield Hit(
                f"GSPR {row.number} is marked not applicable without a justification (MDR Annex II 4 a)",
                config.location(("regulatory", "gspr", row.index)),
            )
