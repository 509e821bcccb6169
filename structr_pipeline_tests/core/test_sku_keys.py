"""SKU keys fold Unicode one way wherever SKUs are compared; the SKU itself is kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from structr_pipeline.core.dedup import MATCH_COLUMNS, candidate_pairs
from structr_pipeline.core.dedup.keys import normalize_model, title_tokens
from structr_pipeline.core.values import fold_text, sku_key
from structr_pipeline.store.catalog import read_catalog, upsert_products, variant_key
from structr_pipeline.store.db import CatalogDB, variants
from structr_pipeline_tests.store.test_catalog import validated_frame

# One SKU, written as people and programs write it.
SPELLINGS = [
    "AB-12K",
    " ab-12k ",
    "ＡＢ－１２Ｋ",  # full-width letters, digits and hyphen
    "AB-12\u212a",  # KELVIN SIGN, which NFKC makes a K
    "AB\u200b-12K",  # zero-width space
    "\ufeffAB-12K",  # a byte-order mark left at the start of a cell
    "AB-\u206012K",  # word joiner
    "AB-1\u00ad2K",  # soft hyphen
    "AB\u00a0-12K",  # no-break space
]


@pytest.mark.parametrize("written", SPELLINGS)
def test_every_spelling_of_a_sku_is_one_key(written: str) -> None:
    assert sku_key(written) == "ab-12k"


def test_ligatures_and_case_folding() -> None:
    assert sku_key("ﬁLTER-1") == sku_key("FILTER-1") == "filter-1"
    assert sku_key("STRAẞE-9") == sku_key("straße-9") == sku_key("Strasse-9") == "strasse-9"
    assert sku_key("AB 12") == sku_key("ab12")
    assert sku_key("") == sku_key(None) == sku_key(float("nan")) == ""


def test_different_skus_stay_different() -> None:
    assert sku_key("AB-12") != sku_key("AB-13")
    assert sku_key("АВ-12") != sku_key("AB-12")  # Cyrillic А and В are other letters
    assert sku_key("ÄB-12") != sku_key("AB-12")


def test_fold_text_keeps_whitespace_but_drops_format_characters() -> None:
    assert fold_text("Rot\u200b / XL") == "rot / xl"
    assert fold_text("ＸＬ") == "xl"


def test_model_keys_from_sku_and_title_columns_fold_the_same_way() -> None:
    assert {normalize_model(s) for s in SPELLINGS} == {"ab12k"}
    assert normalize_model("STRAẞE-1234") == title_tokens("Schild STRAẞE-1234").codes[0]
    assert title_tokens("ＳＯＮＹ ＰＳ－ＬＸ３５０Ｈ").codes == ["pslx350h"]


def match_frame(titles: list[str], skus: list[str]) -> pd.DataFrame:
    data: dict[str, list] = {name: [""] * len(titles) for name in MATCH_COLUMNS}
    data.update(title=titles, sku=skus, price=[np.nan] * len(titles))
    return pd.DataFrame(data)


def test_a_full_width_sku_meets_its_ascii_spelling_in_blocking() -> None:
    kinds = ["Lamp", "Chair", "Table", "Shelf", "Rug", "Mirror", "Clock", "Vase"]
    titles = [f"{kinds[i % 8]} number {i} in oak" for i in range(200)]
    skus = [f"Q-{i:05d}" for i in range(200)]
    skus[41] = "ZX-90210Q"
    left = match_frame(titles, skus)
    right = match_frame(["Unrelated words entirely"], ["ＺＸ－９０２１０Ｑ"])
    assert [41, 0] in candidate_pairs(left, right).tolist()


def test_the_catalog_keys_variants_by_the_folded_sku_and_stores_the_sku_as_written(
    tmp_path,
) -> None:
    db = CatalogDB.from_url(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        rows = [
            {"handle": "poster", "title": "Poster", "price": 10.0, "sku": "AB-12K"},
            {"handle": "poster", "title": "Poster", "price": 11.0, "sku": "ＡＢ－１２Ｋ"},
            {"handle": "poster", "title": "Poster", "price": 12.0, "sku": "AB\u200b-12\u212a"},
            {"handle": "poster", "title": "Poster", "price": 13.0, "sku": "AB-13"},
        ]
        upsert_products(db, validated_frame(rows), "batch-1")
        with db.read() as conn:
            keys = conn.execute(
                sa.select(variants.c.variant_key).order_by(variants.c.position)
            ).scalars()
            assert list(keys) == ["ab-12k", "ab-12k#2", "ab-12k#3", "ab-13"]
        stored = read_catalog(db)["sku"].tolist()
        assert stored == ["AB-12K", "ＡＢ－１２Ｋ", "AB\u200b-12\u212a", "AB-13"]
    finally:
        CatalogDB.dispose_all()


def test_option_values_fold_too() -> None:
    assert variant_key("", ["ＲＥＤ", "", "XL\u200b "]) == variant_key("", ["red", "", "xl"])
    assert variant_key("", ["red", "", "xl"]) == "red / xl"
