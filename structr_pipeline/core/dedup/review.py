"""The duplicate review queue: which unmerged pairs a person should look at, and why.

Deduplication finds candidate pairs by exact keys (SKU, GTIN, name and brand) and by the
fuzzy matcher. Most candidates in a store's own export are not duplicates at all: they
are siblings, products that differ only in a variant dimension (colour, size, metal or
karat, capacity, pack count, edition or model year), or products that merely share
words. This module decides, per unordered pair, what it is:

- **listed more than once in this file**: two products of one file that are the same product
  (the same title and brand with variants that overlap, or the same SKUs or GTINs on
  products whose titles agree). Shown first, grouped: a product listed four times is
  one group of four, not six pairs. The batch option ``merge_listed_duplicates`` merges
  these groups.
- **possible duplicate**: a pair the matcher scored in its uncertain band, or an exact
  key shared with a catalog product that could not be merged. Ranked by score.
- **possible variants of one product**: siblings with the same title once the variant
  words are set aside; reported separately (``variant_groups``), never in the queue.

A SKU or barcode that many products carry (``sold out``, ``N/A``, ``0``, or any value on
more than ``MAX_KEY_HOLDERS`` products) is a placeholder, not evidence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd
from rapidfuzz import fuzz

from structr_pipeline.core.dedup.matching import MERGE_MODEL_SIGNAL, MERGE_TITLE_SIGNAL
from structr_pipeline.core.fields import IMAGES
from structr_pipeline.core.normalize import gtin14
from structr_pipeline.core.values import as_text, fold_text, sku_key

# The batch option that merges the products a file lists more than once.
MERGE_LISTED_OPTION = "merge_listed_duplicates"

LISTED = "listed more than once in this file"
POSSIBLE = "possible duplicate"
QUEUE_COLUMNS: tuple[str, ...] = (
    "rank",
    "kind",
    "group",
    "handle",
    "other_handle",
    "other_in",
    "score",
    "rule",
)
VARIANT_COLUMNS: tuple[str, ...] = ("group", "title", "products", "handles", "differ_in")
# The product columns the review reads.
FACT_COLUMNS: tuple[str, ...] = (
    "title",
    "vendor",
    "description_html",
    IMAGES,
    *(f"option{n}_{part}" for part in ("name", "value") for n in (1, 2, 3)),
    "sku",
    "barcode",
    "price",
)

# A SKU or barcode on more products than this names no single product.
MAX_KEY_HOLDERS = 5
# A description on more products than this is boilerplate, not evidence.
MAX_DESCRIPTION_HOLDERS = 3
# Titles at least this alike (token set ratio of the normalized titles) agree: they name
# the same thing, for an exact-key merge as for the review.
TITLE_AGREEMENT = 60
# Possible duplicates listed per product: a person reviews the likeliest, not hundreds.
REVIEW_PER_PRODUCT = 3

_PLACEHOLDERS = frozenset(
    """
    na n/a none null nil soldout sold-out tbd tba unknown sku test default nosku noname
    empty x xx xxx - -- ? 0 00 000
    """.split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")
_STOP_WORDS = frozenset("the a an in with and of for by s on to".split())  # noqa: SIM905
_HANDLE_COPY = re.compile(r"-\d{1,3}$")
# Shopify renames a re-uploaded image file ``name_<uuid>.jpg``; sizes end ``_1024x1024``.
_IMAGE_SUFFIX = re.compile(r"(_[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|_\d+x\d*|_\d*x\d+)+$")

_COLOUR_WORDS = frozenset(
    """
    black white silver red blue navy pink green gold gray grey brown beige purple orange
    yellow ivory cream tan khaki olive charcoal teal turquoise maroon burgundy rose
    multi clear natural camo coral mint lilac lavender violet indigo aqua cyan magenta
    fuchsia peach salmon sand stone taupe mustard ochre rust copper bronze brass
    platinum chrome graphite slate smoke ash bone nude blush plum wine berry cherry lime
    emerald jade sage forest denim indigo chocolate coffee mocha caramel camel cognac
    espresso champagne pearl oatmeal heather melange marl striped stripe plaid floral
    leopard matte gloss glossy metallic transparent dark light pale bright deep neon
    pastel multicolor multicolour multicolored rainbow assorted
    """.split()  # noqa: SIM905
)
_SIZE_WORDS = frozenset(
    """
    xxs xs s m l xl xxl xxxl xxxxl 2xl 3xl 4xl 5xl small medium large petite regular
    tall short long wide narrow mini maxi plus one size os onesize kids kid youth junior
    baby toddler adult men mens women womens woman man ladies girls boys unisex
    """.split()  # noqa: SIM905
)
_EDITION_WORDS = frozenset(
    """
    edition limited special deluxe standard classic pro plus lite max ultra gen
    generation version v model series new old year pack pk pcs pc pair pairs set single
    double triple twin count ct
    """.split()  # noqa: SIM905
)
_METAL = re.compile(r"^(\d{1,2}k|\d{1,2}kt|\d{1,2}ct|\d{3})$")
_YEAR = re.compile(r"^(19|20)\d{2}$")
_QUANTITY = re.compile(
    r"^\d+([.,]\d+)?(x\d+)*(mm|cm|m|in|inch|ft|gb|tb|mb|ml|l|oz|lb|lbs|g|kg|w|v|mah|"
    r"pk|pack|pcs|pc|ct|t|c|p|k|kt|s|x|xl|cup|cups|qt|gal)?$"
)


def words(text: str) -> list[str]:
    """Case-folded words of a text, without stop words (``the``, ``in``, ``with`` …)."""
    return [w for w in _WORD.findall(fold_text(text)) if w not in _STOP_WORDS]


def title_key(title: str) -> str:
    """A title as it compares for "the same title": its words, in order, joined."""
    return " ".join(words(title))


def is_placeholder(key: str) -> bool:
    """True for a SKU or barcode key that names nothing (``sold out``, ``N/A``, ``0`` …)."""
    compact = re.sub(r"[\s_]+", "", key.casefold())
    return compact in _PLACEHOLDERS or compact.strip("0-") == "" or len(set(compact)) == 1


def evidence_sku(value: Any) -> str:
    """A SKU key that can identify a product: "" for a placeholder (``sold out``, ``N/A``)."""
    key = sku_key(value)
    return "" if not key or is_placeholder(key) else key


@dataclass(frozen=True)
class VariantWords:
    """The words that can name a variant dimension: colours, sizes, editions and the
    option values the batch itself uses."""

    from_options: frozenset[str] = frozenset()

    @classmethod
    def of(cls, frames: Iterable[pd.DataFrame]) -> VariantWords:
        """The option-value words of the frames (``Default Title`` aside)."""
        found: set[str] = set()
        for frame in frames:
            for n in (1, 2, 3):
                column = f"option{n}_value"
                if column not in frame.columns or not len(frame):
                    continue
                for value in pd.unique(frame[column].astype(str)):
                    if value and value.casefold() not in ("default title", "nan", "none"):
                        found.update(words(value))
        return cls(frozenset(found))

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        return word in self.from_options or _names_a_variant(word)


@lru_cache(maxsize=65536)
def _names_a_variant(word: str) -> bool:
    """Whether a word is a colour, size, edition, metal, year or quantity."""
    return (
        word in _COLOUR_WORDS
        or word in _SIZE_WORDS
        or word in _EDITION_WORDS
        or bool(_METAL.match(word) or _YEAR.match(word) or _QUANTITY.match(word))
    )


@dataclass(frozen=True)
class Facts:
    """What the review needs to know about one product."""

    handle: str
    title: str
    brand: str
    title_words: frozenset[str]
    handle_words: frozenset[str]
    option_names: tuple[str, ...]
    combos: frozenset[tuple[str, ...]]
    skus: frozenset[str]
    gtins: frozenset[str]
    prices: tuple[float, ...]
    description: str
    images: frozenset[str]
    variants: int
    # (barcode, option values) of each variant with a barcode
    keyed_gtins: frozenset[tuple[str, tuple[str, ...]]] = frozenset()

    @property
    def has_options(self) -> bool:
        """True when the product's variants are told apart by option values."""
        return any(any(v for v in combo) for combo in self.combos)


