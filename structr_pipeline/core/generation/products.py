"""Product records for copy generation, from a product frame at variant grain."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from structr_pipeline.core.values import as_text, map_distinct, positions_by_value

_FIRST_ROW_FIELDS = ("title", "vendor", "product_type", "category", "tags", "description_html")


def product_inputs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per product: its fields, option names with their values, lowest price, images.

    The keys are those ``prompts.product_facts`` reads, plus ``handle``. Products come in
    the order of their first row; a product's fields come from that row.
    """
    text = {name: map_distinct(frame[name].tolist(), as_text) for name in _FIRST_ROW_FIELDS}
    images = map_distinct(frame["images"].tolist(), as_text)
    option_names = [map_distinct(frame[f"option{n}_name"].tolist(), as_text) for n in (1, 2, 3)]
    option_values = [map_distinct(frame[f"option{n}_value"].tolist(), as_text) for n in (1, 2, 3)]
    prices = pd.to_numeric(frame["price"], errors="coerce").astype("float64").tolist()

    products: list[dict[str, Any]] = []
    for handle, positions in positions_by_value(frame["handle"].tolist()).items():
        first = positions[0]
        options = []
        for names, values_at in zip(option_names, option_values, strict=True):
            name = names[first]
            values = [v for v in dict.fromkeys(values_at[i] for i in positions) if v]
            if name and values and values != ["Default Title"]:
                options.append({"name": name, "values": values})
        known = [prices[i] for i in positions if not math.isnan(prices[i])]
        pictures = json.loads(images[first] or "[]")
        products.append(
            {
                "handle": handle,
                **{name: text[name][first] for name in _FIRST_ROW_FIELDS},
                "options": options,
                "price": float(min(known)) if known else None,
                "currency": "",
                "images": [{"src": i.get("src", ""), "alt": i.get("alt", "")} for i in pictures],
            }
        )
    return products
