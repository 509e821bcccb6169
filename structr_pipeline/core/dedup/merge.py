"""Deduplicate a batch, within itself and against the catalog, and merge what is the same.

Products (handles) are linked by exact keys first: a shared SKU (case and whitespace
ignored), a shared GTIN (as GTIN-14, so a UPC-12 and its EAN-13 form agree) and the
same normalized name and brand; then by the fuzzy matcher on what is left, whose
uncertain band is listed for a person rather than merged. Each group of linked products
becomes one: the catalog's product survives when there is one, else the batch's product
with the first handle in sort order (so row order never decides an identity). Within the
surviving product, variant rows that are the same variant are collapsed.
Every merge says what survived, what was merged, which rule decided it, and, per field,
which value survived and why; conflicting values are recorded, not silently dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from structr_pipeline.core.fields import (
    ATTRIBUTES,
    IMAGES,
    PRODUCT_FIELDS,
    PRODUCT_FRAME_COLUMNS,
    SOURCE_LINE,
    SOURCE_LINES,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.normalize import is_valid_gtin
from structr_pipeline.core.values import as_text

# Per product: is it new to the catalog, changed, or the same as the catalog has it.
CHANGE = "_change"
MERGE_COLUMNS: tuple[str, ...] = (
    "survivor_handle",
    "merged_handle",
    "merged_sku",
    "merged_lines",
    "rule",
    "score",
    "fields",
    "conflicts",
)
POSSIBLE_COLUMNS: tuple[str, ...] = ("handle", "other_handle", "other_in", "score", "rule")

_PUNCT = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")


def sku_key(sku: str) -> str:
    """A SKU compared without case or whitespace (``' ab-12 '`` and ``'AB-12'`` agree)."""
    return _SPACES.sub("", str(sku)).casefold()


def gtin14(barcode: str) -> str:
    """A valid GTIN-8/12/13/14 as GTIN-14 (zero-padded), or ``''`` for anything else."""
    digits = str(barcode).strip()
    return digits.zfill(14) if is_valid_gtin(digits) else ""


def normalize_name(text: str) -> str:
    """A name without accents, case or punctuation: ``'Crew-Neck Café!'`` → ``'crew neck cafe'``."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return _SPACES.sub(" ", _PUNCT.sub(" ", text.casefold())).strip()


def name_key(title: str, vendor: str) -> str:
    """Normalized brand and name (accents, case, punctuation ignored); empty if either is."""
    name, brand = normalize_name(title), normalize_name(vendor)
    return f"{brand}|{name}" if name and brand else ""


@dataclass(frozen=True)
class DedupResult:
    """The batch after merges, what was merged, and what a person should look at."""

    products: pd.DataFrame
    merges: pd.DataFrame
    possible: pd.DataFrame
    rows_merged: int


@dataclass
class _Links:
    """Union-find over product nodes (``("b", handle)`` batch, ``("c", handle)`` catalog)."""

    parent: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    reason: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)

    def find(self, node: tuple[str, str]) -> tuple[str, str]:
        """The representative of the node's group."""
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def link(self, a: tuple[str, str], b: tuple[str, str], rule: str, score: float) -> None:
        """Put two products in one group; the first rule that linked a node is its reason."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a
            self.reason.setdefault(a, (rule, score))
            self.reason.setdefault(b, (rule, score))


def _empty(value: Any) -> bool:
    return as_text(value).strip() == ""


@dataclass(frozen=True)
class _Product:
    """What the exact-key rules need to know about one product before linking it."""

    title: str
    options: dict[tuple[str, ...], str]


Rows = dict[str, list[dict[str, Any]]]


def _records_by_handle(frame: pd.DataFrame) -> Rows:
    """The frame's rows as dicts, grouped by handle in order of first appearance."""
    grouped: Rows = {}
    if len(frame):
        for record in frame.to_dict("records"):
            grouped.setdefault(record["handle"], []).append(record)
    return grouped


def _products(batch: Rows, catalog: Rows) -> dict[tuple[str, str], _Product]:
    """Title and variants (option values → SKU key) of every batch and catalog product."""
    found: dict[tuple[str, str], _Product] = {}
    for side, grouped in (("c", catalog), ("b", batch)):
        for handle, rows in grouped.items():
            options = {
                tuple(
                    as_text(r[f"option{n}_value"]).strip().casefold() for n in (1, 2, 3)
                ): sku_key(as_text(r["sku"]))
                for r in rows
            }
            found[(side, handle)] = _Product(as_text(rows[0]["title"]), options)
    return found


