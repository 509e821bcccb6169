"""Catalog databases for the store tests: a SQLite file, and PostgreSQL when one is configured.

Set ``STRUCTR_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg2://postgres:postgres@127.0.0.1:5432/structr_test``) to run every store
test against PostgreSQL too; each test gets its own schema, dropped afterwards. With
``STRUCTR_REQUIRE_POSTGRES=1`` a missing URL fails the PostgreSQL tests instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from structr_pipeline.store.db import CatalogDB, normalize_url


def _postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    base = os.environ.get("STRUCTR_TEST_POSTGRES_URL", "")
    if not base:
        reason = "PostgreSQL tests need STRUCTR_TEST_POSTGRES_URL (a database they may write to)"
        if os.environ.get("STRUCTR_REQUIRE_POSTGRES"):
            pytest.fail(f"{reason}; STRUCTR_REQUIRE_POSTGRES is set")
        pytest.skip(reason)
    schema = f"structr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalize_url(base), poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        CatalogDB.dispose_all()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL to an empty catalog database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'catalog.db'}"
        CatalogDB.dispose_all()
    else:
        yield from _postgres_url(request)


@pytest.fixture
def db(database_url: str) -> CatalogDB:
    """The catalog database at ``database_url``, tables created."""
    return CatalogDB.from_url(database_url)