def _option_name(name: str) -> str:
    folded = " ".join(words(name))
    return {"colour": "color"}.get(folded, folded)


def _option_value(value: str) -> str:
    """An option value as it compares: ``50 cm`` and ``50cm`` agree; ``Default Title`` is ""."""
    folded = "".join(_WORD.findall(fold_text(value)))
    return "" if folded == "defaulttitle" else folded


def _image_stem(src: str) -> str:
    name = src.split("?", 1)[0].rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    stem = stem if dot else ext
    return _IMAGE_SUFFIX.sub("", stem.casefold())


def facts(handle: str, records: list[dict[str, Any]]) -> Facts:
    """The facts of one product from its rows (as dicts, first row first)."""
    first = records[0]
    names = tuple(_option_name(as_text(first.get(f"option{n}_name"))) for n in (1, 2, 3))
    each = [
        tuple(_option_value(as_text(r.get(f"option{n}_value"))) for n in (1, 2, 3)) for r in records
    ]
    combos = frozenset(each)
    barcodes = [gtin14(as_text(r.get("barcode"))) for r in records]
    prices = []
    for r in records:
        try:
            price = float(as_text(r.get("price")) or "nan")
        except ValueError:
            price = float("nan")
        if price == price:
            prices.append(price)
    try:
        images = json.loads(as_text(first.get("images")) or "[]")
    except ValueError:
        images = []
    return Facts(
        handle=handle,
        title=as_text(first.get("title")).strip(),
        brand=" ".join(words(as_text(first.get("vendor")))),
        title_words=frozenset(words(as_text(first.get("title")))),
        handle_words=frozenset(words(_HANDLE_COPY.sub("", handle).replace("-", " "))),
        option_names=names,
        combos=combos,
        skus=frozenset(filter(None, (evidence_sku(as_text(r.get("sku"))) for r in records))),
        gtins=frozenset(filter(None, barcodes)),
        prices=tuple(sorted(set(prices))),
        description=as_text(first.get("description_html")).strip(),
        images=frozenset(_image_stem(as_text(i.get("src"))) for i in images if isinstance(i, dict)),
        variants=len(records),
        keyed_gtins=frozenset((g, combo) for g, combo in zip(barcodes, each, strict=True) if g),
    )


