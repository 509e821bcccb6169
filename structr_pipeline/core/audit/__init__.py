"""The audit stage: score each product 0–100, grade it A–E, explain every lost point, report.

``audit_products`` scores product records (with their generated copy) and
``fix_feedback`` turns a product's fixable issues into instructions for one more round
of copy generation; ``summarize`` condenses a batch and ``render_report`` /
``write_report`` make the self-contained HTML quality report.
"""

from structr_pipeline.core.audit.report import (
    ReportData,
    rejected_entries,
    render_report,
    write_report,
)
from structr_pipeline.core.audit.rules import (
    COMPONENTS,
    GRADES,
    RULES,
    AuditSettings,
    AuditSettingsError,
    Rule,
)
from structr_pipeline.core.audit.scoring import (
    AuditIssue,
    AuditSummary,
    Content,
    ImageContent,
    ProductAudit,
    audit_products,
    effective_content,
    fix_feedback,
    grade_for,
    summarize,
)

__all__ = [
    "COMPONENTS",
    "GRADES",
    "RULES",
    "AuditIssue",
    "AuditSettings",
    "AuditSettingsError",
    "AuditSummary",
    "Content",
    "ImageContent",
    "ProductAudit",
    "ReportData",
    "Rule",
    "audit_products",
    "effective_content",
    "fix_feedback",
    "grade_for",
    "rejected_entries",
    "render_report",
    "summarize",
    "write_report",
]
