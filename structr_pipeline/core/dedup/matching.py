"""Product matching without training labels: blocking, pair scoring and one-to-one decisions.

``match`` finds the records of one frame (within mode) or of two frames (two-table mode)
that describe the same product, in three steps:

1. ``candidate_pairs`` (blocking) pairs only records that share a key: a model number or
   its core (``NNH965`` for ``NNH965WH``), a barcode, one of their rarest title words, or
   a brand. A block of at most ``MAX_BLOCK`` records is paired in full; in a larger one
   each record only meets the ``WINDOW`` records whose titles sort next to it, so the
   number of candidates grows about linearly with the number of records.
2. ``score_pairs`` measures each candidate: title similarity (TF-IDF cosine and token-set
   ratio), model-number agreement or conflict (model columns that name two numbers
   conflict), brand, colour, quantities (16GB and 32GB, 2007 and 2008), price ratio and
   description similarity, and adds them up as weighted evidence into one score in
   [0, 1].
3. ``match`` keeps the pairs scoring at least ``review_threshold``. In two-table mode a
   pair at or above ``match_threshold`` is a "match" when it also wins the greedy
   one-to-one assignment (best score first); everything else kept is "review".

More than ``MatchSettings.max_records`` records are first cut into shards (``shards``),
a brand's records kept together, and each shard is matched on its own, so that the
memory ``match`` needs is bounded whatever the input size.

The rules and weights were chosen by hand on the Abt-Buy and Amazon-Google benchmarks,
without training. ``merge_band`` tells which matches are certain enough to merge unreviewed.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel
from scipy import sparse

from structr_pipeline.core.dedup.keys import (
    COLOURS,
    LISTING_KINDS,
    ascii_fold,
    brand_key,
    code_core,
    colours,
    compact,
    listing_kinds,
    measures,
    measures_conflict,
    normalize_model,
    primary_code,
    title_tokens,
)
from structr_pipeline.core.normalize import clean_text, is_valid_gtin
from structr_pipeline.core.values import fold_text

MATCH_COLUMNS = ("title", "vendor", "description", "price", "sku", "barcode", "model")
SIGNAL_COLUMNS = ("title", "model", "brand", "price", "description", "variant")
RESULT_COLUMNS = ("left", "right", "score", "decision", "rule", *SIGNAL_COLUMNS)

# Blocking. Each record brings RARE_WORDS of its rarest title words as keys.
MAX_BLOCK = 24
WINDOW = 8
RARE_WORDS = 6
# A model number found in more records than this names a product line or a standard
# (xbox360, usb20), not one product: it still blocks, but is no evidence of a match.
MAX_CODE_RECORDS = 8
MAX_DESCRIPTION_WORDS = 64

# Model-number evidence of a pair, strongest first: the two main model numbers are
# equal; another model number is on both; the main model number of one is in the title
# of the other; the two are of one series (equal once trailing letters are dropped);
# nothing; they conflict (alike, but with different digits: LN40A650 and LN46A650).
EQUAL, SHARED, CONTAINED, SAME_CORE, NO_EVIDENCE, CONFLICT = 4, 3, 2, 1, 0, -1
# The ``model`` signal reported for each level. Without evidence either way it is half
# the similarity of the two main model numbers, so that it is ≥ 0.8 only for agreement.
MODEL_VALUES = {EQUAL: 1.0, SHARED: 0.95, CONTAINED: 0.9, SAME_CORE: 0.8, CONFLICT: 0.0}
CONFLICT_SIMILARITY = 0.5
# The score is 1 / (1 + exp(-x)), x = TITLE_INTERCEPT + TITLE_SLOPE * title + the
# evidence weight - BRAND_PENALTY (brands differ) - COLOUR_PENALTY (colours differ)
# ± PRICE_WEIGHT (prices within / beyond a ratio of CLOSE_PRICE; FAR_PRICE_PENALTY
# beyond FAR_PRICE) - QUANTITY_PENALTY (quantities differ: 500GB and 1TB)
# + DESCRIPTION_WEIGHT * (description similarity - 0.5).
EVIDENCE_WEIGHTS = {EQUAL: 4.5, SHARED: 3.0, CONTAINED: 2.5, SAME_CORE: 1.5, CONFLICT: -5.0}
TITLE_COSINE_SHARE = 0.25
TITLE_INTERCEPT = -4.0
TITLE_SLOPE = 8.0
BRAND_PENALTY = 1.0
COLOUR_PENALTY = 1.5
QUANTITY_PENALTY = 3.0
CLOSE_PRICE = 0.7
PRICE_WEIGHT = 0.3
FAR_PRICE = 0.4
FAR_PRICE_PENALTY = 1.0
DESCRIPTION_WEIGHT = 1.0

# Candidate pairs scored at once: bounds the memory of match() whatever the input size.
_CHUNK = 200_000


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds and options of ``match``."""

    match_threshold: float = 0.5
    review_threshold: float = 0.35
    one_to_one: bool = True
    workers: int = 1
    # The most records matched at once (both tables together); bounds match()'s memory.
    max_records: int = 100_000
    # When set, pairs with model numbers on both sides whose ``model`` signal is below it
    # are left out of the result (and of the one-to-one assignment): deduplication has
    # no use for them, and in a large catalog of sibling products they are most pairs.
    min_model_signal: float | None = None