def _listing(values: Iterable[str], limit: int = 3) -> str:
    items = sorted(values)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _covers(a: Facts, b: Facts) -> bool:
    """True when SKUs or barcodes in common cover every variant of the smaller product."""
    fewest = max(min(a.variants, b.variants), 1)
    return max(len(a.skus & b.skus), len(a.gtins & b.gtins)) >= fewest


def _variant_only(differ: set[str], vocabulary: VariantWords) -> bool:
    return bool(differ) and all(w in vocabulary for w in differ)


def sibling_reason(
    a: Facts, b: Facts, vocabulary: VariantWords, handles_given: bool = True
) -> str | None:
    """Why two products are siblings (variants of one product), or None.

    Siblings differ only in variant words in their titles (in their handles, for equal
    titles and handles the file chose, only in the fixed colour, size and edition
    words), or use options without a single option combination in common. Products
    whose SKUs or barcodes in common cover every variant are siblings only when their
    titles differ in a fixed colour, size, quantity or edition word (``40mm`` /
    ``50mm``): else they are one product.
    """
    covered = _covers(a, b)
    differ = a.title_words ^ b.title_words
    if covered and not _variant_only(differ, VariantWords()):
        return None
    if not differ and handles_given:
        differ = a.handle_words ^ b.handle_words
        vocabulary = VariantWords()
        mine, theirs = a.handle_words - b.handle_words, b.handle_words - a.handle_words
    else:
        mine, theirs = a.title_words - b.title_words, b.title_words - a.title_words
    if _variant_only(differ, vocabulary):
        return f"{_listing(mine) or '–'} / {_listing(theirs) or '–'}"
    shared_keys = a.skus & b.skus or a.gtins & b.gtins
    if a.has_options and b.has_options and not (a.combos & b.combos) and not shared_keys:
        for n, name in enumerate(a.option_names):
            mine = {c[n] for c in a.combos if c[n]}
            theirs = {c[n] for c in b.combos if c[n]}
            if mine and theirs and not (mine & theirs):
                label = name or f"option {n + 1}"
                return f"{label} {_listing(mine)} / {_listing(theirs)}"
        return "no variant in common"
    return None


