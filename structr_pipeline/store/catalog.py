"""The product catalog: idempotent upserts of validated products and reading the catalog back.

Products are keyed by handle. Each upsert replaces a product's variants as a whole, so
importing a batch again never duplicates or loses variants, and a content hash lets
identical re-imports leave rows (and their ``updated_at``) untouched.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from structr_pipeline.core.fields import (
    ATTRIBUTES,
    CANONICAL_FIELDS,
    FLOAT_FIELDS,
    IMAGES,
    INT_FIELDS,
    MONEY_FIELDS,
    NUMBER_FIELDS,
    PRODUCT_FIELDS,
    SOURCE_LINE,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.values import fold_text, sku_key
from structr_pipeline.store.db import CatalogDB, catalog_events, products, variants

PRODUCT_TEXT_FIELDS: tuple[str, ...] = tuple(f for f in PRODUCT_FIELDS if f != "handle")
VARIANT_TEXT_FIELDS: tuple[str, ...] = tuple(f for f in VARIANT_FIELDS if f not in NUMBER_FIELDS)

# The columns of ``read_catalog``: the canonical fields at variant grain, then the product's
# images and the variant's attributes.
CATALOG_COLUMNS: tuple[str, ...] = (*CANONICAL_FIELDS, IMAGES, ATTRIBUTES)

_IN_CHUNK = 900
_INSERT_CHUNK = 5000


@dataclass(frozen=True)
class UpsertResult:
    """What one ``upsert_products`` call changed."""

    inserted_products: int
    updated_products: int
    unchanged_products: int
    variants_written: int


@dataclass
class _Product:
    handle: str
    row: dict[str, Any]
    variants: list[dict[str, Any]]
    content_hash: str


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _texts(values: Iterable[Any]) -> list[str]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append("")
        else:
            out.append(str(v))
    return out


def _floats(values: Iterable[Any], digits: int | None) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        if v is None or v is pd.NA or pd.isna(v):
            out.append(None)
        else:
            f = float(v)
            out.append(round(f, digits) if digits is not None else f)
    return out


def _ints(values: Iterable[Any]) -> list[int | None]:
    return [None if v is None or v is pd.NA or pd.isna(v) else int(v) for v in values]


def _canonical_json(values: Iterable[Any], empty: str) -> list[str]:
    """JSON text re-serialized with sorted keys, so equal content gives equal text."""
    memo: dict[str, str] = {}
    out = []
    for v in _texts(values):
        text = v.strip()
        if not text:
            out.append(empty)
            continue
        canonical = memo.get(text)
        if canonical is None:
            canonical = json.dumps(
                json.loads(text), ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
            memo[text] = canonical
        out.append(canonical)
    return out


def variant_key(sku: str, options: Sequence[str]) -> str:
    """A variant's identity within its product: its SKU, else its option values, else 'default'.

    SKUs compare as ``sku_key`` folds them and option values as ``fold_text`` does.
    """
    sku = sku_key(sku)
    if sku:
        return sku
    values = [v for v in (fold_text(o).strip() for o in options) if v]
    return " / ".join(values) if values else "default"


def _prepare(validated: pd.DataFrame, batch_id: str) -> list[_Product]:
    missing = [c for c in (*CANONICAL_FIELDS, IMAGES, ATTRIBUTES) if c not in validated.columns]
    if missing:
        raise ValueError(f"the validated frame lacks the columns {missing}")
    frame = validated.reset_index(drop=True)
    if SOURCE_LINE in frame.columns:
        frame = frame.assign(_order=pd.to_numeric(frame[SOURCE_LINE], errors="coerce"))
    else:
        frame = frame.assign(_order=range(len(frame)))
    frame = frame.sort_values(["handle", "_order"], kind="stable")

    cols: dict[str, list[Any]] = {}
    for name in (*PRODUCT_FIELDS, *VARIANT_TEXT_FIELDS):
        cols[name] = _texts(frame[name].tolist())
    for name in FLOAT_FIELDS:
        cols[name] = _floats(frame[name].tolist(), 4 if name in MONEY_FIELDS else None)
    for name in INT_FIELDS:
        cols[name] = _ints(frame[name].tolist())
    cols[IMAGES] = _canonical_json(frame[IMAGES].tolist(), "[]")
    cols[ATTRIBUTES] = _canonical_json(frame[ATTRIBUTES].tolist(), "{}")
    cols[WARNINGS] = (
        _canonical_json(frame[WARNINGS].tolist(), "[]")
        if WARNINGS in frame.columns
        else ["[]"] * len(frame)
    )

    result: list[_Product] = []
    handles = cols["handle"]
    start = 0
    n = len(frame)
    while start < n:
        handle = handles[start]
        end = start
        while end < n and handles[end] == handle:
            end += 1
        row = {name: cols[name][start] for name in PRODUCT_FIELDS}
        row[IMAGES] = cols[IMAGES][start]
        row[ATTRIBUTES] = cols[ATTRIBUTES][start]
        rows: list[dict[str, Any]] = []
        used: set[str] = set()
        for position, i in enumerate(range(start, end), start=1):
            variant = {name: cols[name][i] for name in VARIANT_FIELDS}
            key = variant_key(
                variant["sku"],
                (variant["option1_value"], variant["option2_value"], variant["option3_value"]),
            )
            unique, suffix = key, 1
            while unique in used:
                suffix += 1
                unique = f"{key}#{suffix}"
            used.add(unique)
            variant.update(
                handle=handle,
                position=position,
                variant_key=unique,
                attributes=cols[ATTRIBUTES][i],
                warnings=cols[WARNINGS][i],
                batch_id=batch_id,
            )
            rows.append(variant)
        # Variants in key order: the same products in another row order hash the same.
        content = {
            "product": row,
            "variants": sorted(
                ({k: v[k] for k in (*VARIANT_FIELDS, "variant_key", ATTRIBUTES)} for v in rows),
                key=lambda v: v["variant_key"],
            ),
        }
        digest = hashlib.sha256(
            json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        result.append(_Product(handle=handle, row=row, variants=rows, content_hash=digest))
        start = end
    return result


def _existing_hashes(conn: Connection, handles: list[str], lock: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(handles, _IN_CHUNK):
        query = sa.select(products.c.handle, products.c.content_hash).where(
            products.c.handle.in_(chunk)
        )
        if lock:
            query = query.with_for_update()
        found.update({h: c for h, c in conn.execute(query)})
    return found


def _upsert_product_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """``INSERT … ON CONFLICT (handle) DO UPDATE`` for many rows.

    On PostgreSQL the rows go to a temporary table in batched multi-row INSERTs first, and
    one ``INSERT … SELECT … ON CONFLICT`` moves them, so there is no round trip per row.
    """
    if not rows:
        return
    keep = {"handle", "first_batch_id", "created_at"}
    updated = [c.name for c in products.columns if c.name not in keep]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(products)
        stmt = stmt.on_conflict_do_update(
            index_elements=[products.c.handle], set_={k: stmt.excluded[k] for k in updated}
        )
        for chunk in _chunks(rows, _INSERT_CHUNK):
            conn.execute(stmt, list(chunk))
    elif dialect == "postgresql":
        staging = sa.Table(
            "structr_products_staging",
            sa.MetaData(),
            *(sa.Column(c.name, c.type) for c in products.columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        staging.create(conn)
        for chunk in _chunks(rows, _INSERT_CHUNK):
            conn.execute(staging.insert(), list(chunk))
        names = [c.name for c in products.columns]
        stmt = postgresql.insert(products).from_select(
            names, sa.select(*(staging.c[n] for n in names))
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[products.c.handle], set_={k: stmt.excluded[k] for k in updated}
        )
        conn.execute(stmt)
    else:
        raise NotImplementedError(f"the catalog store does not support {dialect}")


def upsert_products(db: CatalogDB, validated: pd.DataFrame, batch_id: str) -> UpsertResult:
    """Insert or update every product of a validated frame, in one transaction.

    A product whose content (fields, images, attributes and variants) is the same as in
    the catalog is left untouched except for its ``last_batch_id``; a changed product
    gets its row updated and its variants replaced. Products absent from the frame stay
    as they are. Nothing is written if any row fails. Money is stored to four decimals.
    """
    prepared = _prepare(validated, batch_id)
    if not prepared:
        return UpsertResult(0, 0, 0, 0)
    now = datetime.now(UTC)
    handles = sorted(p.handle for p in prepared)
    with db.write() as conn:
        existing = _existing_hashes(conn, handles, lock=db.dialect == "postgresql")
        new = [p for p in prepared if p.handle not in existing]
        changed = [
            p for p in prepared if p.handle in existing and existing[p.handle] != p.content_hash
        ]
        unchanged = [p.handle for p in prepared if existing.get(p.handle) == p.content_hash]

        to_write = sorted(new + changed, key=lambda p: p.handle)
        _upsert_product_rows(
            conn,
            [
                {
                    **p.row,
                    "content_hash": p.content_hash,
                    "first_batch_id": batch_id,
                    "last_batch_id": batch_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in to_write
            ],
        )
        for chunk in _chunks(sorted(p.handle for p in changed), _IN_CHUNK):
            conn.execute(variants.delete().where(variants.c.handle.in_(chunk)))
        variant_rows = [v for p in to_write for v in p.variants]
        for chunk in _chunks(variant_rows, _INSERT_CHUNK):
            conn.execute(variants.insert(), list(chunk))
        for chunk in _chunks(sorted(unchanged), _IN_CHUNK):
            conn.execute(
                products.update()
                .where(products.c.handle.in_(chunk), products.c.last_batch_id != batch_id)
                .values(last_batch_id=batch_id)
            )
        events = [{"handle": p.handle, "kind": "added"} for p in new]
        events += [{"handle": p.handle, "kind": "changed"} for p in changed]
        for chunk in _chunks(events, _INSERT_CHUNK):
            conn.execute(
                catalog_events.insert(), [{**e, "batch_id": batch_id, "at": now} for e in chunk]
            )
    return UpsertResult(
        inserted_products=len(new),
        updated_products=len(changed),
        unchanged_products=len(unchanged),
        variants_written=len(variant_rows),
    )


def archive_products(db: CatalogDB, external_ids: Iterable[str], batch_id: str) -> list[str]:
    """Archive the products whose ``external_id`` attribute is one of ``external_ids``.

    Nothing is deleted: the product keeps its data with status ``archived``, and an
    ``archived`` catalog event is recorded. Its content hash is marked, so importing the
    product again counts as a change and brings it back. Returns the handles archived.
    """
    archived: list[str] = []
    with db.write() as conn:
        for external_id in sorted(set(external_ids)):
            fragment = json.dumps({"external_id": external_id}, ensure_ascii=False)[1:-1]
            fragment = fragment.replace('": "', '":"')
            archived += _archive(
                conn, products.c.attributes.contains(fragment, autoescape=True), batch_id
            )
    return archived


def archive_handles(db: CatalogDB, handles: Iterable[str], batch_id: str) -> list[str]:
    """Archive the live products with these handles (those merged into another product
    at the user's request), as ``archive_products`` does. Returns the handles archived."""
    wanted = sorted(set(handles))
    archived: list[str] = []
    with db.write() as conn:
        for chunk in _chunks(wanted, _INSERT_CHUNK):
            archived += _archive(conn, products.c.handle.in_(chunk), batch_id)
    return archived


def _archive(conn: sa.Connection, which: sa.ColumnElement[bool], batch_id: str) -> list[str]:
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.select(products.c.handle, products.c.content_hash).where(
            which, products.c.status != "archived"
        )
    ).all()
    for handle, content_hash in rows:
        conn.execute(
            products.update()
            .where(products.c.handle == handle)
            .values(
                status="archived",
                content_hash=f"archived:{content_hash}"[:64],
                last_batch_id=batch_id,
                updated_at=now,
            )
        )
        conn.execute(
            catalog_events.insert().values(
                handle=handle, kind="archived", batch_id=batch_id, at=now
            )
        )
    return [handle for handle, _ in rows]


