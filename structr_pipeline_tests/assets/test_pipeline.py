"""A whole import batch materialized in-process against a real instance and real files."""

from __future__ import annotations

import csv
import json
import shutil

import dagster as dg
import pandas as pd
import pytest

from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import count_products, read_catalog


def run_file(defs, instance, path, options=None):
    catalog = defs.resources["catalog"]
    registered = register_batch(catalog, instance, path, options=options)
    run = run_batch(defs, instance, registered.manifest.batch_id)
    return catalog, registered.manifest.batch_id, run


def test_sample_batch_end_to_end(defs, instance, sample_csv) -> None:
    catalog, batch_id, run = run_file(defs, instance, sample_csv)
    assert run.success, run.errors + run.check_failures

    out = catalog.settings.exports_dir / batch_id
    summary = json.loads((out / "summary.json").read_text())
    counts = summary["counts"]
    with sample_csv.open(newline="", encoding="utf-8") as f:
        source = list(csv.DictReader(f))
    assert counts["rows_in"] == len(source)
    assert counts["rows_accepted"] + counts["rows_rejected"] == counts["rows_in"]

    with (out / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    assert counts["rows_rejected"] == len(errors)
    by_sku = {row["Variant SKU"]: row for row in errors}
    # the bad rows keep their original values and say what is wrong with them
    assert by_sku["RL-SOCK-L"]["Variant Price"] == "abc"
    assert "Variant Price" in by_sku["RL-SOCK-L"]["errors"]
    assert by_sku["RL-SOCK-XL"]["Variant Price"] == "-5"
    assert "Variant Barcode" in by_sku["RL-SOCK-XL"]["errors"]
    assert "Handle" in by_sku["HG-NAP-4"]["errors"]
    assert list(errors[0].keys())[-1] == "errors"

    products = [json.loads(line) for line in (out / "products.jsonl").read_text().splitlines()]
    by_handle = {p["handle"]: p for p in products}
    sweater = by_handle["merino-crew-sweater"]
    assert len(sweater["variants"]) == 4
    assert len(sweater["images"]) == 4
    dripper = by_handle["ceramic-pour-over"]
    assert "<script" not in dripper["description_html"]
    assert "onclick" not in dripper["description_html"]
    assert sorted(v["price"] for v in dripper["variants"]) == [29.9, 32.0]

    manifest = get_batch(catalog.db(), batch_id)
    assert manifest.status == "completed"
    assert manifest.counts["rows_in"] == len(source)
    assert count_products(catalog.db()) == (
        len(products),
        sum(len(p["variants"]) for p in products),
    )

    materialized = instance.get_latest_materialization_event(dg.AssetKey("product_bundle"))
    assert materialized is not None
    assert materialized.asset_materialization.partition == batch_id
    check_keys = [
        dg.AssetCheckKey(dg.AssetKey("validated_products"), name)
        for name in ("rows_conserved", "matches_product_schema")
    ]
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    assert set(checks) == set(check_keys)
    assert all(c.status.value == "SUCCEEDED" for c in checks.values())


def test_rematerializing_a_partition_is_idempotent(defs, instance, sample_csv) -> None:
    catalog, batch_id, first = run_file(defs, instance, sample_csv)
    assert first.success
    before = read_catalog(catalog.db())
    again = run_batch(defs, instance, batch_id)
    assert again.success
    after = read_catalog(catalog.db())
    pd.testing.assert_frame_equal(before, after)
    assert instance.get_dynamic_partitions("import_batch") == [batch_id]


def test_same_bytes_register_once(defs, instance, sample_csv, tmp_path) -> None:
    catalog = defs.resources["catalog"]
    copy = tmp_path / "renamed.csv"
    shutil.copyfile(sample_csv, copy)
    first = register_batch(catalog, instance, sample_csv)
    second = register_batch(catalog, instance, copy)
    assert first.created and not second.created
    assert second.manifest.batch_id == first.manifest.batch_id
    assert instance.get_dynamic_partitions("import_batch") == [first.manifest.batch_id]


@pytest.mark.slow
@pytest.mark.parametrize(
    "relative",
    [
        None,  # the shipped sample
        "shopify-product-template/product_template.csv",
        "shopifypartners-product-csvs/jewelery.csv",
        "levinmejia-shopify-product-csvs/Apparel.csv",
    ],
)
def test_export_reimports_to_the_same_catalog(
    relative, tmp_path, instance, sample_csv, request
) -> None:
    from structr_pipeline.definitions import build_defs
    from structr_pipeline.settings import StructrSettings

    source = sample_csv if relative is None else request.getfixturevalue("datasets_dir") / relative

    def catalog_after(path, home_name):
        home = tmp_path / home_name
        settings = StructrSettings(home=home, database_url=f"sqlite:///{home / 'catalog.db'}")
        defs = build_defs(settings)
        # The import file as the source had it: no generated copy laid over it, and no
        # product held back for audit errors.
        options = {"publish_generated_copy": False, "publish_products_with_errors": True}
        catalog, batch_id, run = run_file(defs, instance, path, options)
        assert run.success, run.errors + run.check_failures
        exported = settings.exports_dir / batch_id / "shopify_import.csv"
        return read_catalog(catalog.db()), exported

    first, exported = catalog_after(source, "first")
    second, _ = catalog_after(exported, "second")
    assert len(first) > 0
    pd.testing.assert_frame_equal(first, second)


def test_file_without_handle_or_sku_is_stopped_by_the_required_fields_check(
    defs, instance, tmp_path
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("Name,Price\nshirt,10\n", encoding="utf-8")
    _, batch_id, run = run_file(defs, instance, bad)
    assert not run.success
    (message,) = run.check_failures
    assert message.startswith("required_fields_mapped: notes.csv: no column maps to handle or sku")
    assert "--save-profile" in message
    catalog = defs.resources["catalog"]
    assert get_batch(catalog.db(), batch_id).status == "failed"


@pytest.mark.postgres
def test_batch_into_a_postgresql_catalog(postgres_url, tmp_path, instance, sample_csv) -> None:
    from structr_pipeline.definitions import build_defs
    from structr_pipeline.settings import StructrSettings

    settings = StructrSettings(home=tmp_path / "pg_home", database_url=postgres_url)
    defs = build_defs(settings)
    catalog, batch_id, run = run_file(defs, instance, sample_csv)
    assert run.success, run.errors + run.check_failures
    first = read_catalog(catalog.db())
    summary = json.loads((settings.exports_dir / batch_id / "summary.json").read_text())
    assert len(first) == summary["counts"]["variants"]
    assert get_batch(catalog.db(), batch_id).status == "completed"

    again = run_batch(defs, instance, batch_id)
    assert again.success
    pd.testing.assert_frame_equal(first, read_catalog(catalog.db()))


def write_supplier_sheet(path):
    rows = [
        "Artikelnummer;Bezeichnung;Preis;UVP;Bestand;Gewicht (kg);EAN;Hersteller;Notiz",
        "A-100;Mütze grün;12,90;15,00;4;0,2;4006381333931;Kiln;ab Lager",
        "A-101;Mütze rot;12,90;15,00;0;0,25;4006381333948;Kiln;",
        "A-102;Schal;abc;15,00;1;0,3;;Kiln;",
    ]
    path.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    return path


def test_a_supplier_sheet_is_mapped_by_itself(defs, instance, tmp_path) -> None:
    sheet = write_supplier_sheet(tmp_path / "lieferant.csv")
    catalog, batch_id, run = run_file(defs, instance, sheet)
    assert run.success, run.errors + run.check_failures
    # A bare supplier sheet (no images, no descriptions) grades low; nothing else warns.
    assert [w for w in run.check_warnings if not w.startswith("grade_c_or_better_share")] == []

    stored = defs.load_asset_value("column_mapping", partition_key=batch_id, instance=instance)
    own = stored[~stored["derived"]]
    fields = dict(zip(own["column"], own["field"], strict=True))
    assert fields["Artikelnummer"] == "sku" and fields["Preis"] == "price"
    assert fields["Notiz"] is None
    derived = stored[stored["derived"]]
    assert list(zip(derived["column"], derived["field"], strict=True)) == [
        ("Artikelnummer", "handle")
    ]

    mapped = instance.get_latest_materialization_event(dg.AssetKey("mapped_products"))
    metadata = mapped.asset_materialization.metadata
    assert metadata["source_format"].value == "generic_csv"
    assert "| Gewicht (kg) | weight_grams |" in metadata["mapping"].value

    out = catalog.settings.exports_dir / batch_id
    products = [json.loads(line) for line in (out / "products.jsonl").read_text().splitlines()]
    assert [p["handle"] for p in products] == ["a-100", "a-101"]
    assert products[0]["variants"][0]["weight_grams"] == 200
    assert products[0]["attributes"] == {"Notiz": "ab Lager"}
    with (out / "errors.csv").open(newline="", encoding="utf-8") as f:
        (rejected,) = list(csv.DictReader(f))
    assert rejected["Preis"] == "abc" and "column 'Preis'" in rejected["errors"]


def test_mapping_from_values_alone_runs_with_a_warning(defs, instance, tmp_path) -> None:
    sheet = tmp_path / "export.csv"
    lines = ["col_1,col_2,col_3,col_4"]
    for i in range(40):
        body = f"{400000000000 + i:012d}"
        check = (10 - sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(body)) % 10) % 10
        lines.append(f"KC-{100 + i},Walnut board no {i},{19 + i % 5}.90,{body}{check}")
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    catalog, batch_id, run = run_file(defs, instance, sheet)
    assert run.success, run.errors + run.check_failures
    (warning, *quality) = run.check_warnings
    assert all(w.startswith("grade_c_or_better_share") for w in quality)
    assert warning.startswith("required_fields_mapped: export.csv: required fields mapped with")
    assert "price ← 'col_3'" in warning
    summary = json.loads((catalog.settings.exports_dir / batch_id / "summary.json").read_text())
    assert summary["counts"]["rows_accepted"] == 40


def test_a_second_copy_from_a_reimport_merges_into_the_catalog_product(
    defs, instance, sample_csv, tmp_path
) -> None:
    catalog, _, first = run_file(defs, instance, sample_csv)
    assert first.success
    before = count_products(catalog.db())
    with sample_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    copy_rows = [[*row] for row in body if row[0] == "canvas-tote"]
    for row in copy_rows:
        row[0] = "canvas-tote-1"  # what a re-import creates when the handle is taken
        row[header.index("Variant Price")] = "26.00"
    copy = tmp_path / "tote_copy.csv"
    with copy.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *copy_rows])

    _, batch_id, second = run_file(defs, instance, copy)
    assert second.success, second.errors + second.check_failures
    assert count_products(catalog.db()) == before  # no second copy
    tote = read_catalog(catalog.db()).query("handle == 'canvas-tote'")
    assert tote["price"].tolist() == [26.0]  # the newer batch wins for prices
    out = catalog.settings.exports_dir / batch_id
    with (out / "merges.csv").open(newline="", encoding="utf-8") as f:
        merges = list(csv.DictReader(f))
    assert {(m["survivor_handle"], m["merged_handle"], m["rule"]) for m in merges} >= {
        ("canvas-tote", "canvas-tote-1", "same SKU")
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["rows_in"] == summary["counts"]["rows_accepted"]


def test_shuffled_rows_leave_the_catalog_identical(defs, instance, tmp_path) -> None:
    header = "SKU;Name;Brand;Price;Size"
    rows = [
        "H-S;Hoodie;Fieldhouse;49,00;S",
        "H-M;Hoodie;Fieldhouse;49,00;M",
        "C-1;Cap;Fieldhouse;19,00;",
        "M-1;Mug;Kiln;12,50;",
    ]
    ordered = tmp_path / "ordered.csv"
    ordered.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")

    catalog, _, first = run_file(defs, instance, ordered)
    assert first.success, first.errors + first.check_failures
    before = read_catalog(catalog.db())
    assert sorted(before["handle"].unique()) == ["c-1", "h-m", "m-1"]  # hoodie sizes: one product

    _, batch_id, second = run_file(defs, instance, shuffled)
    assert second.success, second.errors + second.check_failures
    pd.testing.assert_frame_equal(before, read_catalog(catalog.db()))
    stored = defs.load_asset_value(
        "deduplicated_products", partition_key=batch_id, instance=instance
    )
    assert set(stored["_change"]) == {"unchanged"}


def test_a_bundles_products_jsonl_imports_as_a_json_batch(defs, instance, sample_csv) -> None:
    catalog, batch_id, run = run_file(defs, instance, sample_csv)
    assert run.success
    bundle = catalog.settings.exports_dir / batch_id / "products.jsonl"
    before = read_catalog(catalog.db())
    _, again_id, again = run_file(defs, instance, bundle)
    assert again.success, again.errors + again.check_failures
    summary = json.loads((catalog.settings.exports_dir / again_id / "summary.json").read_text())
    assert summary["counts"]["rows_rejected"] == 0
    assert summary["counts"]["products"] == before["handle"].nunique()
    assert set(read_catalog(catalog.db())["handle"]) == set(before["handle"])


@pytest.mark.slow
def test_a_woocommerce_export_publishes_its_products_and_records_its_format(
    defs, instance, datasets_dir
) -> None:
    from structr_pipeline.store.stages import stages_of

    path = datasets_dir / "woocommerce-sample-products" / "sample_products.csv"
    catalog, batch_id, run = run_file(defs, instance, path)
    assert run.success, run.errors + run.check_failures

    out = catalog.settings.exports_dir / batch_id
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source_format"]["format"] == "woocommerce"
    assert summary["source_format"]["products"] == 17
    assert "7 variations under 2 variable products" in summary["source_format"]["sentence"]
    mapping = stages_of(catalog.db(), batch_id)["mapping"]
    assert mapping.produced_with["format"] == "woocommerce"
    assert mapping.counts["products"] == 17
    materialization = instance.get_latest_materialization_event(
        dg.AssetKey("mapped_products")
    ).asset_materialization
    assert materialization.metadata["source_format"].value == "woocommerce"
    assert "17 products" in materialization.metadata["grouping"].value
    with (out / "shopify_import.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    handles = {row["URL handle"] for row in rows if row["URL handle"]}
    assert len(handles) == 17 and summary["held_back"]["products"] == 0
    hoodie = [row for row in rows if row["URL handle"] == "hoodie" and row["SKU"]]
    assert sorted(row["SKU"] for row in hoodie) == [
        "woo-hoodie-blue",
        "woo-hoodie-blue-logo",
        "woo-hoodie-green",
        "woo-hoodie-red",
    ]
    assert {row["Option1 name"] for row in hoodie} - {""} == {"Color"}
    assert "WooCommerce product export" in (out / "report.html").read_text(encoding="utf-8")
