"""G rules: the GSPR checklist of MDR Annex II 4, each applicable requirement with evidence that
resolves to a document, its revision and section."""

from __future__ import annotations

from collections.abc import Iterator

from qms.regulatory import gspr_rows
from qms.rules.registry import CheckContext, Hit, rule


@rule("G801")
def gspr_without_evidence(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        if row.applies and not row.evidence:
            yield Hit(
                f"GSPR {row.number} applies but names no evidence document (MDR Annex II 4)",
                config.location(("regulatory", "gspr", row.index)),
            )


@rule("G802")
def gspr_evidence_unresolved(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        for index, ref in enumerate(row.evidence):
            if ref.problem:
                yield Hit(
                    f"GSPR {row.number} evidence '{ref.ref}': {ref.problem}",
                    config.location(("regulatory", "gspr", row.index, "evidence", index)),
                )


@rule("G803")
def gspr_not_applicable_without_justification(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    for row in gspr_rows(context.project, {}):
        if not row.applies and not row.justification:
            yield Hit(
                f"GSPR {row.number} is marked not applicable without a justification (MDR Annex II 4 a)",
                config.location(("regulatory", "gspr", row.index)),
            )
