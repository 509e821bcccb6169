"""The hostile corpus (``corpus/cases.py``) through the real ``structr import``, case by case.

Every case's file is generated into a temporary folder and imported with the command
line in-process (typer's runner), one STRUCTR_HOME per case and one Dagster instance
for the whole module. An import must meet its case's expectations and every bundle
invariant (``corpus/invariants.py``); a refusal must name the file (and the line and
column the case gives), print no traceback and publish nothing.
"""

from __future__ import annotations

import re
import time
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from structr_pipeline.cli import app
from structr_pipeline_tests.corpus.cases import CASES, Bundle, Case
from structr_pipeline_tests.corpus.invariants import assert_bundle_invariants, read_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dagster_home(tmp_path_factory) -> Path:
    """One Dagster instance (SQLite, on disk) shared by every case of the module."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


@pytest.fixture
def cli_env(tmp_path, monkeypatch, dagster_home) -> Path:
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    for name in ("STRUCTR_DATABASE_URL", "STRUCTR_LLM_PROVIDER", "STRUCTR_INBOX_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "in").mkdir()
    return tmp_path


def _exports(home: Path) -> list[Path]:
    exports = home / "exports"
    return sorted(p for p in exports.iterdir() if p.is_dir()) if exports.is_dir() else []


def check_import(case: Case, bundle: Bundle) -> None:
    assert_bundle_invariants(bundle, rows_in=case.rows_in)
    accepted = bundle.accepted_lines()
    for expected in case.rejected:
        reason = bundle.reason(expected.line)
        assert reason is not None, (
            f"line {expected.line} is not rejected; errors.csv names {sorted(bundle.rejected())}"
        )
        assert re.search(rf"\bline {expected.line}\b", reason), reason
        if expected.column is not None:
            assert f"'{expected.column}'" in reason, (expected.column, reason)
        assert expected.contains in reason, (expected.contains, reason)
    for line in case.accepted:
        assert line in accepted, f"line {line} was not accepted: {bundle.reason(line)}"
    held = bundle.held_back()
    for expected in case.preserved:
        value = expected.values_of(bundle)
        assert value == expected.value, (
            f"line {expected.line} {expected.field}: {value!r}, expected {expected.value!r}"
        )
        if expected.shopify is None:
            continue
        product, variant = bundle.variant(expected.line)
        if product["handle"] in held:
            continue
        rows = bundle.shopify_rows(product["handle"])
        index = product["variants"].index(variant) if expected.field in variant else 0
        cell = rows[index].get(expected.shopify)
        want = expected.shopify_value if expected.shopify_value is not None else str(value)
        assert cell == want, f"shopify_import.csv {expected.shopify}: {cell!r}, expected {want!r}"
    for expected in case.warned:
        found = bundle.variant(expected.line)
        assert found is not None, f"line {expected.line} is not in products.jsonl"
        warnings = [w for v in found[0]["variants"] for w in v["warnings"]]
        assert any(
            (w["line"], w["column"], w["check"]) == (expected.line, expected.column, expected.check)
            for w in warnings
        ), (expected, warnings)
    shopify_text = (bundle.dir / "shopify_import.csv").read_text(encoding="utf-8").lower()
    for text in case.never_published:
        assert text.lower() not in shopify_text, f"{text!r} is in shopify_import.csv"
    everything = bundle.text_of_every_file()
    for text in case.never_in_bundle:
        assert text not in everything, f"{text!r} is in the bundle"
    if case.check is not None:
        case.check(bundle)


def check_refusal(case: Case, output: str, home: Path) -> None:
    assert case.file_name in output, output
    refusal = case.refusal
    if refusal.line is not None:
        assert re.search(rf"\bline {refusal.line}\b", output), (refusal.line, output)
    if refusal.column is not None:
        assert f"column '{refusal.column}'" in output, (refusal.column, output)
    for text in refusal.contains:
        assert text.lower() in output.lower(), (text, output)
    assert not _exports(home), f"a refused file published {_exports(home)}"
    db = home / "catalog.db"
    if db.exists():
        from structr_pipeline.settings import StructrSettings
        from structr_pipeline.store.catalog import count_products
        from structr_pipeline.store.db import CatalogDB

        assert count_products(CatalogDB.from_settings(StructrSettings.from_env())) == (0, 0)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_case(case: Case, cli_env: Path) -> None:
    path = case.write(cli_env / "in")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["import", str(path)])
    elapsed = time.monotonic() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(
            "structr import crashed:\n"
            + "".join(traceback.format_exception(result.exception))
            + result.output[-3000:]
        )
    output = " ".join(result.output.split())
    assert "Traceback" not in result.output, result.output[-3000:]
    assert elapsed < case.max_seconds, f"took {elapsed:.1f} s (limit {case.max_seconds} s)"
    imported = result.exit_code == 0
    if case.outcome == "imports":
        assert imported, f"expected an import, got exit {result.exit_code}: {output[-2000:]}"
    elif case.outcome == "refused":
        assert not imported, "expected a refusal, the file imported"
    home = cli_env / "home"
    if imported:
        (folder,) = _exports(home)
        check_import(case, read_bundle(folder, output))
    else:
        check_refusal(case, output, home)
