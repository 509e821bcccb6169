"""One group of linked products merged into one product, field by field and variant by variant.

``merge_group`` takes the products ``merge.deduplicate`` found to be one, the survivor
first, and gives a ``MergedGroup``: the product's fields and images, its variant rows,
one merge record per merged product and per collapsed variant row, and how many batch
rows were folded into another. Within the product, rows are the same variant when a
``VariantKey`` of theirs agrees: the SKU, else the GTIN, with the option values first,
then alone; the option values for a row without either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from structr_pipeline.core import fields
from structr_pipeline.core.dedup.links import CATALOG, Links, Node
from structr_pipeline.core.dedup.review import evidence_sku
from structr_pipeline.core.normalize import gtin14
from structr_pipeline.core.values import as_text, sku_key

# Kinds of ``VariantKey``.
SKU = "sku"
GTIN = "gtin"
OPTIONS = "options"
# The option values of a row that has no SKU and no GTIN.
BARE = "bare"

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class VariantKey:
    """One key a variant row is known by within a merged product.

    ``kind`` is ``SKU`` or ``GTIN`` (``options`` set: that id together with the row's
    option values), ``OPTIONS`` (the option values of any row) or ``BARE`` (the option
    values of a row without SKU or GTIN).
    """

    kind: str
    value: str
    options: str | None = None

    @property
    def rule(self) -> str:
        """What the key is, as a merge record's rule names it."""
        return OPTIONS if self.kind == BARE else self.kind


@dataclass(frozen=True)
class MergedGroup:
    """A merged product: its fields (images included), its variant rows, the merge
    records (``merge.MERGE_COLUMNS``) and how many batch rows went into another row."""

    product: dict[str, Any]
    variants: Rows
    merges: Rows
    rows_merged: int


def _empty(value: Any) -> bool:
    return as_text(value).strip() == ""


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


def _variant_ids(row: dict[str, Any]) -> tuple[list[VariantKey], str]:
    """The keys that identify a variant (its SKU and GTIN), and its option values."""
    keys = []
    sku = evidence_sku(as_text(row.get("sku")))
    if sku:
        keys.append(VariantKey(SKU, sku))
    gtin = gtin14(as_text(row.get("barcode")))
    if gtin:
        keys.append(VariantKey(GTIN, gtin))
    options = [as_text(row.get(f"option{n}_value")).strip().casefold() for n in (1, 2, 3)]
    return keys, "/".join(options)


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


def _merge_products(
    survivor: str, sources: list[tuple[Node, Rows]], links: Links
) -> tuple[dict[str, Any], Rows]:
    """The product fields and images of the group, and a merge record per merged product."""
    product = dict(sources[0][1][0])
    product["handle"] = survivor
    images = json.loads(as_text(product.get(fields.IMAGES)) or "[]")
    merges: Rows = []
    product_fields = tuple(f for f in fields.PRODUCT_FIELDS if f != "handle")
    for node, rows in sources[1:]:
        other = rows[0]
        product, decisions, conflicts = _merge_into(
            product, other, product_fields, "the surviving product's value is kept"
        )
        known = {img["src"] for img in images}
        extra = json.loads(as_text(other.get(fields.IMAGES)) or "[]")
        images += [img for img in extra if img["src"] not in known]
        if node.handle != survivor:
            rule, score = links.reason.get(node, ("linked", 1.0))
            merges.append(
                _merge_record(
                    survivor,
                    node.handle,
                    rule=rule,
                    score=round(score, 3),
                    fields=json.dumps(decisions, ensure_ascii=False),
                    conflicts=json.dumps(conflicts, ensure_ascii=False),
                )
            )
    product[fields.IMAGES] = json.dumps(
        [{**img, "position": n} for n, img in enumerate(images, start=1)], ensure_ascii=False
    )
    return product, merges