def _is_update_pair(links: _Links, a: tuple[str, str], b: tuple[str, str]) -> bool:
    """True when one is a catalog product and the other a batch product that already
    updates another catalog product under its own handle."""
    for mine, theirs in ((a, b), (b, a)):
        if mine[0] == "b" and theirs[0] == "c" and ("c", mine[1]) in links.parent:
            return theirs[1] != mine[1]
    return False


def _titles_agree(a: _Product, b: _Product) -> bool:
    """Two titles that name the same thing (word order and extra words aside)."""
    return fuzz.token_set_ratio(normalize_name(a.title), normalize_name(b.title)) >= TITLE_AGREEMENT


def _variants_collide(a: _Product, b: _Product) -> tuple[str, ...] | None:
    """Option values both products use for different variants (so they are not one product)."""
    for combo, sku in a.options.items():
        # The same options are the same variant only when the same SKU says so.
        if combo in b.options and (not sku or b.options[combo] != sku):
            return combo
    return None


def _link_by_key(
    links: _Links,
    batch: pd.DataFrame,
    catalog: pd.DataFrame,
    key: Callable[[pd.DataFrame], pd.Series],
    rule: str,
    products: dict[tuple[str, str], _Product],
    possible: list[dict[str, Any]],
    handles_given: bool,
) -> None:
    """Link products that share a non-empty key, when merging them is safe.

    Listed as possible duplicates for a person instead: two products the file itself
    keeps apart under handles of its own (``handles_given``); a shared SKU or GTIN on
    products whose titles disagree; a shared name and brand on products whose variants
    collide (different variants with the same option values). A batch product already in
    the catalog under its handle is an update: it is not linked to any other catalog
    product.
    """
    owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for side, frame in (("c", catalog), ("b", batch)):
        if len(frame) == 0:
            continue
        for handle, value in zip(frame["handle"], key(frame), strict=True):
            if value and (side, handle) not in owners[value]:
                owners[value].append((side, handle))
    for value, nodes in owners.items():
        if not any(side == "b" for side, _ in nodes):
            continue
        for other in nodes[1:]:
            first = nodes[0]
            if links.find(first) == links.find(other) or _is_update_pair(links, first, other):
                continue
            a, b = products[first], products[other]
            if handles_given and first[0] == other[0] == "b":
                why = f"{rule}, but the file keeps them apart under two handles"
            elif rule == "same name and brand":
                combo = _variants_collide(a, b)
                shown = " / ".join(v for v in combo or () if v)
                why = (
                    f"same name and brand, but both have a different variant {shown!r}"
                    if combo is not None
                    else ""
                )
            else:
                why = "" if _titles_agree(a, b) else f"{rule} ({value}), but the titles differ"
            if why:
                possible.append(
                    {
                        "handle": other[1] if other[0] == "b" else first[1],
                        "other_handle": first[1] if other[0] == "b" else other[1],
                        "other_in": "catalog" if "c" in (first[0], other[0]) else "batch",
                        "score": 1.0,
                        "rule": why,
                    }
                )
            else:
                links.link(first, other, rule, 1.0)


