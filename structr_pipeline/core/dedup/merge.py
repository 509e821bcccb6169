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
Two products the catalog already holds apart are never joined, so importing a file again
merges nothing new. Only the products a merge involves are turned into records; the rest
pass through as frame rows, which keeps a batch of a million rows cheap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from structr_pipeline.core.dedup.keys import name_key, normalize_name
from structr_pipeline.core.dedup.links import BATCH, CATALOG, Links, Node
from structr_pipeline.core.dedup.matching import MatchSettings, match, merge_band
from structr_pipeline.core.dedup.merge_group import merge_group
from structr_pipeline.core.dedup.review import (
    FACT_COLUMNS,
    LISTED,
    MAX_KEY_HOLDERS,
    QUEUE_COLUMNS,
    TITLE_AGREEMENT,
    VARIANT_COLUMNS,
    Candidate,
    Review,
    VariantWords,
    boilerplate,
    build_queue,
    evidence_sku,
    renumber,
)
from structr_pipeline.core.fields import IMAGES, PRODUCT_FIELDS, PRODUCT_FRAME_COLUMNS
from structr_pipeline.core.normalize import gtin14
from structr_pipeline.core.values import as_text, sku_key

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
POSSIBLE_COLUMNS: tuple[str, ...] = QUEUE_COLUMNS
LISTED_RULE = "listed more than once in the file (merged by merge_listed_duplicates)"


@dataclass(frozen=True)
class DedupResult:
    """The batch after merges, what was merged, and what a person should look at."""

    products: pd.DataFrame
    merges: pd.DataFrame
    possible: pd.DataFrame
    rows_merged: int
    variants: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(VARIANT_COLUMNS))
    )


@dataclass(frozen=True)
class _Product:
    """What the exact-key rules need to know about one product before linking it."""

    title: str
    options: dict[tuple[str, ...], str]


class _RowIndex:
    """Where each product's rows are in a frame, so one product's rows are found quickly.

    Products are numbered in order of first appearance; only the products a merge needs
    are ever turned into records.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        handles = frame["handle"] if "handle" in frame.columns else pd.Series([], dtype=object)
        codes, uniques = pd.factorize(handles)
        self.handles = pd.Index(uniques, dtype=object)
        self.order = np.argsort(codes, kind="stable")
        self.starts = np.searchsorted(codes[self.order], np.arange(len(uniques) + 1))
        self._records: dict[str, list[dict[str, Any]]] = {}

    def __contains__(self, handle: str) -> bool:
        return handle in self.handles

    def positions(self, handle: str) -> np.ndarray:
        """Row positions of one product, in frame order."""
        at = self.handles.get_loc(handle)
        return self.order[self.starts[at] : self.starts[at + 1]]

    def first_positions(self) -> np.ndarray:
        """The position of each product's first row, products in order of appearance."""
        return self.order[self.starts[:-1]]

    def records(self, handle: str) -> list[dict[str, Any]]:
        """One product's rows as dicts (kept, since a merge asks for them again)."""
        if handle not in self._records:
            self._records[handle] = self.frame.iloc[self.positions(handle)].to_dict("records")
        return self._records[handle]


def _fact_rows(rows: dict[str, _RowIndex], nodes: list[Node]) -> dict[Node, list[dict[str, Any]]]:
    """The rows (``review.FACT_COLUMNS``) of many products, read in one go per side."""
    out: dict[Node, list[dict[str, Any]]] = {}
    for side in (BATCH, CATALOG):
        handles = [node.handle for node in nodes if node.side == side]
        if not handles:
            continue
        index = rows[side]
        parts = [index.positions(h) for h in handles]
        columns = [c for c in FACT_COLUMNS if c in index.frame.columns]
        picked = index.frame.iloc[np.concatenate(parts)][columns]
        values = list(zip(*(picked[c].tolist() for c in columns), strict=True))
        at = 0
        for handle, part in zip(handles, parts, strict=True):
            out[Node(side, handle)] = [
                dict(zip(columns, v, strict=True)) for v in values[at : at + len(part)]
            ]
            at += len(part)
    return out


