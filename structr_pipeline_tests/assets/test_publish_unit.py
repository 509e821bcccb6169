"""Publishing a batch is one unit: bundle files, catalog, quality rows and status, or nothing."""

from __future__ import annotations

import errno

import pytest

import structr_pipeline.core.bundle as bundle_files
from structr_pipeline.core.staged_folder import StagedFolder, recover
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import count_products
from structr_pipeline.store.quality import catalog_quality


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def bundle_dir(defs, batch_id):
    return defs.resources["catalog"].settings.exports_dir / batch_id


def leftovers(defs, batch_id):
    exports = defs.resources["catalog"].settings.exports_dir
    return sorted(p.name for p in exports.glob(f".{batch_id}.*"))


def test_a_file_failing_after_the_upsert_leaves_the_catalog_untouched(
    defs, instance, sample_csv, monkeypatch
) -> None:
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, sample_csv).manifest.batch_id
    # summary.json is the last file written, after the upsert inside the transaction.
    monkeypatch.setattr(bundle_files, "write_summary", disk_full)
    run = run_batch(defs, instance, batch_id)
    assert not run.success
    assert any("No space left" in e for e in run.errors)

    db = catalog.db()
    assert count_products(db) == (0, 0)
    assert catalog_quality(db).audited == 0
    manifest = get_batch(db, batch_id)
    assert manifest.status == "failed" and "No space left" in manifest.error
    assert not bundle_dir(defs, batch_id).exists()
    assert leftovers(defs, batch_id) == []

    monkeypatch.undo()
    again = run_batch(defs, instance, batch_id)
    assert again.success, again.errors + again.check_failures
    assert count_products(db)[0] > 0
    assert get_batch(db, batch_id).status == "completed"
    assert (bundle_dir(defs, batch_id) / "summary.json").is_file()


def test_a_failed_republication_keeps_the_previous_bundle_and_catalog(
    defs, instance, sample_csv, monkeypatch
) -> None:
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, sample_csv).manifest.batch_id
    first = run_batch(defs, instance, batch_id)
    assert first.success, first.errors + first.check_failures
    out = bundle_dir(defs, batch_id)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    products_before = count_products(catalog.db())

    monkeypatch.setattr(bundle_files, "write_report", disk_full)
    run = run_batch(defs, instance, batch_id, start="generation")
    assert not run.success
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert count_products(catalog.db()) == products_before
    assert leftovers(defs, batch_id) == []


def test_an_interrupted_swap_is_recovered_on_the_next_publication(tmp_path) -> None:
    final = tmp_path / "exports" / "batch-1"
    final.mkdir(parents=True)
    (final / "summary.json").write_text("old")
    # Killed between moving the old bundle aside and putting the new one in place.
    staged = StagedFolder(final)
    with staged:
        (staged.path / "summary.json").write_text("new")
        final.rename(staged._previous)
    assert not final.exists()
    recover(final)
    assert (final / "summary.json").read_text() == "old"
    assert sorted(p.name for p in final.parent.iterdir()) == ["batch-1"]


def test_a_staged_folder_rolls_back_after_it_was_put_in_place(tmp_path) -> None:
    final = tmp_path / "batch-2"
    final.mkdir()
    (final / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), StagedFolder(final) as staged:
        (staged.path / "a.txt").write_text("new")
        staged.put_in_place()
        assert (final / "a.txt").read_text() == "new"
        raise RuntimeError("the commit failed")
    assert (final / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch-2"]