def same_family(a: Facts, b: Facts, vocabulary: VariantWords) -> bool:
    """True when the titles are the same once variant words are set aside."""
    strip_a = {w for w in a.title_words if w not in vocabulary}
    strip_b = {w for w in b.title_words if w not in vocabulary}
    return (
        bool(strip_a) and strip_a == strip_b and (a.brand == b.brand or not a.brand or not b.brand)
    )


def _money(value: float) -> str:
    return f"{value:,.2f}"


@dataclass
class Candidate:
    """One pair found by a key or by the matcher, before the review decides on it."""

    a: tuple[str, str]  # ("b" | "c", handle); "b" is always a batch product
    b: tuple[str, str]
    score: float
    source: str  # "same SKU", "same GTIN", "same name and brand" or "fuzzy"
    note: str = ""  # why an exact-key pair was not merged
    signals: Mapping[str, float] = field(default_factory=dict)
    conflict: bool = False  # the catalog keeps both, or variants collide


@dataclass
class Decision:
    """What the review made of one candidate."""

    kind: str  # LISTED, POSSIBLE or "variants"
    score: float
    evidence: str


def _agree(a: Facts, b: Facts) -> bool:
    return (
        fuzz.token_set_ratio(" ".join(sorted(a.title_words)), " ".join(sorted(b.title_words)))
        >= TITLE_AGREEMENT
    )


def boilerplate(descriptions: pd.Series) -> set[str]:
    """The descriptions (stripped) that more than ``MAX_DESCRIPTION_HOLDERS`` products share."""
    counts = descriptions.fillna("").astype(str).str.strip().value_counts()
    counts = counts[counts.index != ""]
    return set(counts[counts > MAX_DESCRIPTION_HOLDERS].index)


def _shared_evidence(a: Facts, b: Facts, boilerplate: set[str]) -> tuple[list[str], float]:
    """What two products share, in words, and how much it weighs."""
    said: list[str] = []
    weight = 0.0
    skus, gtins = a.skus & b.skus, a.gtins & b.gtins
    fewest = max(min(a.variants, b.variants), 1)
    if skus:
        every = " on every variant" if len(skus) >= fewest else ""
        said.append(f"same SKU {_listing(skus, 2)}{every}")
        weight += 0.3 if every else 0.2
    if gtins:
        said.append(f"same barcode {_listing(gtins, 2)}")
        weight += 0.3
    if a.description and a.description == b.description and a.description not in boilerplate:
        said.append("same description")
        weight += 0.15
    images = a.images & b.images
    if images:
        said.append(f"same image{'s' if len(images) > 1 else ''} ({len(images)})")
        weight += 0.15
    if a.combos == b.combos and a.has_options:
        said.append("same options")
        weight += 0.05
    if a.prices and a.prices == b.prices:
        said.append(f"same price {_money(a.prices[0])}")
        weight += 0.1
    elif a.prices and b.prices:
        said.append(f"prices {_money(a.prices[0])} and {_money(b.prices[0])}")
    return said, weight