def _product(rows: dict[str, _RowIndex], node: Node) -> _Product:
    """Title and variants (option values → SKU key) of one batch or catalog product."""
    records = rows[node.side].records(node.handle)
    options = {
        tuple(as_text(r[f"option{n}_value"]).strip().casefold() for n in (1, 2, 3)): sku_key(
            as_text(r["sku"])
        )
        for r in records
    }
    return _Product(as_text(records[0]["title"]), options)


def _current(rows: dict[str, _RowIndex], node: Node) -> _Product:
    """A product as this import sees it: a catalog product the batch updates under its
    handle is the batch's version (the catalog's may hold variants merged into it)."""
    if node.side == CATALOG and node.handle in rows[BATCH]:
        node = Node(BATCH, node.handle)
    return _product(rows, node)


def _is_update_pair(links: Links, a: Node, b: Node) -> bool:
    """True when one is a catalog product and the other a batch product that already
    updates another catalog product under its own handle."""
    for mine, theirs in ((a, b), (b, a)):
        if (
            mine.side == BATCH
            and theirs.side == CATALOG
            and Node(CATALOG, mine.handle) in links.parent
        ):
            return theirs.handle != mine.handle
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


def _shared_keys(
    name: str, hashes: dict[str, np.ndarray], frames: dict[str, pd.DataFrame]
) -> list[tuple[str, list[Node]]]:
    """Each non-empty key value held by two or more products, one of them in the batch.

    ``hashes`` are ``_row_keys`` hashes per side; candidates found by hash are confirmed
    on the key text. A value held only by one handle on both sides (an update) is left
    out. Values come in order of first appearance (catalog rows first), and so do the
    products holding each value.
    """
    parts = [
        pd.DataFrame(
            {
                "side": np.full(len(frames[side]), side == BATCH),
                "row": np.arange(len(frames[side])),
                "handle": frames[side]["handle"].to_numpy(dtype=object),
                "value": hashes[side][name],
            }
        )
        for side in (CATALOG, BATCH)
        if len(frames[side])
    ]
    if not parts:
        return []
    table = pd.concat(parts, ignore_index=True)
    table = table[table["value"] != 0].drop_duplicates(["value", "side", "handle"])
    codes, values = pd.factorize(table["value"])
    handle_codes = pd.factorize(table["handle"])[0]
    n = len(values)
    holders = np.bincount(codes, minlength=n)
    in_batch = np.bincount(codes, weights=table["side"].to_numpy(), minlength=n)
    lowest = np.full(n, np.iinfo(np.int64).max)
    highest = np.full(n, -1)
    np.minimum.at(lowest, codes, handle_codes)
    np.maximum.at(highest, codes, handle_codes)
    keep = (holders >= 2) & (in_batch >= 1) & (lowest != highest)
    if name in ("sku", "gtin"):
        # A SKU or barcode on many products is a placeholder (or a store-internal code),
        # not evidence that they are one product.
        distinct = ~pd.DataFrame({"c": codes, "h": handle_codes}).duplicated().to_numpy()
        keep &= np.bincount(codes[distinct], minlength=n) <= MAX_KEY_HOLDERS
    table = table[keep[codes]]
    codes = codes[keep[codes]]
    if not len(table):
        return []
    texts = np.empty(len(table), dtype=object)
    for side, flag in ((CATALOG, False), (BATCH, True)):
        mine = table["side"].to_numpy() == flag
        if mine.any():
            rows = frames[side].iloc[table["row"].to_numpy()[mine]]
            texts[mine] = _key_text(rows, name).to_numpy(dtype=object)
    order = np.argsort(codes, kind="stable")
    found: dict[str, list[Node]] = {}
    sides = np.where(table["side"].to_numpy(), BATCH, CATALOG)
    for at in order.tolist():
        found.setdefault(texts[at], []).append(Node(sides[at], table["handle"].iat[at]))
    # Dicts keep insertion order: values in order of first appearance.
    return [
        (text, nodes)
        for text, nodes in found.items()
        if len(nodes) >= 2 and any(node.side == BATCH for node in nodes)
    ]


