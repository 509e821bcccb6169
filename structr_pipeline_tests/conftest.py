"""Fixtures for tests that run the Dagster layer for real, in-process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from structr_pipeline.settings import StructrSettings
from structr_pipeline.store.db import CatalogDB, normalize_url
from structr_pipeline_tests.chat_server import ChatServer


@pytest.fixture
def settings(tmp_path) -> StructrSettings:
    """A fresh STRUCTR_HOME with a SQLite catalog database in a temporary folder."""
    home = tmp_path / "structr_home"
    return StructrSettings(home=home, database_url=f"sqlite:///{home / 'catalog.db'}")


@pytest.fixture
def defs(settings) -> dg.Definitions:
    """The project's Definitions wired to the temporary settings."""
    from structr_pipeline.definitions import build_defs

    return build_defs(settings)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real, temporary Dagster instance with its runs and events in memory.

    Runs, event logs and dynamic partitions behave as on disk; the tests that need an
    instance other processes share (the daemon, a killed import) make their own.
    """
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def disk_instance() -> Iterator[dg.DagsterInstance]:
    """A temporary Dagster instance with SQLite storage in a folder, for sensor ticks and
    backfills, which an in-memory instance cannot serve."""
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    """A chat-completions server on 127.0.0.1 that writes correct copy until told otherwise."""
    server = ChatServer()
    yield server
    server.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh schema in the PostgreSQL named by ``STRUCTR_TEST_POSTGRES_URL``.

    Skips when the variable is unset, unless ``STRUCTR_REQUIRE_POSTGRES=1`` (as in CI),
    which makes a missing server a failure. The schema is dropped afterwards.
    """
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
