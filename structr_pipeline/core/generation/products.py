"""Product records for copy generation, from a product frame at variant grain."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from structr_pipeline.core.values import as_text


def product_inputs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per product: its fields, option names with their values, lowest price, images.

    The keys are those ``prompts.product_facts`` reads, plus ``handle``.
    """
    products: list[dict[str, Any]] = []
    for handle, rows in frame.groupby("handle", sort=False):
        first = rows.iloc[0]
        options = []
        for n in (1, 2, 3):
            name = as_text(first[f"option{n}_name"])
            values = [v for v in dict.fromkeys(rows[f"option{n}_value"].map(as_text)) if v]
            if name and values and values != ["Default Title"]:
                options.append({"name": name, "values": values})
        prices = pd.to_numeric(rows["price"], errors="coerce").dropna()
        images = json.loads(as_text(first["images"]) or "[]")
        products.append(
            {
                "handle": handle,
                "title": as_text(first["title"]),
                "vendor": as_text(first["vendor"]),
                "product_type": as_text(first["product_type"]),
                "category": as_text(first["category"]),
                "tags": as_text(first["tags"]),
                "description_html": as_text(first["description_html"]),
                "options": options,
                "price": float(prices.min()) if len(prices) else None,
                "currency": "",
                "images": [{"src": i.get("src", ""), "alt": i.get("alt", "")} for i in images],
            }
        )
    return products
