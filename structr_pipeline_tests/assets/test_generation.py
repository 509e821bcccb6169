"""`generated_copy` materialized for real, against a chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json

import dagster as dg

from structr_pipeline.core.generation.providers import compose_offline_copy
from structr_pipeline.definitions import build_defs
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline_tests.chat_server import ChatServer, completion, facts_of, good


def openai_defs(settings, chat: ChatServer):
    llm = LLMResource(provider="openai", base_url=chat.base_url, model="shop-writer")
    return build_defs(settings, resource_overrides={"llm": llm})


def run_sample(defs, instance, sample_csv):
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, sample_csv).manifest.batch_id
    run = run_batch(defs, instance, batch_id)
    stored = defs.load_asset_value("generated_copy", partition_key=batch_id, instance=instance)
    return batch_id, run, stored


def test_copy_is_written_once_and_then_served_from_the_cache(
    settings, instance, sample_csv, chat
) -> None:
    defs = openai_defs(settings, chat)
    batch_id, run, stored = run_sample(defs, instance, sample_csv)
    assert run.success, run.errors + run.check_failures
    assert set(stored["status"]) == {"generated"}
    products = stored["handle"].tolist()
    audited = defs.load_asset_value("audited_products", partition_key=batch_id, instance=instance)
    fixes = int(audited["fix"].isin(["improved", "not_improved", "failed"]).sum())
    assert fixes <= len(products)
    # One call per product, plus one per product the audit sent back; none twice.
    assert len(chat.requests) == len(products) + fixes
    first = chat.requests[0]
    assert first["model"] == "shop-writer"
    assert first["response_format"] == {"type": "json_object"}
    assert "Merino" not in first["messages"][0]["content"]  # facts only in the user message

    materialization = instance.get_latest_materialization_event(
        dg.AssetKey("generated_copy")
    ).asset_materialization
    assert materialization.metadata["prompt_tokens"].value == 120 * len(products)
    assert materialization.metadata["model_calls"].value == len(products)

    again = run_batch(defs, instance, batch_id)  # re-materialize: zero model calls
    assert again.success
    assert len(chat.requests) == len(products) + fixes
    cached = defs.load_asset_value("generated_copy", partition_key=batch_id, instance=instance)
    assert set(cached["status"]) == {"cached"}  # unchanged products: their cached copy


def test_failures_are_isolated_and_invented_facts_flagged(
    settings, instance, sample_csv, chat
) -> None:
    asked: dict[str, int] = {}

    def flaky(request: dict, n: int) -> tuple[int, dict, dict]:
        facts = facts_of(request)
        asked[facts["title"]] = asked.get(facts["title"], 0) + 1
        if facts["title"].startswith("Ceramic") and asked[facts["title"]] == 1:
            return 200, completion("Here is your copy: {not json"), {}  # fixed on the retry
        if facts["title"].startswith("Gift Card"):
            return 200, completion(json.dumps({"title": "Gift Card"})), {}  # invalid, twice
        if facts["title"].startswith("Canvas Tote"):
            return 400, {"error": {"message": "content policy"}}, {}
        if facts["title"].startswith("Walnut"):
            copy = compose_offline_copy(facts)
            copy["bullets"] = [*copy["bullets"][:2], "100% waterproof walnut"]
            return 200, completion(json.dumps(copy)), {}  # invents a claim, every time
        if n == 1:
            return 429, {"error": "slow down"}, {"Retry-After": "1"}
        return good(request, n)

    chat.answer = flaky
    defs = openai_defs(settings, chat)
    _, run, stored = run_sample(defs, instance, sample_csv)
    assert run.success, run.errors + run.check_failures  # one product failing is not a failed run
    by_handle = stored.set_index("handle")
    tote = by_handle.loc["canvas-tote"]
    assert tote["status"] == "failed" and "400" in tote["error"] and tote["attempts"] == 1
    board = by_handle.loc["walnut-cutting-board"]
    assert board["status"] == "generated" and board["attempts"] == 2  # regenerated once
    flags = json.loads(board["flags"])
    assert {f["kind"] for f in flags} >= {"number", "claim"}
    assert any("waterproof" in f["text"].lower() for f in flags)
    dripper = by_handle.loc["ceramic-pour-over"]
    assert (dripper["status"], dripper["attempts"]) == ("generated", 2)
    card = by_handle.loc["gift-card"]
    assert (card["status"], card["attempts"]) == ("failed", 2)
    assert "failed validation twice" in card["error"] and "seo_title" in card["error"]
    (retry,) = [
        r["messages"]
        for r in chat.requests
        if facts_of(r)["title"].startswith("Gift Card") and len(r["messages"]) == 3
    ]
    assert retry[1]["role"] == "user" and "seo_title" in retry[1]["content"]  # fed back
    warnings = " ".join(run.check_warnings)
    assert "generation_failure_rate" in warnings and "2 of" in warnings


def test_the_profiles_brand_voice_reaches_the_model(settings, instance, tmp_path, chat) -> None:
    from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions, save_profile

    sheet = tmp_path / "kiln.csv"
    sheet.write_text("SKU;Name;Price\nK-1;Stoneware mug;12,00\n", encoding="utf-8")
    voice = {"tone": "dry and precise", "avoid": ["amazing", "must-have"]}
    save_profile(
        settings.profiles_dir,
        MappingProfile(
            "kiln",
            {"SKU": "sku", "Name": "title", "Price": "price"},
            ProfileOptions(brand_voice=voice),
        ),
    )
    defs = openai_defs(settings, chat)
    catalog = defs.resources["catalog"]
    batch_id = register_batch(
        catalog, instance, sheet, options={"profile": "kiln"}
    ).manifest.batch_id
    run = run_batch(defs, instance, batch_id)
    assert run.success, run.errors + run.check_failures
    # The first writing and the audit's fix pass both speak in the profile's voice.
    assert 1 <= len(chat.requests) <= 2
    for request in chat.requests:
        assert facts_of(request)["brand_voice"] == voice
