"""Import batches: registering an input file once, its landing copy and its manifest.

A batch is one input file's bytes. The same bytes of the same source kind always give
the same batch, however often or under whatever name they are registered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from structr_pipeline.core.safe_files import open_regular
from structr_pipeline.store.db import CatalogDB, as_utc, batches

_CHUNK = 1024 * 1024
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass
class BatchManifest:
    """What the catalog database knows about one batch."""

    batch_id: str
    source_kind: str
    original_name: str
    sha256: str
    size_bytes: int
    created_at: datetime
    options: dict[str, Any] = field(default_factory=dict)
    landing_path: str = ""
    status: str = "registered"
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    updated_at: datetime | None = None


@dataclass
class RegisteredBatch:
    """The outcome of ``register_file``: the batch, and whether this call created it."""

    manifest: BatchManifest
    created: bool


def slugify_source(source_kind: str) -> str:
    """The source kind reduced to ``[a-z0-9_]`` for use in batch ids."""
    slug = re.sub(r"[^a-z0-9_]+", "_", source_kind.strip().lower())
    return re.sub(r"_+", "_", slug).strip("_") or "source"


def make_batch_id(source_kind: str, sha256: str, now: datetime) -> str:
    """``<source>-<UTC yyyymmddThhmmss>-<first 8 hex of sha256>``."""
    moment = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return f"{slugify_source(source_kind)}-{moment:%Y%m%dT%H%M%S}-{sha256[:8].lower()}"


def file_sha256(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and size, read in chunks (regular files only: a named pipe
    or device put in a file's place is refused, not waited on)."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(path) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashing(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` in chunks; the sha256 of the bytes copied."""
    digest = hashlib.sha256()
    with open_regular(source) as src, target.open("xb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _manifest(row: sa.Row) -> BatchManifest:
    return BatchManifest(
        batch_id=row.batch_id,
        source_kind=row.source_kind,
        original_name=row.original_name,
        sha256=row.sha256,
        size_bytes=int(row.size_bytes),
        created_at=as_utc(row.created_at),
        options=dict(row.options or {}),
        landing_path=row.landing_path,
        status=row.status,
        counts=dict(row.counts or {}),
        error=row.error,
        updated_at=as_utc(row.updated_at),
    )


def _find(conn: Connection, sha256: str, source_kind: str) -> BatchManifest | None:
    row = conn.execute(
        sa.select(batches).where(batches.c.sha256 == sha256, batches.c.source_kind == source_kind)
    ).first()
    return None if row is None else _manifest(row)


def _remove_copy(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def register_file(
    db: CatalogDB,
    path: Path,
    *,
    source_kind: str,
    landing_dir: Path,
    options: dict | None = None,
    original_name: str | None = None,
) -> RegisteredBatch:
    """Register a file's bytes as a batch, or find the batch those bytes already are.

    A new batch gets a read-only copy of the file at ``landing_dir/<batch_id>/<name>``
    and a manifest row. Registering the same bytes (same sha256 and source kind) again
    returns the existing batch with ``created=False`` and copies nothing; two
    registrations racing each other end with one batch.
    """
    path = Path(path)
    name = Path(original_name or path.name).name or "input"
    sha256, size = file_sha256(path)
    with db.read() as conn:
        existing = _find(conn, sha256, source_kind)
    if existing is not None:
        return RegisteredBatch(manifest=existing, created=False)

    now = datetime.now(UTC)
    batch_id = make_batch_id(source_kind, sha256, now)
    folder = Path(landing_dir) / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.{uuid.uuid4().hex}.part"
    try:
        copied = _copy_hashing(path, partial)
        if copied != sha256:
            raise ValueError(f"{path}: the file changed while it was being registered")
        partial.chmod(_READ_ONLY)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

    manifest = BatchManifest(
        batch_id=batch_id,
        source_kind=source_kind,
        original_name=name,
        sha256=sha256,
        size_bytes=size,
        created_at=now,
        options=_json_ready(dict(options or {})),
        landing_path=str(target.resolve()),
        status="registered",
        counts={},
        error=None,
        updated_at=now,
    )
    try:
        with db.write() as conn:
            conn.execute(
                batches.insert().values(
                    batch_id=manifest.batch_id,
                    source_kind=manifest.source_kind,
                    original_name=manifest.original_name,
                    sha256=manifest.sha256,
                    size_bytes=manifest.size_bytes,
                    created_at=manifest.created_at,
                    updated_at=manifest.updated_at,
                    options=manifest.options,
                    landing_path=manifest.landing_path,
                    status=manifest.status,
                    counts=manifest.counts,
                    error=None,
                )
            )
    except sa.exc.IntegrityError:
        with db.read() as conn:
            existing = _find(conn, sha256, source_kind)
        if existing is None:
            raise
        if Path(existing.landing_path) != target.resolve():
            _remove_copy(target)
        return RegisteredBatch(manifest=existing, created=False)
    return RegisteredBatch(manifest=manifest, created=True)


def get_batch(db: CatalogDB, batch_id: str) -> BatchManifest:
    """The manifest of one batch; ``KeyError`` naming the batch if there is none."""
    with db.read() as conn:
        row = conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id)).first()
    if row is None:
        raise KeyError(f"no import batch {batch_id!r} in the catalog database")
    return _manifest(row)


def list_batches(db: CatalogDB, limit: int | None = None) -> list[BatchManifest]:
    """Every batch, newest first (at most ``limit``)."""
    query = sa.select(batches).order_by(batches.c.created_at.desc(), batches.c.batch_id.desc())
    if limit is not None:
        query = query.limit(limit)
    with db.read() as conn:
        return [_manifest(row) for row in conn.execute(query)]


def update_batch_status(
    db: CatalogDB,
    batch_id: str,
    status: str,
    counts: dict | None = None,
    error: str | None = None,
) -> BatchManifest:
    """Set a batch's status (and its counts when given); ``error`` replaces the last error.

    Returns the updated manifest; ``KeyError`` if the batch is unknown.
    """
    if not status:
        raise ValueError("a batch status cannot be empty")
    values: dict[str, Any] = {"status": status, "error": error, "updated_at": datetime.now(UTC)}
    if counts is not None:
        values["counts"] = _json_ready(counts)
    with db.write() as conn:
        result = conn.execute(batches.update().where(batches.c.batch_id == batch_id).values(values))
        if result.rowcount == 0:
            raise KeyError(f"no import batch {batch_id!r} in the catalog database")
        row = conn.execute(sa.select(batches).where(batches.c.batch_id == batch_id)).one()
    return _manifest(row)


def _json_ready(value: Any) -> Any:
    """Counts as plain JSON values (NumPy scalars from pandas become Python numbers)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def set_batch_options(db: CatalogDB, batch_id: str, options: dict[str, Any]) -> BatchManifest:
    """Replace a batch's options.

    Used when the same bytes are imported again with other options, such as another
    mapping profile: the input stays the same, the way it is read changes.
    """
    with db.write() as conn:
        result = conn.execute(
            batches.update()
            .where(batches.c.batch_id == batch_id)
            .values(options=_json_ready(dict(options)), updated_at=datetime.now(UTC))
        )
        if result.rowcount == 0:
            raise KeyError(f"no import batch {batch_id!r} in the catalog database")
    return get_batch(db, batch_id)