def products_from_source(db: CatalogDB, prefix: str) -> dict[str, str]:
    """Live products whose ``external_id`` starts with ``prefix``: external id → handle."""
    fragment = json.dumps({"external_id": prefix}, ensure_ascii=False)[1:-2].replace('": "', '":"')
    query = sa.select(products.c.handle, products.c.attributes).where(
        products.c.attributes.contains(fragment, autoescape=True),
        products.c.status != "archived",
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    found = {}
    for handle, attributes in rows:
        external_id = json.loads(attributes or "{}").get("external_id", "")
        if external_id.startswith(prefix):
            found[external_id] = handle
    return found


def catalog_event_counts(db: CatalogDB, start: datetime, end: datetime) -> dict[str, int]:
    """How many products were added, changed and archived in ``[start, end)``."""
    query = (
        sa.select(catalog_events.c.kind, sa.func.count(sa.distinct(catalog_events.c.handle)))
        .where(catalog_events.c.at >= start, catalog_events.c.at < end)
        .group_by(catalog_events.c.kind)
    )
    with db.read() as conn:
        found = {kind: int(n) for kind, n in conn.execute(query)}
    return {kind: found.get(kind, 0) for kind in ("added", "changed", "archived")}


def change_status(db: CatalogDB, frame: pd.DataFrame) -> dict[str, str]:
    """Per handle of ``frame``: ``new``, ``changed`` or ``unchanged`` against the catalog.

    Unchanged means the product's content (fields, images, attributes, variants) hashes
    the same as what the catalog holds, exactly as ``upsert_products`` would judge it.
    """
    prepared = _prepare(frame, "")
    with db.read() as conn:
        existing = _existing_hashes(conn, sorted(p.handle for p in prepared), lock=False)
    return {
        p.handle: "new"
        if p.handle not in existing
        else ("unchanged" if existing[p.handle] == p.content_hash else "changed")
        for p in prepared
    }


# Catalog rows fetched and converted at once by ``read_catalog``.
_READ_ROWS = 50_000


def read_catalog(db: CatalogDB) -> pd.DataFrame:
    """The whole catalog at variant grain, ordered by handle and variant position.

    Columns are the canonical fields, the product's ``images`` and the variant's
    ``attributes`` (JSON text with sorted keys), typed like the validated frame: prices
    and weight float64 (NaN when empty), ``inventory_qty`` Int64, text '' when empty.
    Rows are streamed ``_READ_ROWS`` at a time, and a product's fields are one string
    object shared by its variant rows, so a large catalog costs little more than its text.
    """
    select_cols = []
    for name in CANONICAL_FIELDS:
        table = products if name in PRODUCT_FIELDS else variants
        select_cols.append(table.c[name].label(name))
    select_cols += [products.c.images.label(IMAGES), variants.c.attributes.label(ATTRIBUTES)]
    # Handles by code point on both backends (PostgreSQL's "C" collation compares bytes).
    handle = products.c.handle.collate("C") if db.dialect == "postgresql" else products.c.handle
    query = (
        sa.select(*select_cols)
        .select_from(products.join(variants, variants.c.handle == products.c.handle))
        .order_by(handle, variants.c.position)
    )
    shared: dict[str, str] = {}
    parts = []
    with db.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=_READ_ROWS).execute(query)
        for chunk in result.partitions():
            parts.append(_catalog_frame(chunk, shared))
    if not parts:
        return _catalog_frame([], shared)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _catalog_frame(rows: Sequence[Any], shared: dict[str, str]) -> pd.DataFrame:
    """Catalog rows as a typed frame; product-level text shared through ``shared``."""
    frame = pd.DataFrame.from_records(rows, columns=list(CATALOG_COLUMNS))
    for name in CATALOG_COLUMNS:
        if name in FLOAT_FIELDS:
            frame[name] = pd.to_numeric(frame[name], errors="raise").astype("float64")
        elif name in INT_FIELDS:
            frame[name] = pd.array(_ints(frame[name].tolist()), dtype="Int64")
        else:
            texts = _texts(frame[name].tolist())
            if name in PRODUCT_FIELDS or name == IMAGES:
                texts = [shared.setdefault(text, text) for text in texts]
            frame[name] = pd.Series(texts, index=frame.index, dtype=object)
    return frame


def count_products(db: CatalogDB) -> tuple[int, int]:
    """How many products and variants the catalog holds."""
    with db.read() as conn:
        n_products = conn.execute(sa.select(sa.func.count()).select_from(products)).scalar_one()
        n_variants = conn.execute(sa.select(sa.func.count()).select_from(variants)).scalar_one()
    return int(n_products), int(n_variants)