@dataclass
class _Records:
    """Both frames stacked (left first), reduced to what blocking and scoring use."""

    two_table: bool
    n_left: int
    side: np.ndarray  # 0 for a left record, 1 for a right one; all 0 in within mode
    title: np.ndarray  # cleaned title
    text: np.ndarray  # title words joined by spaces
    compact: np.ndarray  # title letters and digits only
    codes: list[list[str]]  # model numbers: title, joined, model and sku columns
    primary: np.ndarray  # the main model number ("" when none)
    declared: np.ndarray  # the model column's model number ("" when none)
    core: np.ndarray  # the main model number without trailing letters (or itself)
    digits: np.ndarray  # the digits of the main model number
    primary_length: np.ndarray
    primary_common: np.ndarray  # the main model number is on over MAX_CODE_RECORDS records
    core_length: np.ndarray
    brand: np.ndarray
    colour_mask: np.ndarray  # one bit per colour of keys.COLOURS
    listing_mask: np.ndarray  # one bit per kind of keys.LISTING_KINDS (a kit, refurbished)
    measures: list[dict[str, frozenset[float]]]  # the title's quantities (keys.measures)
    measure_mask: np.ndarray  # one bit per dimension the title states a quantity in
    barcode: np.ndarray
    price: np.ndarray
    description: np.ndarray  # description words joined by spaces ("" when none)
    vectors: sparse.csr_matrix  # L2-normalized TF-IDF of the title words
    record_words: np.ndarray  # (record, word id), unique, sorted by record
    word_records: np.ndarray  # per word id: records containing it, per side (n_words, 2)

    def __len__(self) -> int:
        return len(self.side)


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    """A column as text: "" for a missing column or cell, numbers written out."""
    if name not in frame.columns:
        return [""] * len(frame)
    return [
        v if isinstance(v, str) else "" if v is None or pd.isna(v) else str(v)
        for v in frame[name].tolist()
    ]


def _prices(frame: pd.DataFrame) -> np.ndarray:
    if "price" not in frame.columns:
        return np.full(len(frame), np.nan)
    price = pd.to_numeric(frame["price"], errors="coerce").to_numpy(dtype=float)
    # A price of 0 stands for a missing price in the exports seen so far.
    return np.where(price > 0, price, np.nan)


def _column_code(code: str) -> bool:
    """A model or sku cell is a usable key when it has 4+ characters, a digit among them."""
    return len(code) >= 4 and any(c.isdigit() for c in code)


def _prepare(left: pd.DataFrame, right: pd.DataFrame | None) -> _Records:
    frames = [left] if right is None else [left, right]
    for frame in frames:
        if "title" not in frame.columns and len(frame):
            raise ValueError("match needs a 'title' column")
    side = np.concatenate([np.full(len(f), i, dtype=np.int8) for i, f in enumerate(frames)])
    titles = [clean_text(t) for f in frames for t in _column(f, "title")]
    vendors = [clean_text(v) for f in frames for v in _column(f, "vendor")]
    models = [m for f in frames for m in _column(f, "model")]
    skus = [s for f in frames for s in _column(f, "sku")]
    barcodes = [compact(b) for f in frames for b in _column(f, "barcode")]
    descriptions = [d for f in frames for d in _column(f, "description")]
    colour_bits = {c: 1 << i for i, c in enumerate(COLOURS)}

    # One string object per distinct word: a catalog repeats its words a great deal.
    shared: dict[str, str] = {}
    words, codes, primary, brand, masks, declared, listing = [], [], [], [], [], [], []
    listing_bits = {kind: 1 << i for i, kind in enumerate(LISTING_KINDS)}
    for title, vendor, model, sku in zip(titles, vendors, models, skus, strict=True):
        keys = title_tokens(title)
        extra = [c for c in (normalize_model(model), normalize_model(sku)) if _column_code(c)]
        declared.append(extra[0] if extra and model else "")
        main = primary_code(title, keys.codes, model)
        words.append([shared.setdefault(w, w) for w in keys.words])
        codes.append(list(dict.fromkeys(keys.codes + keys.joined + extra)))
        primary.append(main)
        brand.append(brand_key(vendor, keys.words))
        masks.append(sum(colour_bits[c] for c in colours(keys.words, main)))
        listing.append(sum(listing_bits[k] for k in listing_kinds(keys.words)))

    record_words, word_records, vocabulary, vectors = _tfidf(words, side)
    holders = Counter(c for cs, p in zip(codes, primary, strict=True) for c in {*cs, p} if c)
    quantities = [measures(t) for t in titles]
    dimensions: dict[str, int] = {}
    measure_mask = [
        sum(1 << dimensions.setdefault(d, len(dimensions)) for d in q) for q in quantities
    ]
    brand = _confirmed_brands(brand, vendors, words, vocabulary, word_records.sum(axis=1))
    description_words = [
        " ".join(title_tokens(clean_text(d)).words[:MAX_DESCRIPTION_WORDS]) if d else ""
        for d in descriptions
    ]
    return _Records(
        two_table=right is not None,
        n_left=len(left),
        side=side,
        title=np.array(titles, dtype=object),
        text=np.array([" ".join(w) for w in words], dtype=object),
        compact=np.array([compact(t) for t in titles], dtype=object),
        codes=codes,
        primary=np.array(primary, dtype=object),
        declared=np.array(declared, dtype=object),
        core=np.array([code_core(p) or p for p in primary], dtype=object),
        digits=np.array(["".join(filter(str.isdigit, p)) for p in primary], dtype=object),
        primary_length=np.array([len(p) for p in primary], dtype=np.int64),
        primary_common=np.array([holders[p] > MAX_CODE_RECORDS for p in primary], dtype=bool),
        core_length=np.array([len(code_core(p) or p) for p in primary], dtype=np.int64),
        brand=np.array(brand, dtype=object),
        colour_mask=np.array(masks, dtype=np.int64),
        listing_mask=np.array(listing, dtype=np.int64),
        measures=quantities,
        measure_mask=np.array(measure_mask, dtype=np.int64),
        barcode=np.array([b if is_valid_gtin(b) else "" for b in barcodes], dtype=object),
        price=np.concatenate([_prices(f) for f in frames]),
        description=np.array(description_words, dtype=object),
        vectors=vectors,
        record_words=record_words,
        word_records=word_records,
    )


