"""The catalog database: engine creation, the table definitions and the schema version.

SQLite (a file under ``STRUCTR_HOME`` by default) and PostgreSQL are both supported;
everything else in ``store/`` goes through the tables defined here.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from structr_pipeline.core.fields import (
    ATTRIBUTES,
    FIELDS_BY_NAME,
    IMAGES,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.settings import StructrSettings

# Bumped by every change to the tables; later migrations step forward from the stored value.
SCHEMA_VERSION = 1

# An arbitrary fixed key for the PostgreSQL advisory lock that serializes table creation.
_INIT_LOCK_KEY = 7_324_001

# Seconds a SQLite connection waits for another writer before giving up.
_SQLITE_BUSY_TIMEOUT = 30

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(200), primary_key=True),
    sa.Column("source_kind", sa.String(64), nullable=False),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("landing_path", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, server_default="registered"),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("sha256", "source_kind", name="uq_batches_sha256_source_kind"),
    sa.Index("ix_batches_created_at", "created_at"),
)

# The SQL type of each kind of catalog field named in the field registry.
_SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    "string": sa.String(),
    "text": sa.Text(),
    "money": sa.Numeric(14, 4, asdecimal=False),
    "bigint": sa.BigInteger(),
    "double": sa.Float(53),
}


def field_column(name: str, **kw) -> sa.Column:
    """The catalog column of a registry field: its SQL type, nullability and default."""
    field = FIELDS_BY_NAME[name]
    if field.sql_type is None:
        raise ValueError(f"{name} is not stored in the catalog database")
    if field.sql_default is not None:
        kw.setdefault("server_default", field.sql_default)
    kw.setdefault("nullable", field.nullable)
    return sa.Column(name, _SQL_TYPES[field.sql_type], **kw)


products = sa.Table(
    "products",
    metadata,
    sa.Column("handle", _SQL_TYPES[FIELDS_BY_NAME["handle"].sql_type], primary_key=True),
    *(field_column(name) for name in PRODUCT_FIELDS if name != "handle"),
    field_column(IMAGES),
    field_column(ATTRIBUTES),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("first_batch_id", sa.String(200), nullable=False),
    sa.Column("last_batch_id", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

variants = sa.Table(
    "variants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "handle",
        _SQL_TYPES[FIELDS_BY_NAME["handle"].sql_type],
        sa.ForeignKey("products.handle", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("variant_key", sa.String, nullable=False),
    *(field_column(name) for name in VARIANT_FIELDS),
    field_column(ATTRIBUTES),
    field_column(WARNINGS),
    sa.Column("batch_id", sa.String(200), nullable=False),
    # Also the index behind the foreign key and the per-handle deletes.
    sa.UniqueConstraint("handle", "variant_key", name="uq_variants_handle_variant_key"),
)


# What happened to each product in the catalog and when: ``added``, ``changed`` or
# ``archived`` (the daily quality snapshot counts these per day).
catalog_events = sa.Table(
    "catalog_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handle", sa.String, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("batch_id", sa.String(200), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_catalog_events_at", "at"),
)

# The latest audit of each product in the catalog (the batch that last audited it wins).
product_quality = sa.Table(
    "product_quality",
    metadata,
    sa.Column("handle", sa.String, primary_key=True),
    sa.Column("score", sa.Float(53), nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("issues", sa.JSON, nullable=False),
    sa.Column("copy", sa.JSON, nullable=False),
    sa.Column("batch_id", sa.String(200), nullable=False),
    sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per batch and stage: what the stage last produced, and with which versions of
# the prompt, the model and the mapping profile (the staleness sensor compares these).
batch_stages = sa.Table(
    "batch_stages",
    metadata,
    sa.Column("batch_id", sa.String(200), primary_key=True),
    sa.Column("stage", sa.String(64), primary_key=True),
    sa.Column("produced_with", sa.JSON, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Items a stage could not process (an LLM failure, say), replaced on every run of the stage.
failed_items = sa.Table(
    "failed_items",
    metadata,
    sa.Column("batch_id", sa.String(200), primary_key=True),
    sa.Column("stage", sa.String(64), primary_key=True),
    sa.Column("item", sa.String, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("retryable", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# Reprocessing requested by the sensors, per batch and reason: how often, when next.
reprocess_attempts = sa.Table(
    "reprocess_attempts",
    metadata,
    sa.Column("batch_id", sa.String(200), primary_key=True),
    sa.Column("reason", sa.String(32), primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("exhausted", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

# Generated product copy, keyed by a hash of (product facts, brand voice, prompt version,
# provider, model): the same input never goes to the model twice.
generation_cache = sa.Table(
    "generation_cache",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("prompt_version", sa.String(64), nullable=False),
    sa.Column("copy", sa.JSON, nullable=False),
    sa.Column("flags", sa.JSON, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


# Webhook deliveries, verified and stored before they are acknowledged, waiting for a run
# to claim them. A delivery id is stored once per endpoint, however often it is re-sent.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint", sa.String(32), nullable=False),
    sa.Column("delivery_id", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("batch_id", sa.String(200), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("endpoint", "delivery_id", name="uq_webhook_events_endpoint_delivery_id"),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'done')", name="ck_webhook_events_status"),
    sa.Index("ix_webhook_events_status_id", "status", "id"),
    sa.Index("ix_webhook_events_batch_id", "batch_id"),
)


def normalize_url(url: str) -> sa.URL:
    """Parse a database URL, pinning PostgreSQL to the installed psycopg2 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    SQLite: the database file's folder is created, and every connection runs in WAL
    mode with foreign keys enforced and a busy timeout; transactions are begun by
    SQLAlchemy so that DDL is transactional and writers can take the lock up front.
    PostgreSQL: a bare ``postgresql://`` URL is sent to psycopg2.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("structr_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def init_db(engine: Engine) -> int:
    """Create the missing tables and record the schema version; returns the stored version."""
    with engine.connect() as conn:
        conn.execution_options(structr_write=True)
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INIT_LOCK_KEY})
            metadata.create_all(conn)
            stored = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
            if stored is None:
                conn.execute(
                    schema_version.insert().values(
                        version=SCHEMA_VERSION, applied_at=datetime.now(UTC)
                    )
                )
                stored = SCHEMA_VERSION
    return int(stored)