def _link_by_key(
    links: Links,
    shared: list[tuple[str, list[Node]]],
    rule: str,
    rows: dict[str, _RowIndex],
    candidates: list[Candidate],
    handles_given: bool,
) -> None:
    """Link products that share a non-empty key, when merging them is safe.

    Left to the review (``review.Review``) instead: two products the file itself
    keeps apart under handles of its own (``handles_given``); a shared SKU or GTIN on
    products whose titles disagree; a shared name and brand on products whose variants
    collide (different variants with the same option values); two products that are
    each already a product of the catalog. A batch product already in the catalog under
    its handle is an update: it is not linked to any other catalog product.
    """
    for value, nodes in shared:
        # A batch product first: two catalog products are never compared (the catalog
        # has decided), and two batch products that each update a catalog product of
        # their own are compared as the file's two listings.
        nodes = sorted(nodes, key=lambda node: node.side != BATCH)
        for other in nodes[1:]:
            first = nodes[0]
            if links.peek(first) == links.peek(other) or _is_update_pair(links, first, other):
                continue
            if handles_given and first.side == other.side == BATCH:
                why = "the file keeps them apart under two handles"
            elif not links.can_link(first, other):
                why = f"{rule} ({value}), but each is a catalog product of its own"
            elif rule == "same name and brand":
                combo = _variants_collide(_current(rows, first), _current(rows, other))
                shown = " / ".join(v for v in combo or () if v)
                why = (
                    f"same name and brand, but both have a different variant {shown!r}"
                    if combo is not None
                    else ""
                )
            elif _titles_agree(_product(rows, first), _product(rows, other)):
                why = ""
            else:
                why = f"{rule} ({value}), but the titles differ"
            if why:
                mine, theirs = (other, first) if other.side == BATCH else (first, other)
                candidates.append(Candidate(mine, theirs, 1.0, rule, note=why))
            else:
                links.link(first, other, rule, 1.0)


def _product_table(frame: pd.DataFrame, handles: pd.Index, side: str) -> pd.DataFrame:
    """One row per product of ``handles`` for the matcher: title, vendor, description,
    price, sku, barcode (each the first non-empty of the product's rows)."""
    columns = ["handle", "title", "vendor", "description_html", "price", "sku", "barcode"]
    if len(handles) == 0:
        return pd.DataFrame(columns=["node", "title", "vendor", "description", "price", "sku"])
    picked = frame.loc[frame["handle"].isin(handles), columns]
    first = picked.groupby("handle", sort=False).first().reset_index()
    return pd.DataFrame(
        {
            "node": [Node(side, h) for h in first["handle"]],
            "title": first["title"].astype(str),
            "vendor": first["vendor"].astype(str),
            "description": first["description_html"].astype(str),
            "price": pd.to_numeric(first["price"], errors="coerce"),
            "sku": first["sku"].astype(str),
            "barcode": first["barcode"].astype(str),
        }
    )


Matcher = Callable[[pd.DataFrame, pd.DataFrame | None], pd.DataFrame]


# A pair whose model numbers (on both) are not at least of one series is not listed.
REVIEW_MODEL_SIGNAL = 0.8
# The matcher signals a fuzzy candidate carries to the review.
SIGNALS = ("title", "model", "brand", "price")


def default_matcher(workers: int = 1) -> Matcher:
    """The fuzzy matcher deduplication runs: ``match``, without the pairs it never uses."""
    settings = MatchSettings(min_model_signal=REVIEW_MODEL_SIGNAL, workers=workers)
    return partial(match, settings=settings)


def _signal_column(pairs: pd.DataFrame, name: str, default: float) -> list[float]:
    """A matcher signal column as numbers; NaN (a side lacks the field) becomes ``default``."""
    return pd.to_numeric(pairs[name], errors="coerce").fillna(default).astype(float).tolist()