def _fuzzy_words(signals: Mapping[str, float]) -> list[str]:
    """The matcher's signals in words."""
    said = []
    model = signals.get("model", float("nan"))
    if model == model and model >= 0.9:
        said.append("same model number")
    elif model == model and model >= 0.8:
        said.append("model numbers of one series")
    title = signals.get("title", float("nan"))
    if title == title:
        said.append(f"titles {round(title * 100)}% alike")
    brand = signals.get("brand", float("nan"))
    if brand == brand:
        said.append("same brand" if brand >= 0.5 else "brands differ")
    price = signals.get("price", float("nan"))
    if price == price:
        said.append(
            "prices within 10%" if price >= 0.9 else f"prices {round((1 - price) * 100)}% apart"
        )
    return said


class Review:
    """Decides on candidate pairs and writes the queue and the variant groups."""

    def __init__(
        self,
        records: Callable[[list[tuple[str, str]]], dict[tuple[str, str], list[dict[str, Any]]]],
        vocabulary: VariantWords,
        shared_descriptions: set[str],
        handles_given: bool,
    ) -> None:
        """``records(nodes)`` gives the products' rows (``FACT_COLUMNS`` at least) by
        node, ``shared_descriptions`` the
        boilerplate descriptions (``boilerplate``), ``handles_given`` as for
        ``deduplicate``."""
        self._records = records
        self.vocabulary = vocabulary
        self.boilerplate = shared_descriptions
        self.handles_given = handles_given
        self._facts: dict[tuple[str, str], Facts] = {}

    def prefetch(self, nodes: Iterable[tuple[str, str]]) -> None:
        """Read the facts of many products at once (one read of their rows)."""
        missing = sorted({n for n in nodes if n not in self._facts})
        for node, rows in self._records(missing).items():
            self._facts[node] = facts(node[1], rows)

    def facts(self, node: tuple[str, str]) -> Facts:
        """The facts of one product node (kept, since pairs ask for them again)."""
        if node not in self._facts:
            self.prefetch([node])
        return self._facts[node]

    def decide(self, candidate: Candidate) -> Decision | None:
        """What a candidate is: listed twice, a possible duplicate, siblings, or nothing."""
        a, b = self.facts(candidate.a), self.facts(candidate.b)
        sibling = sibling_reason(a, b, self.vocabulary, self.handles_given)
        if sibling is not None:
            if same_family(a, b, self.vocabulary):
                return Decision("variants", candidate.score, sibling)
            return None
        both_in_file = candidate.a[0] == candidate.b[0] == "b"
        shared, weight = _shared_evidence(a, b, self.boilerplate)
        same_title = bool(a.title_words) and a.title_words == b.title_words
        same_brand = a.brand == b.brand or not a.brand or not b.brand
        if both_in_file and self.handles_given:
            return self._within_file(candidate, a, b, shared, weight, same_title and same_brand)
        if candidate.source == "fuzzy":
            said = _fuzzy_words(candidate.signals) + [
                s for s in shared if not s.startswith("prices")
            ]
            return Decision(POSSIBLE, candidate.score, "; ".join(dict.fromkeys(said)))
        keys = {"same SKU": a.skus & b.skus, "same GTIN": a.gtins & b.gtins}.get(candidate.source)
        if keys is not None and not keys:
            return None  # only placeholders in common
        if candidate.source != "same name and brand" and not _agree(a, b) and not both_in_file:
            return None
        said = [candidate.note] if candidate.note else []
        said += [s for s in shared if s not in said]
        return Decision(POSSIBLE, candidate.score, "; ".join(said))

    def _within_file(
        self,
        candidate: Candidate,
        a: Facts,
        b: Facts,
        shared: list[str],
        weight: float,
        same_name: bool,
    ) -> Decision | None:
        """Two products of one file under handles of its own: listed only when they are
        the same product (then the file lists it twice), never on alike titles alone."""
        keys = bool(a.skus & b.skus or a.gtins & b.gtins)
        safe_fuzzy = (
            candidate.source == "fuzzy"
            and candidate.signals.get("model", 0.0) >= MERGE_MODEL_SIGNAL
            and candidate.signals.get("title", 0.0) >= MERGE_TITLE_SIGNAL
        )
        conflicting_gtins = bool(a.gtins and b.gtins and not (a.gtins & b.gtins))
        if conflicting_gtins and not keys:
            return None
        # Keys in common count when they cover the smaller product; a barcode alone on
        # variants of other options (Brown at 80.00, Honey at 90.00) is a data error.
        same_variants = bool(a.skus & b.skus or a.keyed_gtins & b.keyed_gtins)
        if same_name:
            said = ["same title and brand" if a.brand else "same title"]
        elif keys and _covers(a, b) and _agree(a, b) and same_variants:
            said = [f"titles agree ({a.title!r} and {b.title!r})"]
        elif safe_fuzzy:
            said = _fuzzy_words(candidate.signals)
        else:
            return None
        score = min(0.99, 0.6 + weight) if not keys or not same_name else 0.99
        said += [s for s in shared if s not in said]
        said.append("the file keeps them apart under two handles")
        return Decision(LISTED, round(score, 3), "; ".join(said))