def _product_table(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    """One row per product for the matcher: title, vendor, description, price, sku, barcode."""
    if len(frame) == 0:
        return pd.DataFrame(columns=["node", "title", "vendor", "description", "price", "sku"])
    first = frame.groupby("handle", sort=False).first().reset_index()
    return pd.DataFrame(
        {
            "node": [(side, h) for h in first["handle"]],
            "title": first["title"].astype(str),
            "vendor": first["vendor"].astype(str),
            "description": first["description_html"].astype(str),
            "price": pd.to_numeric(first["price"], errors="coerce"),
            "sku": first["sku"].astype(str),
            "barcode": first["barcode"].astype(str),
        }
    )


Matcher = Callable[[pd.DataFrame, pd.DataFrame | None], pd.DataFrame]


# Titles (normalized) at least this alike name the same thing, for an exact-key merge.
TITLE_AGREEMENT = 60
# A fuzzy match merges only with identifying evidence beside a similar title and no
# differing brand: the same (or a contained) model number. Title-only matches go to review:
# a store's own products are often alike in name, and a merge is hard to undo.
SAFE_MODEL_SIGNAL = 0.9
SAFE_TITLE_SIGNAL = 0.5
# Possible duplicates listed per product: a person reviews the likeliest, not hundreds.
REVIEW_PER_PRODUCT = 3


def _signal(value: Any, default: float = 0.0) -> float:
    """A matcher signal as a number; NaN (a side lacks the field) becomes ``default``."""
    number = float(value) if value is not None else float("nan")
    return default if np.isnan(number) else number


def _fuzzy(
    links: _Links,
    batch: pd.DataFrame,
    catalog: pd.DataFrame,
    matcher: Matcher | None,
    handles_given: bool,
) -> list[dict[str, Any]]:
    """Fuzzy-match the products no exact key linked; merge the safe ones, list the unsure."""
    if matcher is None or len(batch) == 0:
        return []
    linked = {links.find(node) for node in links.parent if node[0] == "c"}
    remainder = batch[[links.find(("b", h)) not in linked for h in batch["handle"]]]
    if len(remainder) == 0:
        return []
    mine = _product_table(remainder, "b")
    possible: list[dict[str, Any]] = []
    runs = [(mine, None)]
    if len(catalog):
        taken = {links.find(("b", h)) for h in batch["handle"]}
        free = catalog[[links.find(("c", h)) not in taken for h in catalog["handle"]]]
        if len(free):
            runs.append((mine, _product_table(free, "c")))
    for left, right in runs:
        pairs = matcher(
            left.drop(columns="node"), None if right is None else right.drop(columns="node")
        )
        other = left if right is None else right
        for row in pairs.itertuples(index=False):
            a = left["node"].iat[int(row.left)]
            b = other["node"].iat[int(row.right)]
            if a == b or links.find(a) == links.find(b):
                continue
            own_handles = handles_given and right is None
            safe = (
                not own_handles
                and row.decision == "match"
                and _signal(row.model) >= SAFE_MODEL_SIGNAL
                and _signal(row.title) >= SAFE_TITLE_SIGNAL
                and _signal(row.brand, default=1.0) >= 0.5
            )
            if safe:
                links.link(a, b, f"fuzzy match ({row.rule})", float(row.score))
            elif own_handles and row.decision != "match":
                # Alike names among a file's own products are the norm; only the
                # confident matches are worth a person's look.
                continue
            else:
                possible.append(
                    {
                        "handle": a[1],
                        "other_handle": b[1],
                        "other_in": "catalog" if b[0] == "c" else "batch",
                        "score": round(float(row.score), 3),
                        "rule": str(row.rule),
                    }
                )
    return _top_per_product(possible)


def _top_per_product(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``REVIEW_PER_PRODUCT`` pairs per product, the highest scores first."""
    kept: list[dict[str, Any]] = []
    seen: dict[str, int] = defaultdict(int)
    for pair in sorted(pairs, key=lambda p: (-p["score"], p["handle"], p["other_handle"])):
        if seen[pair["handle"]] < REVIEW_PER_PRODUCT:
            seen[pair["handle"]] += 1
            kept.append(pair)
    return kept


def _resolve(
    name: str, survivor: dict[str, Any], merged: dict[str, Any], kept_because: str
) -> tuple[Any, str | None, bool]:
    """The value of one field after a merge, why it won, and whether the two conflicted."""
    mine, theirs = survivor.get(name), merged.get(name)
    same_key = {"sku": sku_key, "barcode": gtin14}.get(name)
    if _empty(theirs) or as_text(mine) == as_text(theirs):
        return mine, None, False
    if (
        same_key is not None
        and same_key(as_text(mine))
        and same_key(as_text(mine)) == same_key(as_text(theirs))
    ):
        return mine, None, False
    if _empty(mine):
        return theirs, "non-empty beats empty", False
    if name == "description_html":
        longer = len(as_text(theirs)) > len(as_text(mine))
        return (theirs if longer else mine), "the longer description wins", False
    return mine, kept_because, True


def _merge_into(
    survivor: dict[str, Any], merged: dict[str, Any], names: tuple[str, ...], kept_because: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """Merge ``merged`` into ``survivor`` field by field: the result, the reasons, the conflicts."""
    result = dict(survivor)
    decisions: dict[str, str] = {}
    conflicts: dict[str, list[str]] = {}
    for name in names:
        value, why, conflict = _resolve(name, survivor, merged, kept_because)
        result[name] = value
        if why:
            decisions[name] = why
        if conflict:
            conflicts[name] = [as_text(survivor.get(name)), as_text(merged.get(name))]
    return result, decisions, conflicts


def _options(row: dict[str, Any]) -> str:
    return " / ".join(as_text(row.get(f"option{n}_value")).strip() for n in (1, 2, 3)).strip(" /")


def _same_options(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True unless both rows name options and they differ (then they are two variants)."""
    mine, theirs = _options(a).casefold(), _options(b).casefold()
    return not mine or not theirs or mine == theirs


def _variant_keys(row: dict[str, Any]) -> list[str]:
    """The keys that identify a variant: its SKU and GTIN, else its option values."""
    keys = []
    sku = sku_key(as_text(row.get("sku")))
    if sku:
        keys.append("sku:" + sku)
    gtin = gtin14(as_text(row.get("barcode")))
    if gtin:
        keys.append("gtin:" + gtin)
    if not keys:
        options = [as_text(row.get(f"option{n}_value")).strip().casefold() for n in (1, 2, 3)]
        keys.append("options:" + "/".join(options))
    return keys


def deduplicate(
    batch: pd.DataFrame,
    catalog: pd.DataFrame,
    matcher: Matcher | None = None,
    handles_given: bool = True,
) -> DedupResult:
    """Merge the duplicates of a validated batch, within it and against ``catalog``.

    ``catalog`` is the catalog at variant grain (``store.catalog.read_catalog``);
    ``matcher`` (``dedup.matching.match`` with settings bound) finds fuzzy matches.
    ``handles_given`` says the file named its products' handles (a Shopify export) rather
    than having them derived from SKUs: two handles of one file are then never merged
    with each other, only listed for review.
    A batch product that duplicates a catalog product under another handle comes out as
    that catalog product, with the catalog's variants and the batch's merged. A batch
    product linked only to its own handle in the catalog is an ordinary update (its
    variants replace the catalog's). Variant rows of one product that are the same
    variant (same SKU, else GTIN, else options) are collapsed into the first.
    """
    batch = batch.reset_index(drop=True)
    catalog = catalog.reset_index(drop=True)
    links = _Links()
    for handle in batch["handle"]:
        links.find(("b", handle))
    catalog_handles = set(catalog["handle"]) if len(catalog) else set()
    for handle in batch["handle"].drop_duplicates():
        if handle in catalog_handles:
            links.link(("c", handle), ("b", handle), "same handle", 1.0)
    rows_by_handle = _records_by_handle(batch)
    catalog_rows = _records_by_handle(catalog)
    products = _products(rows_by_handle, catalog_rows)
    possible: list[dict[str, Any]] = []
    keys: list[tuple[str, Callable[[pd.DataFrame], pd.Series]]] = [
        ("same SKU", lambda f: f["sku"].map(sku_key)),
        ("same GTIN", lambda f: f["barcode"].map(gtin14)),
        (
            "same name and brand",
            lambda f: pd.Series(
                [name_key(t, v) for t, v in zip(f["title"], f["vendor"], strict=True)],
                index=f.index,
            ),
        ),
    ]
    for rule, key in keys:
        _link_by_key(links, batch, catalog, key, rule, products, possible, handles_given)
    possible += _fuzzy(links, batch, catalog, matcher, handles_given)

    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for node in list(links.parent):
        groups[links.find(node)].append(node)

    out_rows: list[dict[str, Any]] = []
    merges: list[dict[str, Any]] = []
    rows_merged = 0
    for members in groups.values():
        # Sorted by handle, not by row order: the same products shuffled merge the same way.
        batch_members = sorted(h for s, h in members if s == "b")
        if not batch_members:
            continue
        catalog_members = sorted(h for s, h in members if s == "c")
        in_catalog = [h for h in batch_members if h in catalog_members]
        survivor = (in_catalog or catalog_members or batch_members)[0]
        first = survivor if survivor in batch_members else batch_members[0]
        batch_members.remove(first)
        batch_members.insert(0, first)
        sources = [("b", h, rows_by_handle[h]) for h in batch_members]
        if survivor in catalog_members and (len(batch_members) > 1 or survivor != first):
            sources.insert(0, ("c", survivor, catalog_rows[survivor]))
        possible += [
            {
                "handle": survivor,
                "other_handle": other,
                "other_in": "catalog",
                "score": 1.0,
                "rule": f"both catalog products match batch product(s) {', '.join(batch_members)}",
            }
            for other in catalog_members
            if other != survivor
        ]
        product, variants, group_merges, notes, merged_count = _merge_group(
            survivor, sources, links
        )
        possible += notes
        rows_merged += merged_count
        merges.extend(group_merges)
        for variant in variants:
            variant.update({name: product[name] for name in PRODUCT_FIELDS})
            variant[IMAGES] = product[IMAGES]
            out_rows.append(variant)

    products = _typed_like(pd.DataFrame(out_rows, columns=list(PRODUCT_FRAME_COLUMNS)), batch)
    return DedupResult(
        products=products,
        merges=pd.DataFrame(merges, columns=list(MERGE_COLUMNS)),
        possible=pd.DataFrame(possible, columns=list(POSSIBLE_COLUMNS)),
        rows_merged=rows_merged,
    )


def _merge_record(survivor: str, handle: str, **values: Any) -> dict[str, Any]:
    record = {
        "survivor_handle": survivor,
        "merged_handle": handle,
        "merged_sku": "",
        "merged_lines": "[]",
        "rule": "",
        "score": 1.0,
        "fields": "{}",
        "conflicts": "{}",
    }
    record.update(values)
    return record


def _merge_group(
    survivor: str, sources: list[tuple[str, str, list[dict[str, Any]]]], links: _Links
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int]:
    """Merge the products of one group: product fields and images, then variants.

    Returns the merged product's fields, its variant rows, the merge records, notes for
    a person (the same SKU on variants with different options: both kept) and how many
    batch rows were merged into another row.
    """
    product = dict(sources[0][2][0])
    product["handle"] = survivor
    images = json.loads(as_text(product.get(IMAGES)) or "[]")
    merges: list[dict[str, Any]] = []
    product_fields = tuple(f for f in PRODUCT_FIELDS if f != "handle")
    for side, handle, rows in sources[1:]:
        other = rows[0]
        product, decisions, conflicts = _merge_into(
            product, other, product_fields, "the surviving product's value is kept"
        )
        known = {img["src"] for img in images}
        extra = json.loads(as_text(other.get(IMAGES)) or "[]")
        images += [img for img in extra if img["src"] not in known]
        if handle != survivor:
            rule, score = links.reason.get((side, handle), ("linked", 1.0))
            merges.append(
                _merge_record(
                    survivor,
                    handle,
                    rule=rule,
                    score=round(score, 3),
                    fields=json.dumps(decisions, ensure_ascii=False),
                    conflicts=json.dumps(conflicts, ensure_ascii=False),
                )
            )
    product[IMAGES] = json.dumps(
        [{**img, "position": n} for n, img in enumerate(images, start=1)], ensure_ascii=False
    )

    variants: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    origin: list[str] = []
    slot_of: dict[str, int] = {}
    rows_merged = 0
    for side, handle, rows in sources:
        for record in rows:
            row = dict(record)
            row["handle"] = survivor
            if side == "c":
                row.update({WARNINGS: "[]", SOURCE_LINE: 0, SOURCE_LINES: "[]"})
            keys = _variant_keys(row)
            found = [slot_of[k] for k in keys if k in slot_of]
            if found and not _same_options(variants[found[0]], row):
                shared = next(k for k in keys if k in slot_of)
                notes.append(
                    {
                        "handle": survivor,
                        "other_handle": handle,
                        "other_in": "catalog" if side == "c" else "batch",
                        "score": 1.0,
                        "rule": f"{shared} on two variants with different options "
                        f"({_options(variants[found[0]])} and {_options(row)}); both kept",
                    }
                )
                found = []
                keys = [f"line:{row[SOURCE_LINE]}:{handle}"]
            if not found:
                slot_of.update(dict.fromkeys(keys, len(variants)))
                variants.append(row)
                origin.append(side)
                continue
            key = next(k for k in keys if k in slot_of)
            slot = found[0]
            slot_of.update(dict.fromkeys(keys, slot))
            kept = variants[slot]
            if origin[slot] == "c":
                # The batch's row takes over the catalog's variant; the catalog fills its gaps.
                merged_row, decisions, conflicts = _merge_into(
                    row, kept, VARIANT_FIELDS, "the newer batch's value wins"
                )
                variants[slot], origin[slot] = merged_row, side
                merged_lines = "[]"
            else:
                merged_row, decisions, conflicts = _merge_into(
                    kept, row, VARIANT_FIELDS, "the first row's value is kept"
                )
                for name in (SOURCE_LINE, SOURCE_LINES, ATTRIBUTES, WARNINGS):
                    merged_row[name] = kept[name]
                variants[slot] = merged_row
                merged_lines = row[SOURCE_LINES]
                rows_merged += 1
            merges.append(
                _merge_record(
                    survivor,
                    handle,
                    merged_sku=as_text(row.get("sku")),
                    merged_lines=merged_lines,
                    rule="same variant (" + key.split(":", 1)[0] + ")",
                    fields=json.dumps(decisions, ensure_ascii=False),
                    conflicts=json.dumps(conflicts, ensure_ascii=False),
                )
            )
    return product, variants, merges, notes, rows_merged


def _typed_like(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Give the merged frame the validated frame's dtypes."""
    for name in PRODUCT_FRAME_COLUMNS:
        if name in like.columns and len(frame):
            frame[name] = frame[name].astype(like[name].dtype)
    return frame.reset_index(drop=True)