def _fuzzy(
    links: Links,
    rows: dict[str, _RowIndex],
    matcher: Matcher | None,
    handles_given: bool,
) -> list[Candidate]:
    """Fuzzy-match what the exact keys left: the batch's products with each other, and the
    products not linked to the catalog with the catalog's free products (those no batch
    product is linked to). Merge the safe matches; return the unsure ones for review.

    The batch is matched with itself whole, updates of catalog products included, so a
    file imported again merges within itself as it did the first time.
    """
    batch, catalog = rows[BATCH], rows[CATALOG]
    if matcher is None or len(batch.handles) == 0:
        return []
    mine = _product_table(batch.frame, batch.handles, BATCH)
    found: list[Candidate] = []
    runs = [(mine, None)]
    if len(catalog.handles):
        linked = {links.find(node) for node in list(links.parent) if node.side == CATALOG}
        roots = [links.peek(Node(BATCH, h)) for h in batch.handles]
        remainder = [root not in linked for root in roots]
        taken = set(roots)
        free = catalog.handles[[links.peek(Node(CATALOG, h)) not in taken for h in catalog.handles]]
        if any(remainder) and len(free):
            left = mine[remainder].reset_index(drop=True)
            runs.append((left, _product_table(catalog.frame, free, CATALOG)))
    for left, right in runs:
        pairs = matcher(
            left.drop(columns="node"), None if right is None else right.drop(columns="node")
        )
        other = left if right is None else right
        own_handles = handles_given and right is None
        left_nodes = left["node"].tolist()
        other_nodes = other["node"].tolist()
        lefts = pairs["left"].astype(int).tolist()
        rights = pairs["right"].astype(int).tolist()
        scores = pairs["score"].astype(float).tolist()
        rules = pairs["rule"].tolist()
        in_band = merge_band(pairs).tolist()
        models = _signal_column(pairs, "model", 1.0)
        signal_rows = [_signal_column(pairs, name, float("nan")) for name in SIGNALS]
        for i, (li, ri, band) in enumerate(zip(lefts, rights, in_band, strict=True)):
            a, b = left_nodes[li], other_nodes[ri]
            if a == b or links.peek(a) == links.peek(b):
                continue
            if band and not own_handles and links.can_link(a, b):
                links.link(a, b, f"fuzzy match ({rules[i]})", scores[i])
            elif models[i] < REVIEW_MODEL_SIGNAL:
                # Both have model numbers and they do not agree: a sibling product
                # (another size, colour or year), not one for a person to review.
                continue
            else:
                signals = {
                    name: column[i] for name, column in zip(SIGNALS, signal_rows, strict=True)
                }
                found.append(Candidate(a, b, scores[i], "fuzzy", signals=signals))
    return found


def retired_handles(merges: pd.DataFrame) -> list[str]:
    """The handles merged into another product (``merges``): a catalog product under one
    of them is no longer a product of its own, and is archived when the batch publishes.

    Only the user's ``merge_listed_duplicates`` joins two products the catalog holds;
    other merges fold batch products that the catalog does not hold yet.
    """
    if merges.empty:
        return []
    moved = merges["merged_handle"] != merges["survivor_handle"]
    return sorted(set(merges.loc[moved, "merged_handle"].astype(str)))


def _variant_collisions(
    frame: pd.DataFrame, hashes: dict[str, np.ndarray], repeats: bool = False
) -> set[str]:
    """Handles of products with two rows that may be the same variant (``merge_group.VariantKey``);
    with ``repeats``, also those with two rows of the same option values under two SKUs.

    Found on hashes, so a rare hash collision only sends a product through the exact
    merge, which compares the keys themselves.
    """
    handles = pd.factorize(frame["handle"])[0]
    sku, gtin, options = hashes["sku"], hashes["gtin"], hashes["options"]
    suspect = np.zeros(len(frame), dtype=bool)
    for key in (sku, gtin):
        usable = key != 0
        pairs = pd.DataFrame({"handle": handles[usable], "key": key[usable]})
        suspect[usable] |= pairs.duplicated(keep=False).to_numpy()
    # A row without SKU and GTIN is the same variant as any row with its option values.
    same_options = pd.DataFrame({"handle": handles, "key": options}).duplicated(keep=False)
    suspect |= same_options.to_numpy() & (repeats | ((sku == 0) & (gtin == 0)))
    return set(frame["handle"].to_numpy()[suspect].tolist())


# Rows whose keys are computed at once: bounds the memory of the key texts.
_KEY_ROWS = 100_000


def _key_text(frame: pd.DataFrame, name: str) -> pd.Series:
    """One key of each row as text ("" when the row has none)."""
    if name == "sku":
        return frame["sku"].map(evidence_sku)
    if name == "gtin":
        return frame["barcode"].map(gtin14)
    if name == "name":
        pairs = list(zip(frame["title"].tolist(), frame["vendor"].tolist(), strict=True))
        names = {pair: name_key(*pair) for pair in set(pairs)}
        return pd.Series([names[pair] for pair in pairs], index=frame.index, dtype=object)
    values = [frame[f"option{n}_value"].astype(str).str.strip().str.casefold() for n in (1, 2, 3)]
    return values[0] + "/" + values[1] + "/" + values[2]