def _groups(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Connected groups of handles, each sorted, groups by their first handle."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in pairs:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    return sorted((sorted(m) for m in members.values()), key=lambda m: m[0])


@dataclass(frozen=True)
class Queue:
    """The review queue, the variant groups, and the file's repeated listings."""

    possible: pd.DataFrame
    variants: pd.DataFrame
    listed_groups: list[list[str]]


def build_queue(review: Review, candidates: Iterable[Candidate]) -> Queue:
    """Decide on every candidate, once per unordered pair, and lay out the results.

    The queue holds the repeated listings first (one row per extra listing of a group,
    against the group's first handle), then the possible duplicates by score, at most
    ``REVIEW_PER_PRODUCT`` per product; ``rank`` numbers the rows in that order.
    """
    seen: set[frozenset[tuple[str, str]]] = set()
    listed: dict[tuple[str, str], Decision] = {}
    possible: list[tuple[Candidate, Decision]] = []
    siblings: dict[tuple[str, str], Decision] = {}
    candidates = sorted(candidates, key=lambda c: (-c.score, c.a, c.b))
    review.prefetch(node for c in candidates for node in (c.a, c.b))
    for candidate in candidates:
        pair = frozenset((candidate.a, candidate.b))
        if len(pair) < 2 or pair in seen:
            continue
        seen.add(pair)
        decision = review.decide(candidate)
        if decision is None:
            continue
        if decision.kind == LISTED:
            listed[tuple(sorted((candidate.a[1], candidate.b[1])))] = decision
        elif decision.kind == "variants":
            siblings[(candidate.a, candidate.b)] = decision
        else:
            possible.append((candidate, decision))

    rows: list[dict[str, Any]] = []
    groups = _groups(list(listed))
    linking: dict[str, list[Decision]] = {}
    for pair, decision in listed.items():
        for handle in pair:
            linking.setdefault(handle, []).append(decision)
    for number, members in enumerate(groups, start=1):
        first = members[0]
        for other in members[1:]:
            decision = listed.get((first, other)) or _best(linking, other)
            rows.append(
                {
                    "kind": LISTED,
                    "group": f"L{number}",
                    "handle": other,
                    "other_handle": first,
                    "other_in": "batch",
                    "score": decision.score,
                    "rule": decision.evidence
                    if len(members) == 2
                    else f"listed {len(members)} times; {decision.evidence}",
                }
            )
    per_product: dict[str, int] = {}
    for candidate, decision in sorted(possible, key=lambda p: (-p[1].score, p[0].a[1], p[0].b[1])):
        handle = candidate.a[1]
        if per_product.get(handle, 0) >= REVIEW_PER_PRODUCT:
            continue
        per_product[handle] = per_product.get(handle, 0) + 1
        rows.append(
            {
                "kind": POSSIBLE,
                "group": "",
                "handle": handle,
                "other_handle": candidate.b[1],
                "other_in": "catalog" if candidate.b[0] == "c" else "batch",
                "score": round(decision.score, 3),
                "rule": decision.evidence,
            }
        )
    frame = pd.DataFrame(rows, columns=[c for c in QUEUE_COLUMNS if c != "rank"])
    return Queue(renumber(frame), _variant_frame(review, siblings), groups)


def listed_counts(queue: pd.DataFrame) -> dict[str, int]:
    """The extra listings in a queue of products the file lists more than once, and how
    many products they are (``summary.json`` counts of those names)."""
    listed = queue[queue["kind"] == LISTED] if "kind" in queue.columns else queue[:0]
    return {"listed_more_than_once": len(listed), "listed_products": listed["group"].nunique()}


def listed_note(counts: Mapping[str, int], sentence: bool = False) -> str:
    """The words that tell a user the file lists products more than once, and how to
    merge them (from ``listed_counts``; with a full stop for ``sentence``); "" when it
    does not."""
    listings = counts.get("listed_more_than_once", 0)
    products = counts.get("listed_products", 0)
    if not listings:
        return ""
    many = "s are" if products != 1 else " is"
    return (
        f"{products} product{many} listed more than once in this file ({listings} extra "
        f"listing{'s' if listings != 1 else ''}, first in possible_duplicates.csv); to merge "
        f"each into one product, run again with --option {MERGE_LISTED_OPTION}=true"
        + ("." if sentence else "")
    )


def renumber(queue: pd.DataFrame) -> pd.DataFrame:
    """The queue with ``rank`` 1..n in its row order."""
    queue = queue.drop(columns="rank", errors="ignore").reset_index(drop=True)
    queue.insert(0, "rank", range(1, len(queue) + 1))
    return queue


def _best(linking: Mapping[str, list[Decision]], other: str) -> Decision:
    """The strongest decision linking ``other`` to any member of its group.

    ``linking`` holds each handle's listed decisions; a handle's pairs all lie within its
    group, since the groups are the connected parts of those pairs.
    """
    return max(linking[other], key=lambda d: d.score)


def _variant_frame(
    review: Review, siblings: dict[tuple[tuple[str, str], tuple[str, str]], Decision]
) -> pd.DataFrame:
    """One row per group of sibling products: the shared title and what tells them apart.

    A catalog product's handle is written ``handle (catalog)``.
    """

    def label(node: tuple[str, str]) -> str:
        return node[1] if node[0] == "b" else f"{node[1]} (catalog)"

    nodes = {label(n): n for pair in siblings for n in pair}
    groups = _groups([(label(a), label(b)) for a, b in siblings])
    group_of = {member: number for number, members in enumerate(groups) for member in members}
    evidence: list[list[str]] = [[] for _ in groups]
    for (a, _), decision in siblings.items():
        evidence[group_of[label(a)]].append(decision.evidence)
    rows = []
    for number, members in enumerate(groups, 1):
        differ = evidence[number - 1]
        titles = [review.facts(nodes[m]).title for m in members]
        rows.append(
            {
                "group": f"V{number}",
                "title": min(titles, key=len),
                "products": len(members),
                "handles": "; ".join(members),
                "differ_in": "; ".join(list(dict.fromkeys(differ))[:5]),
            }
        )
    return pd.DataFrame(rows, columns=list(VARIANT_COLUMNS))