def as_utc(value: datetime | None) -> datetime | None:
    """A timestamp read back from the database as an aware UTC datetime."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class CatalogDB:
    """The catalog database: an engine whose tables exist.

    ``from_url`` keeps one engine per URL and process, so the many short uses in a run
    share a connection pool. A ``write()`` opened inside another one (in the same thread)
    joins it: everything written inside the outer block commits or rolls back together.
    """

    _cache: ClassVar[OrderedDict[tuple[int, str], CatalogDB]] = OrderedDict()
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()
    _cache_size: ClassVar[int] = 8

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open_write: ContextVar[Connection | None] = ContextVar(
            f"structr_open_write_{id(self)}", default=None
        )

    def __repr__(self) -> str:
        return f"CatalogDB({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """The backend's name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def from_url(cls, url: str) -> CatalogDB:
        """Open the database at ``url``, creating its tables on first use."""
        key = (os.getpid(), url)
        with cls._cache_lock:
            db = cls._cache.get(key)
            if db is not None:
                cls._cache.move_to_end(key)
                return db
            engine = make_engine(url)
            init_db(engine)
            db = cls(engine)
            cls._cache[key] = db
            while len(cls._cache) > cls._cache_size:
                _, evicted = cls._cache.popitem(last=False)
                evicted.engine.dispose()
            return db

    @classmethod
    def from_settings(cls, settings: StructrSettings) -> CatalogDB:
        """Open the database named by the settings (``STRUCTR_DATABASE_URL``)."""
        return cls.from_url(settings.database_url)

    @classmethod
    def dispose_all(cls) -> None:
        """Close every pooled connection of the engines opened by ``from_url``."""
        with cls._cache_lock:
            for db in cls._cache.values():
                db.engine.dispose()
            cls._cache.clear()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (the open write transaction, inside one)."""
        current = self._open_write.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside a write transaction (on SQLite the write lock is taken at once).

        Inside an outer ``write()`` this is the outer transaction: nothing commits until
        the outermost block ends without an exception.
        """
        current = self._open_write.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn:
            conn.execution_options(structr_write=True)
            with conn.begin():
                token = self._open_write.set(conn)
                try:
                    yield conn
                finally:
                    self._open_write.reset(token)