def _row_keys(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per row, a 64-bit hash of each key in ``names`` (0 for an empty key).

    Keys are SKU, GTIN-14, name and brand, and option values; they are made
    ``_KEY_ROWS`` rows at a time and only their hashes kept, 8 bytes per row and key.
    """
    out = {name: np.zeros(len(frame), dtype=np.uint64) for name in names}
    for start in range(0, len(frame), _KEY_ROWS):
        chunk = frame.iloc[start : start + _KEY_ROWS]
        for name in names:
            text = _key_text(chunk, name).to_numpy(dtype=object)
            hashed = np.maximum(pd.util.hash_array(text), 1)
            out[name][start : start + len(chunk)] = np.where(text == "", 0, hashed)
    return out


def deduplicate(
    batch: pd.DataFrame,
    catalog: pd.DataFrame,
    matcher: Matcher | None = None,
    handles_given: bool = True,
    merge_listed: bool = False,
) -> DedupResult:
    """Merge the duplicates of a validated batch, within it and against ``catalog``.

    ``catalog`` is the catalog at variant grain (``store.catalog.read_catalog``);
    ``matcher`` (``dedup.matching.match`` with settings bound) finds fuzzy matches.
    ``handles_given`` says the file named its products' handles (a Shopify export) rather
    than having them derived from SKUs: two handles of one file are then never merged
    with each other, only listed for review (``review.build_queue``), unless
    ``merge_listed`` asks to merge the products the file lists more than once.
    A batch product that duplicates a catalog product under another handle comes out as
    that catalog product, with the catalog's variants and the batch's merged. A batch
    product linked only to its own handle in the catalog is an ordinary update (its
    variants replace the catalog's). Variant rows of one product that are the same
    variant (same SKU, else GTIN, else options) are collapsed into the first.
    Products nothing links and whose variants are all distinct pass through as they are,
    without being turned into records: that keeps large batches cheap.
    """
    batch, catalog = _positional(batch), _positional(catalog)
    rows = {BATCH: _RowIndex(batch), CATALOG: _RowIndex(catalog)}
    links = Links()
    for handle in rows[BATCH].handles:
        if handle in rows[CATALOG]:
            links.link(Node(CATALOG, handle), Node(BATCH, handle), "same handle", 1.0)
    hashes = {
        BATCH: _row_keys(batch, ("sku", "gtin", "name", "options")),
        CATALOG: _row_keys(catalog, ("sku", "gtin", "name")),
    }
    frames = {CATALOG: catalog, BATCH: batch}
    candidates: list[Candidate] = []
    for rule, name in (("same SKU", "sku"), ("same GTIN", "gtin"), ("same name and brand", "name")):
        shared = _shared_keys(name, hashes, frames)
        _link_by_key(links, shared, rule, rows, candidates, handles_given)
    candidates += _fuzzy(links, rows, matcher, handles_given)
    queue = build_queue(
        Review(
            partial(_fact_rows, rows),
            VariantWords.of((batch, catalog)),
            boilerplate(batch["description_html"].iloc[rows[BATCH].first_positions()]),
            handles_given,
        ),
        candidates,
    )
    possible = queue.possible
    if merge_listed and queue.listed_groups:
        # Asked for by the user, so even listings the catalog already holds as two
        # products are merged: the one not kept is retired (``retired_handles``).
        for members in queue.listed_groups:
            for other in members[1:]:
                links.link(Node(BATCH, members[0]), Node(BATCH, other), LISTED_RULE, 1.0)
        possible = renumber(possible[possible["kind"] != LISTED])
    collisions = _variant_collisions(batch, hashes[BATCH], merge_listed) if len(batch) else set()

    groups: dict[Node, list[Node]] = defaultdict(list)
    for node in list(links.parent):
        groups[links.find(node)].append(node)
    first_row = pd.Series(rows[BATCH].first_positions(), index=rows[BATCH].handles)

    merged_rows: list[dict[str, Any]] = []
    merged_order: list[tuple[int, int]] = []
    taken: set[str] = set()  # batch products that went through a merge
    merges: list[dict[str, Any]] = []
    rows_merged = 0
    plans = []
    for members in groups.values():
        # Sorted by handle, not by row order: the same products shuffled merge the same way.
        batch_members = sorted(node.handle for node in members if node.side == BATCH)
        if not batch_members:
            continue
        catalog_members = sorted(node.handle for node in members if node.side == CATALOG)
        in_catalog = [h for h in batch_members if h in catalog_members]
        survivor = (in_catalog or catalog_members or batch_members)[0]
        first = survivor if survivor in batch_members else batch_members[0]
        batch_members.remove(first)
        batch_members.insert(0, first)
        sources = [Node(BATCH, h) for h in batch_members]
        if survivor in catalog_members and (len(batch_members) > 1 or survivor != first):
            sources.insert(0, Node(CATALOG, survivor))
        if len(sources) == 1 and first not in collisions:
            continue
        position = min(int(first_row[h]) for h in batch_members)
        plans.append((position, survivor, sources))
    for handle in collisions:
        if Node(BATCH, handle) not in links.parent:
            plans.append((int(first_row[handle]), handle, [Node(BATCH, handle)]))
    for position, survivor, sources in sorted(plans):
        taken.update(node.handle for node in sources if node.side == BATCH)
        group = merge_group(
            survivor,
            [(node, rows[node.side].records(node.handle)) for node in sources],
            links,
            repeats=merge_listed,
        )
        rows_merged += group.rows_merged
        merges.extend(group.merges)
        for n, variant in enumerate(group.variants):
            variant.update({name: group.product[name] for name in PRODUCT_FIELDS})
            variant[IMAGES] = group.product[IMAGES]
            merged_rows.append(variant)
            merged_order.append((position, n))

    products = _assemble(batch, taken, first_row, merged_rows, merged_order)
    return DedupResult(
        products=products,
        merges=pd.DataFrame(merges, columns=list(MERGE_COLUMNS)),
        possible=possible,
        variants=queue.variants,
        rows_merged=rows_merged,
    )


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame indexed 0..n-1, without copying its columns."""
    frame = frame.copy(deep=False)
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _assemble(
    batch: pd.DataFrame,
    taken: set[str],
    first_row: pd.Series,
    merged_rows: list[dict[str, Any]],
    merged_order: list[tuple[int, int]],
) -> pd.DataFrame:
    """The products frame: the rows of products not ``taken`` by a merge and the merged
    rows, each product's rows together, products in order of their first row in the batch.

    The frame is taken from the batch in one go and the merged rows written into their
    places, so that building it costs one copy of the batch's columns.
    """
    columns = list(PRODUCT_FRAME_COLUMNS)
    kept = np.flatnonzero(~batch["handle"].isin(taken).to_numpy())
    group = first_row.reindex(batch["handle"].to_numpy()[kept]).to_numpy(dtype=np.int64)
    merged_group = np.array([g for g, _ in merged_order], dtype=np.int64)
    merged_within = np.array([n for _, n in merged_order], dtype=np.int64)
    order = np.lexsort(
        (np.concatenate([kept, merged_within]), np.concatenate([group, merged_group]))
    )
    # Positions in the batch; -1 for a merged row, n + i for the merged frame's row i.
    source = np.concatenate([kept, np.full(len(merged_rows), -1, dtype=np.int64)])[order]
    products = batch.iloc[np.maximum(source, 0)]
    if list(products.columns) != columns:
        products = products[columns]
    products.index = pd.RangeIndex(len(products))
    if merged_rows:
        merged = _typed_like(pd.DataFrame(merged_rows, columns=columns), batch)
        slots = np.flatnonzero(source < 0)
        merged = merged.iloc[order[slots] - len(kept)]
        for at, name in enumerate(columns):
            products.iloc[slots, at] = merged[name].to_numpy()
    return products


def _typed_like(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Give the merged frame the validated frame's dtypes."""
    for name in PRODUCT_FRAME_COLUMNS:
        if name in like.columns and len(frame):
            frame[name] = frame[name].astype(like[name].dtype)
    return frame.reset_index(drop=True)