def _merge_variants(
    survivor: str, sources: list[tuple[Node, Rows]], repeats: bool
) -> tuple[Rows, Rows, int]:
    """The group's variant rows with the same variants collapsed, a merge record per
    collapsed row, and how many batch rows were merged into another."""
    variants: Rows = []
    origin: list[str] = []
    owner: list[Node] = []
    slot_of: dict[VariantKey, int] = {}
    merges: Rows = []
    rows_merged = 0
    for node, rows in sources:
        for record in rows:
            row = dict(record)
            row["handle"] = survivor
            if node.side == CATALOG:
                row.update(
                    {fields.WARNINGS: "[]", fields.SOURCE_LINE: 0, fields.SOURCE_LINES: "[]"}
                )
            # The same SKU, else the same GTIN, else (a row without either on one side)
            # the same option values make the same variant. A SKU or GTIN with the option
            # values comes first: it tells apart variants that share a SKU.
            ids, options = _variant_ids(row)
            paired = [VariantKey(k.kind, k.value, options) for k in ids]
            by_options = VariantKey(OPTIONS, options)
            keys = [*paired, *ids, VariantKey(BARE, options) if ids else by_options]
            found = [slot_of[k] for k in keys if k in slot_of]
            if found and not _same_options(variants[found[0]], row):
                found = []
                # The shared SKU or GTIN names another variant: this one is known by it
                # only together with its option values.
                keys = [*paired, by_options]
            elif not found:
                keys = [*paired, *ids, by_options]
                keys += [] if ids else [VariantKey(BARE, options)]
            if not found:
                # Another product of the group with these option values has this variant
                # under another SKU: one product cannot sell one combination twice.
                same = slot_of.get(by_options)
                if same is not None and (repeats or owner[same] != node):
                    found = [same]
            if not found:
                slot_of.update(dict.fromkeys(keys, len(variants)))
                variants.append(row)
                origin.append(node.side)
                owner.append(node)
                continue
            key = next(k for k in keys if k in slot_of)
            slot = found[0]
            slot_of.update({k: slot for k in keys if k.kind != BARE})
            kept = variants[slot]
            if origin[slot] == CATALOG:
                # The batch's row takes over the catalog's variant; the catalog fills its gaps.
                merged_row, decisions, conflicts = _merge_into(
                    row, kept, fields.VARIANT_FIELDS, "the newer batch's value wins"
                )
                variants[slot], origin[slot] = merged_row, node.side
                merged_lines = "[]"
            else:
                merged_row, decisions, conflicts = _merge_into(
                    kept, row, fields.VARIANT_FIELDS, "the first row's value is kept"
                )
                for name in (
                    fields.SOURCE_LINE,
                    fields.SOURCE_LINES,
                    fields.ATTRIBUTES,
                    fields.WARNINGS,
                ):
                    merged_row[name] = kept[name]
                variants[slot] = merged_row
                merged_lines = row[fields.SOURCE_LINES]
                rows_merged += 1
            merges.append(
                _merge_record(
                    survivor,
                    node.handle,
                    merged_sku=as_text(row.get("sku")),
                    merged_lines=merged_lines,
                    rule=f"same variant ({key.rule})",
                    fields=json.dumps(decisions, ensure_ascii=False),
                    conflicts=json.dumps(conflicts, ensure_ascii=False),
                )
            )
    return variants, merges, rows_merged


def merge_group(
    survivor: str, sources: list[tuple[Node, Rows]], links: Links, repeats: bool = False
) -> MergedGroup:
    """Merge the products of one group (each node with its rows, the survivor's first):
    product fields and images, then variants.

    Two variants of one product that share a SKU or GTIN under different options are
    both kept (variants of one product are never a duplicate pair; the audit reports the
    repeated SKU). Variants of two merged products with the same option values are one
    variant, whatever their SKUs; with ``repeats`` (``merge_listed_duplicates``), so are
    those of one product.
    """
    product, product_merges = _merge_products(survivor, sources, links)
    variants, variant_merges, rows_merged = _merge_variants(survivor, sources, repeats)
    return MergedGroup(product, variants, product_merges + variant_merges, rows_merged)
