"""Catalog databases for the store tests: a SQLite file, and PostgreSQL when one is configured.

Set ``STRUCTR_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg2://postgres:postgres@127.0.0.1:5432/structr_test``) to run every store
test against PostgreSQL too; each test gets its own schema, dropped afterwards. With
``STRUCTR_REQUIRE_POSTGRES=1`` a missing URL fails the PostgreSQL tests instead of skipping.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from structr_pipeline.store.db import CatalogDB


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
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url: str) -> CatalogDB:
    """The catalog database at ``database_url``, tables created."""
    return CatalogDB.from_url(database_url)
