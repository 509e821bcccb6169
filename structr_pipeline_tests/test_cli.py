"""The `structr` command line, run in-process on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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


@pytest.mark.slow
def test_import_warns_about_held_back_products_with_count_reason_and_option(cli_env) -> None:
    sheet = cli_env / "supplier.csv"
    sheet.write_text(
        "sku,title,price,vendor\nF-1,Free sample sachet,0,Kiln\nF-2,Free coaster,0,Kiln\n"
        "M-1,Stoneware mug,12.00,Kiln\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["import", str(sheet)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Warning 2 products held back from shopify_import.csv" in output
    assert "top reason PRICE_NOT_POSITIVE (2)" in output
    assert "--option publish_products_with_errors=true" in output


LISTED_TWICE = (
    "Handle,Title,Body (HTML),Vendor,Variant SKU,Variant Price,Image Src\n"
    "mug,Stoneware Mug,<p>Glazed by hand.</p>,Kiln,MUG-1,12.00,https://cdn.example.com/mug.jpg\n"
    "mug-2,Stoneware Mug,<p>Glazed by hand.</p>,Kiln,MUG-2,12.00,https://cdn.example.com/mug.jpg\n"
    "cup,Espresso Cup,<p>Small.</p>,Kiln,CUP-1,8.50,https://cdn.example.com/cup.jpg\n"
)


@pytest.mark.slow
def test_import_tells_how_to_merge_products_listed_twice(cli_env) -> None:
    sheet = cli_env / "products_export.csv"
    sheet.write_text(LISTED_TWICE, encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(sheet)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Note 1 product is listed more than once in this file (1 extra listing" in output
    assert "--option merge_listed_duplicates=true" in output
    (report,) = (cli_env / "home" / "exports").glob("*/report.html")
    assert "to merge each into one product, run again with --option merge_listed_duplicates" in (
        report.read_text(encoding="utf-8")
    )
    merged_sheet = cli_env / "products_export_again.csv"
    merged_sheet.write_text(LISTED_TWICE + "\n", encoding="utf-8")
    merged = CliRunner().invoke(
        app, ["import", str(merged_sheet), "--option", "merge_listed_duplicates=true"]
    )
    assert merged.exit_code == 0, merged.output
    assert "Note" not in merged.output
    summaries = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (cli_env / "home" / "exports").glob("*/summary.json")
    ]
    (summary,) = [s for s in summaries if s["source_file"] == merged_sheet.name]
    assert summary["counts"]["products"] == 2
    assert summary["counts"]["listed_more_than_once"] == 0
    # the catalog held both listings from the first import: the one merged away is
    # archived, not left beside the product it was merged into
    assert summary["counts"]["catalog_archived"] == 1
    listing = CliRunner().invoke(app, ["batches", "show", summary["batch_id"]])
    assert listing.exit_code == 0, listing.output


@pytest.mark.slow
def test_import_reads_a_hash_delimited_file(cli_env) -> None:
    sheet = cli_env / "export.csv"
    sheet.write_text(
        "sku#title#price#vendor#description\n"
        'M-1#Stoneware mug, blue#12.00#Kiln#"Glazed: blue.\nHolds 300 ml; #1 seller"\n'
        "C-2#Espresso cup#8.50#Kiln#Small\n",
        encoding="utf-8",
    )
    analysed = CliRunner().invoke(app, ["analyze", str(sheet)])
    assert analysed.exit_code == 0, analysed.output
    assert "delimiter '#'" in analysed.output
    result = CliRunner().invoke(app, ["import", str(sheet)])
    assert result.exit_code == 0, result.output
    (batch_dir,) = list((cli_env / "home" / "exports").iterdir())
    products = [
        json.loads(line) for line in (batch_dir / "products.jsonl").read_text().splitlines()
    ]
    assert [(p["title"], p["vendor"]) for p in products] == [
        ("Stoneware mug, blue", "Kiln"),
        ("Espresso cup", "Kiln"),
    ]
    assert products[0]["description_html"] == "Glazed: blue.\nHolds 300 ml; #1 seller"
    variants = [p["variants"][0] for p in products]
    assert [(v["sku"], v["price"], v["source_line"]) for v in variants] == [
        ("M-1", 12.0, 2),
        ("C-2", 8.5, 4),
    ]


def test_analyze_names_the_format_and_how_rows_group(cli_env, datasets_dir) -> None:
    path = datasets_dir / "magento2-sample-data" / "products.csv"
    result = CliRunner().invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Magento 2 catalog export: 1,994 rows → 147 products with 1,847 variants" in output
    data = json.loads(CliRunner().invoke(app, ["analyze", str(path), "--json"]).output)
    assert data["grouping"]["format"] == "magento"
    assert data["grouping"]["counts"]["children"] == 1847


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


SUPPLIER = (
    "Artikelnummer;Bezeichnung;Preis;UVP;Bestand;Gewicht (kg);EAN;Hersteller;Notiz\n"
    "A-100;Mütze grün;12,90;15,00;4;0,2;4006381333931;Kiln;ab Lager\n"
    "A-101;Mütze rot;12,90;15,00;0;0,25;4006381333948;Kiln;\n"
)


@pytest.fixture
def supplier_csv(cli_env):
    path = cli_env / "lieferant.csv"
    path.write_bytes(SUPPLIER.encode("cp1252"))
    return path


def test_analyze_json_contract(cli_env, supplier_csv) -> None:
    result = CliRunner().invoke(app, ["analyze", str(supplier_csv), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["encoding"], report["delimiter"]) == ("cp1252", ";")
    assert list(report["columns"]) == SUPPLIER.splitlines()[0].split(";")
    for column in report["columns"].values():
        assert set(column) >= {"field", "confidence"}
        assert 0.0 <= column["confidence"] <= 1.0
    fields = {name: column["field"] for name, column in report["columns"].items()}
    assert fields == {
        "Artikelnummer": "sku",
        "Bezeichnung": "title",
        "Preis": "price",
        "UVP": "compare_at_price",
        "Bestand": "inventory_qty",
        "Gewicht (kg)": "weight_grams",
        "EAN": "barcode",
        "Hersteller": "vendor",
        "Notiz": None,
    }
    assert report["columns"]["Gewicht (kg)"]["unit_factor"] == 1000
    assert report["missing_required"] == []
    assert report["preview"][0]["title"] == "Mütze grün"
    assert report["preview"][0]["price"] == 12.9
    assert not (cli_env / "home" / "catalog.db").exists()  # a dry run registers nothing


def test_analyze_prints_a_readable_proposal(cli_env, supplier_csv) -> None:
    result = CliRunner().invoke(app, ["analyze", str(supplier_csv)])
    assert result.exit_code == 0, result.output
    assert "Proposed mapping" in result.output
    assert "Kept as extra attributes: Notiz" in result.output
    assert "Mütze grün" in result.output


def test_saved_profile_is_used_by_import_and_wins(cli_env, supplier_csv) -> None:
    runner = CliRunner()
    saved = runner.invoke(app, ["analyze", str(supplier_csv), "--save-profile", "kiln"])
    assert saved.exit_code == 0, saved.output
    path = cli_env / "home" / "profiles" / "kiln.yaml"
    assert path.is_file()
    edited = path.read_text(encoding="utf-8").replace("Notiz: null", "Notiz: seo_description")
    path.write_text(edited, encoding="utf-8")

    again = runner.invoke(app, ["analyze", str(supplier_csv), "--profile", "kiln", "--json"])
    report = json.loads(again.output)
    assert report["columns"]["Notiz"] == {
        **report["columns"]["Notiz"],
        "field": "seo_description",
        "confidence": 1.0,
    }

    imported = runner.invoke(app, ["import", str(supplier_csv), "--profile", "kiln"])
    assert imported.exit_code == 0, imported.output
    (batch_dir,) = list((cli_env / "home" / "exports").iterdir())
    products = [
        json.loads(line) for line in (batch_dir / "products.jsonl").read_text().splitlines()
    ]
    assert [p["seo_description"] for p in products] == ["ab Lager", ""]
    assert products[0]["variants"][0]["weight_grams"] == 200


def test_import_with_an_unknown_profile_stops_before_registering(cli_env, supplier_csv) -> None:
    result = CliRunner().invoke(app, ["import", str(supplier_csv), "--profile", "nope"])
    assert result.exit_code == 2
    assert "no mapping profile 'nope'" in result.output
    assert not (cli_env / "home" / "landing").exists()


def test_analyze_refuses_to_save_a_profile_for_a_shopify_export(cli_env, sample_csv) -> None:
    result = CliRunner().invoke(app, ["analyze", str(sample_csv), "--save-profile", "x"])
    assert result.exit_code == 2
    assert "Shopify product export" in result.output


@pytest.mark.slow
def test_batches_show_and_reprocess_failed_items(cli_env, sample_csv, monkeypatch) -> None:
    from structr_pipeline_tests.chat_server import ChatServer, facts_of, good

    chat = ChatServer()
    chat.down = True

    def answer(request: dict, n: int):
        if chat.down and facts_of(request)["title"].startswith("Walnut"):
            return 400, {"error": {"message": "content policy"}}, {}
        return good(request, n)

    chat.answer = answer
    monkeypatch.setenv("STRUCTR_LLM_PROVIDER", "openai")
    monkeypatch.setenv("STRUCTR_LLM_BASE_URL", chat.base_url)
    monkeypatch.setenv("STRUCTR_LLM_MODEL", "shop-writer")
    runner = CliRunner()
    try:
        imported = runner.invoke(app, ["import", str(sample_csv)])
        assert imported.exit_code == 0, imported.output
        (batch_dir,) = list((cli_env / "home" / "exports").iterdir())
        batch_id = batch_dir.name

        shown = runner.invoke(app, ["batches", "show", batch_id])
        assert shown.exit_code == 0, shown.output
        text = " ".join(shown.output.split())
        assert "Failed items" in text and "walnut-cutting-board" in text and "400" in text
        for stage in ("mapping", "generation", "audit"):
            assert stage in text
        assert "generated_copy" in text  # the assets' latest materializations

        chat.down = False
        redone = runner.invoke(app, ["batches", "reprocess", batch_id, "--failed-only"])
        assert redone.exit_code == 0, redone.output
        assert "0 failed items remain" in " ".join(redone.output.split())
        after = runner.invoke(app, ["batches", "show", batch_id])
        assert "No failed items." in after.output

        missing = runner.invoke(app, ["batches", "show", "no-such-batch"])
        assert missing.exit_code == 2 and "no-such-batch" in missing.output
    finally:
        chat.close()


def test_batch_options_from_the_command_line(cli_env) -> None:
    from structr_pipeline.cli import parse_options

    assert parse_options(
        ["publish_generated_copy=false", "brand_voice={tone: warm, avoid: [cheap]}", "note="]
    ) == {
        "publish_generated_copy": False,
        "brand_voice": {"tone": "warm", "avoid": ["cheap"]},
        "note": "",
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_options(["publish"])
    sheet = cli_env / "sheet.csv"
    sheet.write_text("sku,title,price\nA-1,Mug,9.00\n", encoding="utf-8")
    bad = CliRunner().invoke(app, ["import", str(sheet), "--option", "audit={oops"])
    assert bad.exit_code == 2 and "not valid YAML" in " ".join(bad.output.split())


def test_a_dagster_home_that_does_not_exist_yet_is_created(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STRUCTR_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "not" / "yet"))
    result = CliRunner().invoke(app, ["batches", "show", "no-such-batch"])
    assert result.exit_code == 2, result.output
    assert "no-such-batch" in result.output
    assert (tmp_path / "not" / "yet").is_dir()


@pytest.mark.slow
def test_commands_started_together_open_one_fresh_dagster_home(tmp_path) -> None:
    """Four processes opening a Dagster home nobody has used yet all get its storage."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    script = (
        "from structr_pipeline.cli import _dagster_instance\n"
        "instance = _dagster_instance()\n"
        "instance.add_dynamic_partitions('import_batch', ['b'])\n"
        "print(len(instance.get_runs(limit=1)))\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == "0"
