"""The `generated_copy` frame: one row per product's copy result, and reading it back.

``copy_frame`` lays the writer's results out as the stage's table (list fields as JSON
text); ``with_generated_copy`` nests a product's row back into its record for the audit
and the bundle. ``generation_versions`` is what a batch's copy was produced with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from structr_pipeline.core.audit.scoring import USABLE_COPY
from structr_pipeline.core.generation.providers import Usage
from structr_pipeline.core.generation.writer import CopyResult

STATUSES = ("generated", "cached", "failed", "skipped_unchanged")
COPY_FIELDS = ("seo_title", "title", "description_html", "bullets", "meta_description", "image_alt")
COLUMNS = (
    "handle",
    "status",
    *COPY_FIELDS,
    "flags",
    "error",
    "attempts",
    "cache_key",
    "provider",
    "model",
    "prompt_version",
)


def generation_versions(provider: str, model: str, prompt_version: str) -> dict[str, str]:
    """What a batch's copy was produced with; a change of any of these makes it stale."""
    return {"provider": provider, "model": model, "prompt_version": prompt_version}


def copy_frame(
    results: Sequence[CopyResult], provider: str, model: str, prompt_version: str
) -> pd.DataFrame:
    """The results as the `generated_copy` table, one row per product, in their order."""
    rows = []
    for r in results:
        copy = r.copy or {}
        row = {name: copy.get(name, "") for name in COPY_FIELDS}
        row["bullets"] = json.dumps(copy.get("bullets", []), ensure_ascii=False)
        row["image_alt"] = json.dumps(copy.get("image_alt", []), ensure_ascii=False)
        row.update(
            handle=r.handle,
            status=r.status,
            flags=json.dumps(r.flags, ensure_ascii=False),
            error=r.error,
            attempts=r.attempts,
            cache_key=r.cache_key,
            provider=provider,
            model=model,
            prompt_version=prompt_version,
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["attempts"] = frame["attempts"].astype("int64")
    return frame


def total_usage(results: Iterable[CopyResult]) -> Usage:
    """The tokens all the results cost together."""
    usage = Usage()
    for r in results:
        usage = usage + r.usage
    return usage


def with_generated_copy(records: Iterable[dict[str, Any]], generated: pd.DataFrame) -> list[dict]:
    """Product records with their generated copy (and its status and flags) nested."""
    by_handle = {row["handle"]: row for row in generated.to_dict("records")}
    out = []
    for record in records:
        row = by_handle.get(record["handle"])
        if row is not None:
            usable = row["status"] in USABLE_COPY
            copy = {name: row[name] for name in COPY_FIELDS} if usable else {}
            for name in ("bullets", "image_alt"):
                if name in copy:
                    copy[name] = json.loads(copy[name] or "[]")
            record["generated_copy"] = {
                "status": row["status"],
                "copy": copy,
                "flags": json.loads(row["flags"] or "[]"),
                "model": row["model"],
                "prompt_version": row["prompt_version"],
            }
        out.append(record)
    return out