def _tfidf(
    words: list[list[str]], side: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.Index, sparse.csr_matrix]:
    """(record, word id) pairs, records per word and side, the vocabulary, TF-IDF rows."""
    n = len(words)
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=n)
    records = np.repeat(np.arange(n, dtype=np.int64), lengths)
    ids, vocabulary = pd.factorize(
        pd.Series([w for record in words for w in record], dtype=object), sort=True
    )
    n_words = len(vocabulary)
    unique = np.unique(records * max(n_words, 1) + ids)
    record_words = np.stack([unique // max(n_words, 1), unique % max(n_words, 1)], axis=1)
    word_records = np.stack(
        [
            np.bincount(
                record_words[:, 1], weights=side[record_words[:, 0]] == s, minlength=n_words
            )
            for s in (0, 1)
        ],
        axis=1,
    )
    idf = np.log((n + 1) / (word_records.sum(axis=1) + 0.5))
    vectors = sparse.csr_matrix((idf[ids], (records, ids)), shape=(n, n_words))
    vectors.sum_duplicates()
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    vectors = sparse.diags(1 / np.where(norms > 0, norms, 1)) @ vectors
    return record_words, word_records, pd.Index(vocabulary), vectors.tocsr()


def _confirmed_brands(
    brand: list[str],
    vendors: list[str],
    words: list[list[str]],
    vocabulary: pd.Index,
    word_records: np.ndarray,
) -> list[str]:
    """Keep a brand read from a title's first word only when that word reads as a brand.

    Without a vendor the first title word stands in for the brand, but "Full Console
    Dishwasher" or "White .5 cu. ft Oven" start with an ordinary word. A first word counts
    when at least two titles start with it and at least half of those containing it do.
    """
    firsts = pd.Series([w[0] if w else "" for w in words], dtype=object)
    starting = firsts.map(firsts.value_counts()).to_numpy()
    position = vocabulary.get_indexer(firsts)
    if len(word_records):
        containing = np.where(position >= 0, word_records[np.maximum(position, 0)], 0)
    else:  # no title in the batch has a word
        containing = np.zeros(len(firsts), dtype=np.int64)
    confirmed = (starting >= 2) & (starting >= 0.5 * containing)
    return [
        b if vendor or ok else ""
        for b, vendor, ok in zip(brand, vendors, confirmed.tolist(), strict=True)
    ]


# --- blocking -----------------------------------------------------------------------


def _pairs_in_blocks(
    records: _Records, recs: np.ndarray, blocks: np.ndarray, max_full: int, window: int
) -> np.ndarray:
    """Pair keys (``i * n + j``, i < j) of records in the same block.

    ``recs`` and ``blocks`` must be sorted by block, then in the order that decides the
    neighbours. A block of at most ``max_full`` records pairs in full; a larger one pairs
    each record with the next ``window`` records. In two-table mode only pairs across
    the two sides are kept.
    """
    n = len(records)
    starts = np.searchsorted(blocks, blocks, side="left")
    ends = np.searchsorted(blocks, blocks, side="right")
    reach = np.where(ends - starts <= max_full, ends - starts - 1, window)
    position = np.arange(len(recs))
    found = [np.zeros(0, dtype=np.int64)]
    for step in range(1, int(reach.max(initial=0)) + 1):
        here = position[(reach >= step) & (position + step < ends)]
        a, b = recs[here], recs[here + step]
        keep = records.side[a] != records.side[b] if records.two_table else a != b
        a, b = a[keep], b[keep]
        found.append(np.minimum(a, b) * n + np.maximum(a, b))
    return np.unique(np.concatenate(found))


def _record_codes(records: _Records, with_cores: bool) -> tuple[np.ndarray, pd.Series]:
    """(record, code) for each model number of each record, plus cores if asked."""
    codes = records.codes
    if with_cores:
        codes = [list(dict.fromkeys([*c, *filter(None, map(code_core, c))])) for c in codes]
    recs = np.repeat(np.arange(len(codes), dtype=np.int64), [len(c) for c in codes])
    return recs, pd.Series([c for cs in codes for c in cs], dtype=object)


def _block_keys(records: _Records) -> tuple[np.ndarray, np.ndarray]:
    """(record, key id) for every blocking key of every record."""
    record_ids: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    key_ids: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    offset = 0

    def add(recs: np.ndarray, keys: pd.Series | np.ndarray, n_keys: int | None = None) -> None:
        nonlocal offset
        if n_keys is None:
            keys, uniques = pd.factorize(keys)
            n_keys = len(uniques)
        record_ids.append(recs)
        key_ids.append(np.asarray(keys, dtype=np.int64) + offset)
        offset += n_keys

    # Model numbers and their cores share one key space, so NNH965WH meets NNH965WF
    # (core NNH965 on both) and ABS60BK meets ABS60.
    add(*_record_codes(records, with_cores=True))
    has_barcode = np.flatnonzero(records.barcode != "")
    add(has_barcode, records.barcode[has_barcode])
    has_brand = np.flatnonzero(records.brand != "")
    add(has_brand, records.brand[has_brand])

    # Each record's RARE_WORDS rarest words (then alphabetical) among the words that can
    # pair it at all: found in another record, on the other side in two-table mode.
    pairs, counts = records.record_words, records.word_records
    if len(pairs):
        per_word = counts.min(axis=1) if records.two_table else counts.sum(axis=1) - 1
        usable = per_word[pairs[:, 1]] >= 1
        pairs = pairs[usable]
        total = counts.sum(axis=1)[pairs[:, 1]]
        pairs = pairs[np.lexsort((pairs[:, 1], total, pairs[:, 0]))]
        rank = np.arange(len(pairs)) - np.searchsorted(pairs[:, 0], pairs[:, 0])
        pairs = pairs[rank < RARE_WORDS]
        add(pairs[:, 0], pairs[:, 1], len(counts))
    return np.concatenate(record_ids), np.concatenate(key_ids)


def _blocked_pairs(records: _Records) -> np.ndarray:
    """Sorted unique candidate pair keys ``i * n + j`` (combined positions, i < j)."""
    n = len(records)
    if n < 2 or (records.two_table and records.n_left in (0, n)):
        return np.zeros(0, dtype=np.int64)
    recs, keys = _block_keys(records)
    if records.two_table:
        # A key found on one side only pairs nothing.
        on_side = np.zeros((int(keys.max(initial=0)) + 1, 2), dtype=bool)
        on_side[keys, records.side[recs]] = True
        keep = on_side[keys].all(axis=1)
        recs, keys = recs[keep], keys[keep]
    title_rank = np.empty(n, dtype=np.int64)
    title_rank[np.argsort(records.text, kind="stable")] = np.arange(n)
    order = np.lexsort((recs, title_rank[recs], keys))
    return _pairs_in_blocks(records, recs[order], keys[order], MAX_BLOCK, WINDOW)


def _to_positions(records: _Records, keys: np.ndarray) -> np.ndarray:
    n = len(records)
    pairs = np.stack([keys // n, keys % n], axis=1) if len(keys) else np.zeros((0, 2), np.int64)
    if records.two_table:
        pairs[:, 1] -= records.n_left
    return pairs


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame | None = None) -> np.ndarray:
    """Blocking: the record pairs worth scoring, as positional indices.

    Returns an int64 array of shape (k, 2): ``(left position, right position)``, or in
    within mode (``right`` is None) positions ``(i, j)`` of ``left`` with ``i < j``; sorted
    and unique. Records are paired when they share a model number (letters and digits
    mixed, 4+ characters, normalized by ``keys.normalize_model``) or its core, a valid
    barcode, one of their ``RARE_WORDS`` rarest title words (by document frequency), or a
    brand. A block of at most ``MAX_BLOCK`` records is paired in full; a larger one only
    pairs each record with the ``WINDOW`` records whose titles sort next to it, so the
    number of pairs grows about linearly with the number of records.
    """
    records = _prepare(left, right)
    return _to_positions(records, _blocked_pairs(records))


# --- scoring ------------------------------------------------------------------------


def _shared_code_pairs(records: _Records) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of records that carry the same identifying model number.

    Returns sorted pair keys and, for each, the code (the longest shared one, then the
    first alphabetically). Identifying means in at most ``MAX_CODE_RECORDS`` records, so
    these blocks are small and every such pair is also a blocking candidate.
    """
    recs, codes = _record_codes(records, with_cores=False)
    ids, uniques = pd.factorize(codes, sort=True)
    counts = np.bincount(ids, minlength=len(uniques))
    keep = (counts[ids] >= 2) & (counts[ids] <= MAX_CODE_RECORDS)
    recs, ids = recs[keep], ids[keep]
    order = np.lexsort((recs, ids))
    recs, ids = recs[order], ids[order]
    n = len(records)
    keys, key_codes = [], []
    ends = np.searchsorted(ids, ids, side="right")
    position = np.arange(len(recs))
    for step in range(1, MAX_CODE_RECORDS):
        here = position[position + step < ends]
        a, b = recs[here], recs[here + step]
        keep = records.side[a] != records.side[b] if records.two_table else a != b
        keys.append(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])
        key_codes.append(ids[here][keep])
    if not keys or not sum(len(k) for k in keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    key, code = np.concatenate(keys), uniques.to_numpy()[np.concatenate(key_codes)]
    length = np.fromiter((len(c) for c in code), dtype=np.int64, count=len(code))
    # ``uniques`` is sorted, so its ids order the codes alphabetically.
    order = np.lexsort((np.concatenate(key_codes), -length, key))
    key, code = key[order], code[order]
    first = np.r_[True, key[1:] != key[:-1]]
    return key[first], code[first]


def _occurs(needle: str, haystack: str, title: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` (``title`` compacted) as a whole number.

    An occurrence followed by a digit is another number (``harmony1`` in ``Harmony 1000``)
    unless the title separates the two (``961464`` in ``961464-0403``); one preceded by
    a digit is rejected when the needle starts with a digit.
    """
    start = haystack.find(needle)
    kept: list[int] | None = None
    while start >= 0:
        end = start + len(needle)
        before_ok = start == 0 or not (needle[0].isdigit() and haystack[start - 1].isdigit())
        after_ok = end == len(haystack) or not haystack[end].isdigit()
        if before_ok and not after_ok:
            if kept is None:
                folded = ascii_fold(fold_text(title)).lower()
                kept = [i for i, c in enumerate(folded) if c.isascii() and c.isalnum()]
            after_ok = kept[end] > kept[end - 1] + 1
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def _contained(
    records: _Records, needles: np.ndarray, lengths: np.ndarray, b: np.ndarray, workers: int
) -> np.ndarray:
    """Whether each needle (a model number of 5+ characters) occurs in the title of b[i].

    rapidfuzz finds the candidates in bulk (a partial ratio of 100 against the compact
    title is an exact substring); only those are checked one by one by ``_occurs``.
    """
    out = np.zeros(len(needles), dtype=bool)
    long_enough = np.flatnonzero(lengths >= 5)
    if not len(long_enough):
        return out
    haystacks = records.compact[b[long_enough]]
    scores = process.cpdist(
        needles[long_enough], haystacks, scorer=fuzz.partial_ratio, workers=workers
    )
    for i in np.flatnonzero(scores == 100).tolist():
        j = int(b[long_enough[i]])
        out[long_enough[i]] = _occurs(needles[long_enough[i]], records.compact[j], records.title[j])
    return out


def _extends(short: np.ndarray, long: np.ndarray) -> np.ndarray:
    """Whether each ``long`` model number is ``short`` and more: three characters or more,
    or a digit (a colour or region suffix, ``WH`` or ``B``, keeps one product)."""

    def more(x: str, y: str) -> bool:
        tail = y[len(x) :] if x and y.startswith(x) else ""
        return len(tail) >= 3 or any(c.isdigit() for c in tail)

    return np.fromiter(
        (more(x, y) for x, y in zip(short, long, strict=True)), dtype=bool, count=len(short)
    )


def _declared_conflict(
    records: _Records, a: np.ndarray, b: np.ndarray, evidence: np.ndarray
) -> np.ndarray:
    """Pairs whose model columns name two different model numbers, neither found in the
    other record's title, with no agreement found otherwise or only a code shared in
    their titles (a product line: ``XMS2`` on TWIN2X4096 and TWIN2X2048 memory kits).

    A model column holds the maker's model number (a store's own code belongs in
    ``sku``), so two that differ name two products.
    """
    da, db = records.declared[a], records.declared[b]
    out = (da != "") & (db != "") & (da != db) & np.isin(evidence, (NO_EVIDENCE, SHARED))
    for i in np.flatnonzero(out).tolist():
        x, y = int(a[i]), int(b[i])
        if _occurs(da[i], records.compact[y], records.title[y]) or _occurs(
            db[i], records.compact[x], records.title[x]
        ):
            out[i] = False
    return out


def _cosine(vectors: sparse.csr_matrix, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return np.zeros(0)
    product = vectors[a].multiply(vectors[b])
    return np.clip(np.asarray(product.sum(axis=1)).ravel(), 0.0, 1.0)


def _signals(
    records: _Records,
    a: np.ndarray,
    b: np.ndarray,
    shared_keys: np.ndarray,
    shared_codes: np.ndarray,
    workers: int,
) -> dict[str, np.ndarray]:
    """Every signal for the pairs (a[i], b[i]) of combined positions, a[i] < b[i]."""
    k = len(a)

    def similarity(x: np.ndarray, y: np.ndarray, scorer: Callable[..., float]) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        return process.cpdist(x, y, scorer=scorer, workers=workers).astype(np.float64)

    title = (
        TITLE_COSINE_SHARE * _cosine(records.vectors, a, b)
        + (1 - TITLE_COSINE_SHARE)
        * similarity(records.text[a], records.text[b], fuzz.token_set_ratio)
        / 100
    )

    key = a * len(records) + b
    at = np.minimum(np.searchsorted(shared_keys, key), max(len(shared_keys) - 1, 0))
    found = shared_keys[at] == key if len(shared_keys) else np.zeros(k, dtype=bool)
    shared = np.where(found, shared_codes[at] if len(shared_codes) else "", "")

    pa, pb = records.primary[a], records.primary[b]
    has_codes = (pa != "") & (pb != "")
    # A model number on many records (ddr3, as400, win32) names a line or a standard.
    common_a, common_b = records.primary_common[a], records.primary_common[b]
    equal = has_codes & (pa == pb) & ~common_a
    a_in_b = _contained(records, pa, records.primary_length[a], b, workers) & ~common_a
    b_in_a = _contained(records, pb, records.primary_length[b], a, workers) & ~common_b
    # NX-3DG is in the title of the NX-3DGLRK, a longer model of its series: not the same.
    a_in_b &= ~_extends(pa, pb)
    b_in_a &= ~_extends(pb, pa)
    ca, cb = records.core[a], records.core[b]
    core_a_in_b = _contained(records, ca, records.core_length[a], b, workers)
    core_b_in_a = _contained(records, cb, records.core_length[b], a, workers)
    same_core = has_codes & ((ca == cb) | core_a_in_b | core_b_in_a)
    code_similarity = np.zeros(k)
    code_similarity[has_codes] = similarity(
        pa[has_codes], pb[has_codes], Indel.normalized_similarity
    )
    evidence = np.select(
        [equal, found, a_in_b | b_in_a, same_core],
        [EQUAL, SHARED, CONTAINED, SAME_CORE],
        NO_EVIDENCE,
    )
    conflict = (
        has_codes
        & (evidence == NO_EVIDENCE)
        & (code_similarity >= CONFLICT_SIMILARITY)
        & (records.digits[a] != records.digits[b])
    )
    ma, mb = records.colour_mask[a], records.colour_mask[b]
    colour_conflict = (ma != 0) & (mb != 0) & ((ma & mb) == 0)
    quantity_conflict = np.full(k, "", dtype=object)
    for i in np.flatnonzero(records.measure_mask[a] & records.measure_mask[b]).tolist():
        quantity_conflict[i] = measures_conflict(
            records.measures[int(a[i])], records.measures[int(b[i])]
        )
    differs = colour_conflict | (quantity_conflict != "")
    conflict |= _declared_conflict(records, a, b, evidence)
    # One series in two colours (MDREX32LPBLK, MDREX32LPWHI) or two sizes is two products.
    conflict |= (evidence == SAME_CORE) & differs
    evidence[conflict] = CONFLICT
    model = np.where(has_codes, code_similarity / 2, np.nan)
    for level, value in MODEL_VALUES.items():
        model[evidence == level] = value
    model_key = np.select(
        [equal, found, a_in_b, b_in_a, same_core & (ca == cb), core_a_in_b, core_b_in_a],
        [pa, shared, pa, pb, ca, ca, cb],
        "",
    )

    ba, bb = records.brand[a], records.brand[b]
    brand = np.where((ba != "") & (bb != ""), 1.0, np.nan)
    # Different brand keys still agree when one title has the other's brand as a word
    # ("… Controllers by Nyko"): a brand padded with spaces scores 100 against the
    # padded words of such a title.
    check = np.flatnonzero((brand == 1) & (ba != bb))
    text_a, text_b = records.text[a[check]], records.text[b[check]]
    brand_in_b = similarity(" " + ba[check] + " ", " " + text_b + " ", fuzz.partial_ratio)
    brand_in_a = similarity(" " + bb[check] + " ", " " + text_a + " ", fuzz.partial_ratio)
    brand[check] = ((brand_in_b == 100) | (brand_in_a == 100)).astype(float)

    price_a, price_b = records.price[a], records.price[b]
    price = np.minimum(price_a, price_b) / np.maximum(price_a, price_b)

    da, db = records.description[a], records.description[b]
    has_description = (da != "") & (db != "")
    description = np.full(k, np.nan)
    description[has_description] = (
        similarity(da[has_description], db[has_description], fuzz.token_set_ratio) / 100
    )
    # 0 when colours, quantities or listing kinds differ, 1 when both name colours or
    # quantities and they agree.
    states = ((ma != 0) & (mb != 0)) | ((records.measure_mask[a] & records.measure_mask[b]) != 0)
    variant = np.where(states, 1.0, np.nan)
    variant[differs] = 0.0
    # A kit, a refurbished unit or a compatible part beside the product alone.
    listing_conflict = records.listing_mask[a] ^ records.listing_mask[b]
    variant[listing_conflict != 0] = 0.0
    return {
        "title": title,
        "model": model,
        "brand": brand,
        "price": price,
        "description": description,
        "variant": variant,
        "evidence": evidence,
        "model_key": model_key,
        "colour_conflict": colour_conflict,
        "quantity_conflict": quantity_conflict,
        "listing_conflict": listing_conflict,
    }


def _combine(signals: dict[str, np.ndarray]) -> np.ndarray:
    """The score in [0, 1]: a logistic function of the weighted evidence."""
    evidence = signals["evidence"]
    price = signals["price"]
    description = signals["description"]
    logit = TITLE_INTERCEPT + TITLE_SLOPE * signals["title"]
    for level, weight in EVIDENCE_WEIGHTS.items():
        logit[evidence == level] += weight
    logit[signals["brand"] == 0] -= BRAND_PENALTY
    logit[signals["colour_conflict"]] -= COLOUR_PENALTY
    logit[signals["quantity_conflict"] != ""] -= QUANTITY_PENALTY
    has_price = ~np.isnan(price)
    logit[has_price] += np.where(price[has_price] >= CLOSE_PRICE, PRICE_WEIGHT, -PRICE_WEIGHT)
    logit[has_price & (price < FAR_PRICE)] -= FAR_PRICE_PENALTY - PRICE_WEIGHT
    has_description = ~np.isnan(description)
    logit[has_description] += DESCRIPTION_WEIGHT * (description[has_description] - 0.5)
    return 1 / (1 + np.exp(-logit))


_EVIDENCE_TEXT = {
    EQUAL: "model number {} on both",
    SHARED: "model number {} on both",
    CONTAINED: "model number {} in both titles",
    SAME_CORE: "model numbers of one series {}, suffixes differ",
    CONFLICT: "model numbers differ",
}


_QUANTITY_TEXT = {"edition": "edition year", "seats": "number of users"}


def _rules(signals: dict[str, np.ndarray]) -> list[str]:
    """One short text per pair saying what decided its score."""
    out = []
    columns = (
        "evidence",
        "model_key",
        "title",
        "brand",
        "price",
        "colour_conflict",
        "quantity_conflict",
        "listing_conflict",
    )
    for evidence, key, title, brand, price, colour, quantity, listing in zip(
        *(signals[c].tolist() for c in columns), strict=True
    ):
        parts = []
        if evidence != NO_EVIDENCE:
            parts.append(_EVIDENCE_TEXT[evidence].format(key.upper()))
        parts.append(f"title {title:.2f}")
        if brand == 0:
            parts.append("brands differ")
        if colour:
            parts.append("colours differ")
        if quantity:
            parts.append(f"{_QUANTITY_TEXT.get(quantity, quantity)} differs")
        if listing:
            kinds = [k for i, k in enumerate(LISTING_KINDS) if listing >> i & 1]
            parts.append(f"{' and '.join(kinds)} on one side only")
        if not math.isnan(price):
            parts.append(f"price ratio {price:.2f}")
        out.append("; ".join(parts))
    return out


def _score_keys(
    records: _Records,
    keys: np.ndarray,
    review_threshold: float | None,
    workers: int,
    min_model_signal: float | None = None,
) -> pd.DataFrame:
    """Score pair keys chunk by chunk; keep those at or above ``review_threshold`` and,
    when ``min_model_signal`` is given, drop those whose model signal is below it."""
    n = len(records)
    shared_keys, shared_codes = _shared_code_pairs(records)
    parts = []
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        signals = _signals(records, chunk // n, chunk % n, shared_keys, shared_codes, workers)
        signals["score"] = _combine(signals)
        if review_threshold is not None:
            keep = signals["score"] >= review_threshold
            if min_model_signal is not None:
                model = signals["model"]
                keep &= np.isnan(model) | (model >= min_model_signal)
            signals = {name: values[keep] for name, values in signals.items()}
            chunk = chunk[keep]
        signals["rule"] = np.array(_rules(signals), dtype=object)
        positions = _to_positions(records, chunk)
        parts.append(
            pd.DataFrame(
                {
                    "left": positions[:, 0],
                    "right": positions[:, 1],
                    "score": signals["score"],
                    "rule": signals["rule"],
                    **{name: signals[name] for name in SIGNAL_COLUMNS},
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {
                "left": np.zeros(0, np.int64),
                "right": np.zeros(0, np.int64),
                "score": np.zeros(0),
                "rule": np.zeros(0, dtype=object),
                **{name: np.zeros(0) for name in SIGNAL_COLUMNS},
            }
        )
    return pd.concat(parts, ignore_index=True)


def score_pairs(
    left: pd.DataFrame, right: pd.DataFrame | None, pairs: np.ndarray, *, workers: int = 1
) -> pd.DataFrame:
    """Score candidate pairs: one row per pair, in the order given.

    ``pairs`` holds positions as ``candidate_pairs`` returns them. Columns: ``left``,
    ``right``, ``score`` in [0, 1], ``rule`` (a short text: "model number PSLX350H on
    both; title 0.82") and the signals ``title``, ``model``, ``brand``, ``price``,
    ``description`` and ``variant`` (each in [0, 1], NaN where a side lacks the field).
    ``model`` is 1 for equal main model numbers, 0.95 for another shared one, 0.9 when
    one's is in the other's title, 0.8 for one series, 0 for conflicting ones, else below
    0.5. ``variant`` is 0 when the titles name different colours or quantities (16GB and
    32GB, 3 and 4 years, 2007 and 2008) or one only is a kit, refurbished or a compatible
    part; 1 when they name colours or quantities and agree.
    """
    records = _prepare(left, right)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    a = pairs[:, 0]
    b = pairs[:, 1] + (records.n_left if records.two_table else 0)
    keys = np.minimum(a, b) * len(records) + np.maximum(a, b)
    scored = _score_keys(records, keys, None, workers)
    if right is None:
        # Keys put the smaller position first; report the pairs as they were given.
        scored["left"], scored["right"] = pairs[:, 0], pairs[:, 1]
    return scored[["left", "right", "score", "rule", *SIGNAL_COLUMNS]]


# The merge band: a match with identifying evidence (the same model number, or one's in
# the other's title), a title at least this alike, no differing brand, colour, quantity
# or kind of listing, and prices not far apart. Everything else the matcher keeps is for
# a person to review.
MERGE_MODEL_SIGNAL = 0.9
MERGE_TITLE_SIGNAL = 0.5
# Prices further apart than this ratio are not one product's (a camera and its cover).
MERGE_PRICE_SIGNAL = 0.25


def merge_band(result: pd.DataFrame) -> np.ndarray:
    """Which rows of a ``match`` result are in the merge band (a boolean per row).

    Pairs on title similarity alone never are: alike names are common among a store's
    own products, and a merge is hard to undo. ``benchmarks/matching.py`` prints the
    band's size and precision on each benchmark.
    """

    def signal(name: str, missing: float) -> np.ndarray:
        if name not in result.columns:
            return np.full(len(result), missing)
        return result[name].astype(float).fillna(missing).to_numpy()

    return (
        (result["decision"].to_numpy() == "match")
        & (signal("model", 0.0) >= MERGE_MODEL_SIGNAL)
        & (signal("title", 0.0) >= MERGE_TITLE_SIGNAL)
        & (signal("brand", 1.0) >= 0.5)
        & (signal("variant", 1.0) >= 0.5)
        & (signal("price", 1.0) >= MERGE_PRICE_SIGNAL)
    )


def _one_to_one(scored: pd.DataFrame, threshold: float) -> np.ndarray:
    """Which pairs at or above ``threshold`` a greedy one-to-one assignment keeps.

    Pairs are taken best score first (ties by left, then right position); a pair is kept
    when neither of its records is taken yet. Unlike a maximum-sum assignment, this never
    gives up a near-certain pair to fit in two weaker ones.
    """
    wins = np.zeros(len(scored), dtype=bool)
    score = scored["score"].to_numpy()
    strong = np.flatnonzero(score >= threshold)
    left = scored["left"].to_numpy()[strong]
    right = scored["right"].to_numpy()[strong]
    order = np.lexsort((right, left, -score[strong]))
    taken_left: set[int] = set()
    taken_right: set[int] = set()
    for i, a, b in zip(
        strong[order].tolist(), left[order].tolist(), right[order].tolist(), strict=True
    ):
        if a not in taken_left and b not in taken_right:
            taken_left.add(a)
            taken_right.add(b)
            wins[i] = True
    return wins


def _shard_keys(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per record: its ``brand_key`` (from the vendor, else the title's first word) and
    its title."""
    titles = pd.Series(_column(frame, "title"), dtype=object).str.casefold().str.strip()
    first_words = titles.str.split(n=1).str[0].fillna("").tolist()
    brands = [
        brand_key(vendor, [word] if word else [])
        for vendor, word in zip(_column(frame, "vendor"), first_words, strict=True)
    ]
    return np.array(brands, dtype=object), titles.to_numpy(dtype=object)


def shards(
    left: pd.DataFrame, right: pd.DataFrame | None, max_records: int
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Split the records into shards of at most ``max_records``, a brand's records together.

    Returns, per shard, the sorted positions of its left records and of its right ones
    (None in within mode). Records are ordered by brand (``keys.brand_key``) then title
    and cut into consecutive runs, a cut falling between brands unless one brand alone
    has more records than a shard holds.
    """
    frames = [left] if right is None else [left, right]
    parts = [_shard_keys(f) for f in frames]
    brands = np.concatenate([p[0] for p in parts])
    titles = np.concatenate([p[1] for p in parts])
    side = np.concatenate([np.full(len(f), i, dtype=np.int8) for i, f in enumerate(frames)])
    position = np.concatenate([np.arange(len(f), dtype=np.int64) for f in frames])
    order = np.lexsort((position, side, titles, brands))
    brand_codes = pd.factorize(brands[order])[0]
    starts = np.flatnonzero(np.r_[True, brand_codes[1:] != brand_codes[:-1]]).tolist()
    cuts = [0]
    for start, end in zip(starts, [*starts[1:], len(order)], strict=True):
        if end - cuts[-1] <= max_records:
            continue
        if start > cuts[-1]:
            cuts.append(start)
        while end - cuts[-1] > max_records:
            cuts.append(cuts[-1] + max_records)
    cuts.append(len(order))
    out: list[tuple[np.ndarray, np.ndarray | None]] = []
    for begin, end in itertools.pairwise(cuts):
        members = order[begin:end]
        picked = [np.sort(position[members[side[members] == s]]) for s in range(len(frames))]
        out.append((picked[0], picked[1] if right is not None else None))
    return out


def match(
    left: pd.DataFrame,
    right: pd.DataFrame | None = None,
    settings: MatchSettings = MatchSettings(),
) -> pd.DataFrame:
    """Find duplicate products: ``candidate_pairs`` → ``score_pairs`` → decisions.

    Returns the candidate pairs scoring at least ``settings.review_threshold``, sorted by
    left then right position, with ``decision`` "match" (score ≥ ``match_threshold`` and,
    in two-table mode with ``one_to_one``, kept by the greedy one-to-one assignment) or
    "review" (the band below, or a match that lost the assignment). Columns: left, right,
    score, decision, rule, then the signals title, model, brand, price, description,
    variant. ``merge_band`` tells which matches are certain enough to merge unreviewed.

    More than ``settings.max_records`` records are matched shard by shard (``shards``),
    so memory stays bounded whatever the input size: records of different brands in
    different shards are then never compared.
    """
    if len(left) + (0 if right is None else len(right)) > settings.max_records:
        return _match_in_shards(left, right, settings)
    records = _prepare(left, right)
    keys = _blocked_pairs(records)
    scored = _score_keys(
        records, keys, settings.review_threshold, settings.workers, settings.min_model_signal
    )
    is_match = scored["score"].to_numpy() >= settings.match_threshold
    if records.two_table and settings.one_to_one:
        is_match &= _one_to_one(scored, settings.match_threshold)
    scored["decision"] = np.where(is_match, "match", "review")
    return scored[list(RESULT_COLUMNS)]


def _match_in_shards(
    left: pd.DataFrame, right: pd.DataFrame | None, settings: MatchSettings
) -> pd.DataFrame:
    """``match`` run on each shard; positions mapped back, sorted by left then right."""
    found = []
    for left_at, right_at in shards(left, right, settings.max_records):
        if right is None:
            if len(left_at) < 2:
                continue
            part = match(left.iloc[left_at], None, settings)
            part["left"], part["right"] = left_at[part["left"]], left_at[part["right"]]
        else:
            if not len(left_at) or right_at is None or not len(right_at):
                continue
            part = match(left.iloc[left_at], right.iloc[right_at], settings)
            part["left"], part["right"] = left_at[part["left"]], right_at[part["right"]]
        found.append(part)
    if not found:
        return match(left.iloc[:0], None if right is None else right.iloc[:0], settings)
    result = pd.concat(found, ignore_index=True)
    found.clear()  # the parts are in ``result`` now: let them go before the reorder
    result = result.take(np.lexsort((result["right"].to_numpy(), result["left"].to_numpy())))
    result.index = pd.RangeIndex(len(result))
    return result
