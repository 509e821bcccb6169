"""The latest audit of every catalog product, for catalog-wide exports and quality trends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from structr_pipeline.store.db import CatalogDB, product_quality, products

GRADES = ("A", "B", "C", "D", "E")
_CHUNK = 900


@dataclass(frozen=True)
class QualityRow:
    """One product's audit result as the catalog keeps it."""

    handle: str
    score: float
    grade: str
    issues: list[dict[str, Any]]
    copy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogQuality:
    """Grades, mean score and top issue codes over the catalog's live (not archived) products."""

    products: int
    audited: int
    grade_counts: dict[str, int]
    mean_score: float | None
    top_issues: list[tuple[str, int]]


def save_quality(db: CatalogDB, rows: Iterable[QualityRow], batch_id: str) -> int:
    """Record the latest audit of each product (replacing an earlier batch's)."""
    now = datetime.now(UTC)
    values = [
        {
            "handle": r.handle,
            "score": float(r.score),
            "grade": r.grade,
            "issues": list(r.issues),
            "copy": dict(r.copy),
            "batch_id": batch_id,
            "audited_at": now,
        }
        for r in {r.handle: r for r in rows}.values()
    ]
    handles = [v["handle"] for v in values]
    with db.write() as conn:
        for start in range(0, len(handles), _CHUNK):
            chunk = handles[start : start + _CHUNK]
            conn.execute(product_quality.delete().where(product_quality.c.handle.in_(chunk)))
        if values:
            conn.execute(product_quality.insert(), values)
    return len(values)


def published_copy(db: CatalogDB) -> dict[str, dict[str, Any]]:
    """The generated copy each audited product was published with, by handle."""
    with db.read() as conn:
        rows = conn.execute(sa.select(product_quality.c.handle, product_quality.c.copy)).all()
    return {handle: dict(copy or {}) for handle, copy in rows if copy}


def catalog_quality(db: CatalogDB, top: int = 10) -> CatalogQuality:
    """Grade counts, mean score and the most frequent issue codes of live products."""
    live = products.c.status != "archived"
    with db.read() as conn:
        n_products = conn.execute(
            sa.select(sa.func.count()).select_from(products).where(live)
        ).scalar_one()
        rows = conn.execute(
            sa.select(product_quality.c.score, product_quality.c.grade, product_quality.c.issues)
            .select_from(
                product_quality.join(products, products.c.handle == product_quality.c.handle)
            )
            .where(live)
        ).all()
    grades = Counter(grade for _, grade, _ in rows)
    codes: Counter[str] = Counter()
    for _, _, issues in rows:
        codes.update({issue["code"] for issue in issues or [] if isinstance(issue, Mapping)})
    return CatalogQuality(
        products=int(n_products),
        audited=len(rows),
        grade_counts={g: int(grades.get(g, 0)) for g in GRADES},
        mean_score=round(sum(s for s, _, _ in rows) / len(rows), 2) if rows else None,
        top_issues=codes.most_common(top),
    )
