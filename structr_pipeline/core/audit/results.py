"""The `audited_products` frame and the audit's one bounded fix pass.

``fix_requests`` picks the products whose usable copy has fixable issues and says what
to fix; ``apply_fixes`` lays regenerated copy over their records; ``audit_frame`` lays
the audits before and after the fix pass out as the stage's table (lists as JSON text);
``audits_from_frame`` reads them back for the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from structr_pipeline.core.audit.scoring import USABLE_COPY, ProductAudit, fix_feedback
from structr_pipeline.core.generation.writer import CopyResult

AUDIT_COLUMNS = (
    "handle",
    "score",
    "grade",
    "issues",
    "components",
    "has_errors",
    "holds_back",
    "score_before",
    "grade_before",
    "issues_before",
    "components_before",
    "fix",
    "copy_status",
    "copy",
    "flags",
    "model",
    "prompt_version",
)


def fix_requests(records: Sequence[Mapping[str, Any]], audits: Iterable[ProductAudit]) -> dict:
    """Handle → the audit's instructions, for products whose copy can be regenerated once.

    Only products whose copy was written or taken from the cache in this batch are sent
    back (unchanged products make no model call).
    """
    by_handle = {r["handle"]: r for r in records}
    feedback = {}
    for audit in audits:
        record = by_handle[audit.handle]
        if (record.get("generated_copy") or {}).get("status") not in USABLE_COPY:
            continue
        instructions = fix_feedback(audit)
        if instructions:
            feedback[audit.handle] = "\n".join(f"- {line}" for line in instructions)
    return feedback


def apply_fixes(records: Sequence[dict[str, Any]], results: Iterable[CopyResult]) -> dict:
    """Lay regenerated copy over ``records``; returns handle → outcome of the fix.

    A regenerated copy replaces the old one when it parses; otherwise the old copy stays
    and the outcome says why (``failed: …``).
    """
    by_handle = {r["handle"]: r for r in records}
    outcome = {}
    for r in results:
        if r.status in USABLE_COPY and r.copy is not None:
            generated = by_handle[r.handle]["generated_copy"]
            generated["copy"] = r.copy
            generated["flags"] = r.flags
            generated["status"] = r.status
            outcome[r.handle] = "regenerated"
        else:
            outcome[r.handle] = f"failed: {r.error}"
    return outcome


def _fix_result(first: ProductAudit, audit: ProductAudit, outcome: str) -> str:
    if not outcome:
        return "not_needed" if not fix_feedback(first) else "not_attempted"
    if outcome.startswith("failed"):
        return "failed"
    return "improved" if audit.score > first.score else "not_improved"


def _issues(audit: ProductAudit) -> str:
    return json.dumps([i.to_dict() for i in audit.issues], ensure_ascii=False)


def audit_frame(
    records: Sequence[Mapping[str, Any]],
    before: Iterable[ProductAudit],
    after: Sequence[ProductAudit],
    outcome: Mapping[str, str],
) -> pd.DataFrame:
    """One row per product: the audit after the fix pass, the one before, the final copy."""
    before_by_handle = {a.handle: a for a in before}
    rows = []
    for record, audit in zip(records, after, strict=True):
        first = before_by_handle[audit.handle]
        generated = record.get("generated_copy") or {}
        rows.append(
            {
                "handle": audit.handle,
                "score": float(audit.score),
                "grade": audit.grade,
                "issues": _issues(audit),
                "components": json.dumps(audit.components),
                "has_errors": bool(audit.has_errors),
                "holds_back": json.dumps(audit.holds_back),
                "score_before": float(first.score),
                "grade_before": first.grade,
                "issues_before": _issues(first),
                "components_before": json.dumps(first.components),
                "fix": _fix_result(first, audit, outcome.get(audit.handle, "")),
                "copy_status": str(generated.get("status", "")),
                "copy": json.dumps(generated.get("copy") or {}, ensure_ascii=False),
                "flags": json.dumps(generated.get("flags") or [], ensure_ascii=False),
                "model": str(generated.get("model", "")),
                "prompt_version": str(generated.get("prompt_version", "")),
            }
        )
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def audits_from_frame(audited: pd.DataFrame, suffix: str = "") -> list[ProductAudit]:
    """The audits an `audited_products` frame holds: after the fix pass, or with
    ``suffix="_before"`` before it."""
    return [
        ProductAudit.from_dict(
            {
                "handle": row["handle"],
                "score": row[f"score{suffix}"],
                "grade": row[f"grade{suffix}"],
                "issues": json.loads(row[f"issues{suffix}"] or "[]"),
                "components": json.loads(row[f"components{suffix}"] or "{}"),
            }
        )
        for row in audited.to_dict("records")
    ]
