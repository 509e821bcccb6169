"""`audited_products` and the bundle's audit outputs, materialized for real."""

from __future__ import annotations

import csv
import json

from structr_pipeline.core.generation.providers import compose_offline_copy
from structr_pipeline.definitions import build_defs
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline_tests.chat_server import completion, facts_of, good


def run(defs, instance, path, options=None):
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, path, options=options).manifest.batch_id
    result = run_batch(defs, instance, batch_id)
    assert result.success, result.errors + result.check_failures
    audited = defs.load_asset_value(
        "audited_products", partition_key=batch_id, instance=instance
    ).set_index("handle")
    return batch_id, result, audited


def inventing(times: int, asked: dict):
    """A model that adds an unsupported claim to a product's first ``times`` answers."""

    def answer(request: dict, n: int):
        facts = facts_of(request)
        title = facts["title"]
        asked[title] = asked.get(title, 0) + 1
        if title.startswith(("Walnut", "Canvas")) and (
            title.startswith("Walnut") or asked[title] <= times
        ):
            copy = compose_offline_copy(facts)
            copy["bullets"] = [*copy["bullets"][:2], "100% waterproof, certified organic"]
            return 200, completion(json.dumps(copy)), {}
        return good(request, n)

    return answer


def test_fixable_issues_get_one_bounded_regeneration(settings, instance, sample_csv, chat):
    asked: dict[str, int] = {}
    chat.answer = inventing(times=2, asked=asked)
    llm = LLMResource(provider="openai", base_url=chat.base_url, model="shop-writer")
    defs = build_defs(settings, resource_overrides={"llm": llm})
    batch_id, _, audited = run(defs, instance, sample_csv)

    walnut = audited.loc["walnut-cutting-board"]
    # Written, regenerated once for the guard, then once by the audit: never more.
    assert asked["Walnut Cutting Board"] == 3
    assert walnut["fix"] == "not_improved"
    assert "UNSUPPORTED_CLAIM" in walnut["issues"]
    assert walnut["score"] == walnut["score_before"]

    tote = audited.loc["canvas-tote"]
    assert asked["Canvas Tote Bag"] == 3  # invented twice; the audit's fix pass writes it clean
    assert tote["fix"] == "improved"
    assert "UNSUPPORTED_CLAIM" in tote["issues_before"]
    assert "UNSUPPORTED_CLAIM" not in tote["issues"]
    assert tote["score"] > tote["score_before"]

    out = settings.exports_dir / batch_id
    records = {json.loads(x)["handle"]: json.loads(x) for x in (out / "products.jsonl").open()}
    assert records["canvas-tote"]["audit"]["score"] == tote["score"]
    assert records["canvas-tote"]["audit"]["score_before_fixes"] == tote["score_before"]
    assert "waterproof" not in json.dumps(records["canvas-tote"]["generated_copy"]["copy"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(handle in report for handle in records)

    calls = len(chat.requests)
    again = run_batch(defs, instance, batch_id)  # re-materialized: every answer is cached
    assert again.success and len(chat.requests) == calls


def test_products_with_audit_errors_are_held_back_unless_allowed(defs, instance, tmp_path):
    sheet = tmp_path / "supplier.csv"
    sheet.write_text(
        "sku,title,price,vendor,barcode\n"
        "F-1,Free sample sachet,0,Kiln,\nM-1,Stoneware mug,12.00,Kiln,'30235\n",
        encoding="utf-8",
    )
    batch_id, _, audited = run(defs, instance, sheet)
    assert (
        bool(audited.loc["f-1", "has_errors"])
        and "PRICE_NOT_POSITIVE" in audited.loc["f-1", "issues"]
    )
    # A store's own barcode is kept and published; it is not an invalid GTIN.
    assert "BARCODE_NOT_GTIN" in audited.loc["m-1", "issues"]
    assert "GTIN_INVALID" not in audited.loc["m-1", "issues"]
    assert json.loads(audited.loc["m-1", "holds_back"]) == []
    assert json.loads(audited.loc["f-1", "holds_back"]) == ["PRICE_NOT_POSITIVE"]
    out = defs.resources["catalog"].settings.exports_dir / batch_id
    with (out / "shopify_import.csv").open(newline="", encoding="utf-8") as f:
        published = {row["URL handle"] for row in csv.DictReader(f)}
    assert published == {"m-1"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["held_back"] == 1
    assert summary["held_back"]["top_reason"] == "PRICE_NOT_POSITIVE"
    assert summary["held_back"]["handles"] == ["f-1"]
    report = (out / "report.html").read_text(encoding="utf-8")
    products = report[report.index('id="product-table"') :]
    assert products.index("<code>f-1</code>") < products.index("<code>m-1</code>")
    assert "held back" in products[: products.index("<code>m-1</code>")]

    allowed = tmp_path / "again.csv"
    allowed.write_bytes(sheet.read_bytes() + b"\n")
    batch_id, _, _ = run(defs, instance, allowed, {"publish_products_with_errors": True})
    out = defs.resources["catalog"].settings.exports_dir / batch_id
    with (out / "shopify_import.csv").open(newline="", encoding="utf-8") as f:
        assert {row["URL handle"] for row in csv.DictReader(f)} == {"f-1", "m-1"}
