"""The `structr` command line, run in-process on real files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from structr_pipeline.cli import app


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STRUCTR_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    return tmp_path


@pytest.mark.slow
def test_import_prints_summary_and_bundle(cli_env, sample_csv) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(sample_csv)])
    assert result.exit_code == 0, result.output
    assert "Registered shopify_sample.csv as batch" in result.output
    exports = cli_env / "home" / "exports"
    (batch_dir,) = list(exports.iterdir())
    for name in ("products.jsonl", "shopify_import.csv", "errors.csv", "summary.json"):
        assert str(batch_dir / name) in result.output.replace("\n", "")
    summary = json.loads((batch_dir / "summary.json").read_text())
    assert summary["batch_id"] == batch_dir.name

    listing = runner.invoke(app, ["batches"])
    assert listing.exit_code == 0, listing.output
    assert batch_dir.name[:20] in listing.output
    assert "completed" in listing.output

    again = runner.invoke(app, ["import", str(sample_csv)])
    assert again.exit_code == 0, again.output
    assert "Same bytes as batch" in again.output
    assert len(list(exports.iterdir())) == 1


def test_import_of_a_non_product_file_fails_clearly(cli_env) -> None:
    bad = cli_env / "prices.csv"
    bad.write_text("Name,Price\nshirt,10\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert "prices.csv" in result.output
    assert "failed" in result.output


def test_batches_with_no_batches(cli_env) -> None:
    result = CliRunner().invoke(app, ["batches"])
    assert result.exit_code == 0
    assert "No batches yet" in result.output
