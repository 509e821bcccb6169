"""Import batches: registration by content, landing copies, manifests (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from structr_pipeline.settings import StructrSettings
from structr_pipeline.store.batches import (
    BatchManifest,
    file_sha256,
    get_batch,
    list_batches,
    make_batch_id,
    register_file,
    update_batch_status,
)
from structr_pipeline.store.db import SCHEMA_VERSION, CatalogDB, make_engine, schema_version

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "shopify_sample.csv"


@pytest.fixture
def sample(tmp_path) -> Path:
    if not SAMPLE.is_file():
        pytest.skip(f"{SAMPLE} is absent")
    path = tmp_path / "in" / "products export.csv"
    path.parent.mkdir()
    shutil.copyfile(SAMPLE, path)
    return path


def landing_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def test_make_batch_id() -> None:
    now = datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone(timedelta(hours=2)))
    sha = "ABCDEF0123456789" + "0" * 48
    assert make_batch_id("Shopify CSV", sha, now) == "shopify_csv-20240305T120709-abcdef01"
    assert make_batch_id("--", sha, now.replace(tzinfo=None)).startswith("source-20240305T140709")


def test_same_bytes_register_once(db, sample, tmp_path) -> None:
    landing = tmp_path / "landing"
    first = register_file(
        db, sample, source_kind="shopify_csv", landing_dir=landing, options={"a": 1}
    )
    renamed = tmp_path / "renamed.csv"
    shutil.copyfile(sample, renamed)
    second = register_file(db, renamed, source_kind="shopify_csv", landing_dir=landing)

    assert first.created and not second.created
    assert second.manifest.batch_id == first.manifest.batch_id
    assert second.manifest.original_name == "products export.csv"
    assert second.manifest.options == {"a": 1}
    files = landing_files(landing)
    assert files == [landing / first.manifest.batch_id / "products export.csv"]
    assert files[0].read_bytes() == sample.read_bytes()
    assert Path(first.manifest.landing_path) == files[0].resolve()
    assert not os.stat(files[0]).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert first.manifest.sha256 == file_sha256(sample)[0]
    assert first.manifest.size_bytes == sample.stat().st_size
    assert len(list_batches(db)) == 1


def test_same_bytes_of_another_source_kind_is_another_batch(db, sample, tmp_path) -> None:
    landing = tmp_path / "landing"
    a = register_file(db, sample, source_kind="shopify_csv", landing_dir=landing)
    b = register_file(db, sample, source_kind="generic_csv", landing_dir=landing)
    assert a.created and b.created
    assert a.manifest.batch_id != b.manifest.batch_id


def test_different_bytes_are_two_batches_newest_first(db, sample, tmp_path) -> None:
    landing = tmp_path / "landing"
    other = tmp_path / "other.csv"
    other.write_bytes(sample.read_bytes() + b"extra-handle,Extra,,,,\n")
    a = register_file(db, sample, source_kind="shopify_csv", landing_dir=landing)
    b = register_file(db, other, source_kind="shopify_csv", landing_dir=landing)
    assert a.created and b.created
    assert a.manifest.sha256 != b.manifest.sha256
    listed = list_batches(db)
    assert [m.batch_id for m in listed] == [b.manifest.batch_id, a.manifest.batch_id]
    assert [m.batch_id for m in list_batches(db, limit=1)] == [b.manifest.batch_id]
    assert len(landing_files(landing)) == 2
    assert all(m.created_at.tzinfo is not None for m in listed)


def test_large_file_is_streamed_and_copied_unchanged(db, tmp_path) -> None:
    big = tmp_path / "big.csv"
    block = os.urandom(1024 * 1024)
    with big.open("wb") as f:
        for _ in range(24):
            f.write(block)
    registered = register_file(db, big, source_kind="shopify_csv", landing_dir=tmp_path / "l")
    assert registered.manifest.size_bytes == 24 * 1024 * 1024
    assert file_sha256(Path(registered.manifest.landing_path)) == file_sha256(big)


def test_concurrent_registrations_make_one_batch(database_url, sample, tmp_path) -> None:
    landing = tmp_path / "landing"
    results = []
    errors = []

    def register() -> None:
        try:
            db = CatalogDB(make_engine(database_url))
            results.append(
                register_file(db, sample, source_kind="shopify_csv", landing_dir=landing)
            )
            db.engine.dispose()
        except Exception as exc:  # reported below
            errors.append(exc)

    CatalogDB.from_url(database_url)
    threads = [threading.Thread(target=register) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({r.manifest.batch_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(landing_files(landing)) == 1


def test_status_updates(db, sample, tmp_path) -> None:
    batch_id = register_file(
        db, sample, source_kind="shopify_csv", landing_dir=tmp_path
    ).manifest.batch_id
    fresh = get_batch(db, batch_id)
    assert isinstance(fresh, BatchManifest)
    assert (fresh.status, fresh.counts, fresh.error) == ("registered", {}, None)

    update_batch_status(db, batch_id, "failed", error="sample.csv: no Handle column")
    failed = get_batch(db, batch_id)
    assert (failed.status, failed.error) == ("failed", "sample.csv: no Handle column")

    update_batch_status(db, batch_id, "completed", counts={"rows_in": 12, "rows_rejected": 3})
    done = get_batch(db, batch_id)
    assert done.status == "completed"
    assert done.counts == {"rows_in": 12, "rows_rejected": 3}
    assert done.error is None
    assert done.updated_at >= done.created_at

    update_batch_status(db, batch_id, "running")
    assert get_batch(db, batch_id).counts == {"rows_in": 12, "rows_rejected": 3}


def test_unknown_batch(db) -> None:
    with pytest.raises(KeyError, match="no-such-batch"):
        get_batch(db, "no-such-batch")
    with pytest.raises(KeyError, match="no-such-batch"):
        update_batch_status(db, "no-such-batch", "completed")
    assert list_batches(db) == []


def test_schema_version_recorded_once(database_url) -> None:
    db = CatalogDB.from_url(database_url)
    assert CatalogDB.from_url(database_url) is db
    CatalogDB.dispose_all()
    CatalogDB.from_url(database_url)
    with db.engine.connect() as conn:
        versions = conn.execute(sa.select(schema_version.c.version)).scalars().all()
    assert versions == [SCHEMA_VERSION]


def test_sqlite_file_and_folder_are_created(tmp_path) -> None:
    settings = StructrSettings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'home' / 'sub' / 'c.db'}"
    )
    db = CatalogDB.from_settings(settings)
    assert (tmp_path / "home" / "sub" / "c.db").is_file()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    CatalogDB.dispose_all()


def test_plain_postgresql_urls_use_psycopg2() -> None:
    engine = make_engine("postgresql://user:secret@db.example:5432/catalog")
    assert engine.url.drivername == "postgresql+psycopg2"
    assert engine.url.database == "catalog"
    assert make_engine("postgres://u@h/d").url.drivername == "postgresql+psycopg2"


def test_created_at_is_utc(db, sample, tmp_path) -> None:
    before = datetime.now(UTC)
    manifest = register_file(db, sample, source_kind="x", landing_dir=tmp_path).manifest
    stored = get_batch(db, manifest.batch_id)
    assert stored.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= stored.created_at <= datetime.now(UTC)
    assert stored.created_at.strftime("%Y%m%dT%H%M%S") in stored.batch_id
