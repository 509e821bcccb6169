"""Propose a mapping of any supplier CSV's columns onto the canonical product fields.

Each (column, field) pair gets a score from two kinds of evidence:

- the header, normalized (case, accents, camelCase/snake/kebab, punctuation, unit
  parentheses) and compared with the vocabulary in ``vocabulary.py``;
- the values, profiled by ``profiling.py``: they confirm or veto what the header says,
  and decide alone when the header says nothing (``col_3``).

A global assignment then gives each canonical field to at most one column, maximizing
the total score; a column whose best remaining score is below ``MIN_SCORE`` stays
unmapped (kept as an extra attribute). Price columns are resolved as a family (price,
list price, cost), weights get the factor that turns their unit into grams.

Header similarity uses rapidfuzz's ``token_sort_ratio`` (word order does not matter:
"price regular" is "regular price"), together with ``ratio`` on the header with its spaces
removed (so ``urlkey``, ``ArtNr`` and ``shipweight`` meet ``url key``, ``art nr`` and
``ship weight``). Both penalize extra words, unlike ``token_set_ratio``, ``partial_ratio``
or ``WRatio``, which would call ``Attribute 1 name`` a perfect match for ``name``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.optimize import linear_sum_assignment

from structr_pipeline.core.fields import BOOKKEEPING_COLUMNS, CANONICAL_FIELDS
from structr_pipeline.core.mapping import vocabulary as vocab
from structr_pipeline.core.mapping.profiling import ColumnProfile, money_values, profile_column

CANONICAL_TARGETS: tuple[str, ...] = CANONICAL_FIELDS

# Rows of the sample looked at (the first ones).
SAMPLE_ROWS = 1000
# A column whose best score is below this stays unmapped.
MIN_SCORE = 0.45
# Header similarity below this is no match at all; above it (but not exact) a fuzzy one.
FUZZY_MIN = 0.78
# The weight of a fuzzy header match relative to an exact one, and of a weak synonym.
FUZZY_WEIGHT = 0.9
WEAK_WEIGHT = 0.75
# Strings this short match only exactly: "vk" must not resemble "ek".
EXACT_ONLY_LENGTH = 4
# Value fit below which the values contradict the header.
VETO = 0.2
# The most a score may reach on values alone, per field (fields absent here never map
# from values alone: their values look like too many other things).
VALUE_CAPS: dict[str, float] = {
    "barcode": 0.75,
    "image_src": 0.75,
    "description_html": 0.72,
    "handle": 0.7,
    "price": 0.7,
    "status": 0.68,
    "inventory_qty": 0.65,
    "category": 0.65,
    "compare_at_price": 0.62,
    "title": 0.62,
    "sku": 0.6,
    "vendor": 0.58,
    "cost_per_item": 0.55,
}
# How much values alone count, by what the header is: says nothing, is a word we do not
# know, or is a name we recognize (for another field or for no field).
VALUES_WEIGHT = {"placeholder": 1.0, "unknown": 0.65, "known": 0.2}
OPTION_VALUES = ("option1_value", "option2_value", "option3_value")
# Share of shared rows on which one price column must be ≥ (≤) another to be above (below) it.
ORDER_SHARE = 0.9
ORDER_STRICT = 0.2


@dataclass(frozen=True)
class ColumnProposal:
    """The proposed canonical field for one source column, with the evidence for it."""

    column: str
    field: str | None
    confidence: float
    evidence: tuple[str, ...]
    unit_factor: float | None = None


@dataclass(frozen=True)
class MappingProposal:
    """A proposal for every source column, in header order."""

    columns: dict[str, ColumnProposal]

    def field_sources(self) -> dict[str, str]:
        """Canonical field → source column, for the mapped columns."""
        return {p.field: p.column for p in self.columns.values() if p.field is not None}

    def to_dict(self) -> dict:
        """Plain data: ``{column: {"field", "confidence", "evidence", "unit_factor"}}``."""
        return {
            column: {
                "field": p.field,
                "confidence": p.confidence,
                "evidence": list(p.evidence),
                "unit_factor": p.unit_factor,
            }
            for column, p in self.columns.items()
        }


# --- header normalization --------------------------------------------------------------

_BRACKETS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_TOKENS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Header:
    """A normalized header: its word forms (digits apart), digits and weight unit."""

    texts: tuple[str, ...]
    digits: tuple[str, ...]
    unit: str | None
    placeholder: bool


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text.replace("#", " number ").replace("№", " number "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _CAMEL.sub(" ", text).casefold()
    return _TOKENS.findall(_LETTER_DIGIT.sub(" ", text))


@lru_cache(maxsize=4096)
def _normalize(header: str) -> _Header:
    """Normalize a header (or a vocabulary entry) for comparison."""
    units: list[str] = []

    def drop_bracket(match: re.Match[str]) -> str:
        units.extend(t for t in _tokens(match.group(1)) if t in vocab.WEIGHT_UNITS)
        return " "

    tokens = _tokens(_BRACKETS.sub(drop_bracket, header))
    digits = tuple(t for t in tokens if t.isdigit())
    words = [t for t in tokens if not t.isdigit()]
    texts = [" ".join(words)]
    # A trailing unit (weight_lbs, Gewicht in kg) is dropped in a second form of the text.
    if len(words) >= 2 and words[-1] in vocab.WEIGHT_UNITS:
        units.append(words[-1])
        rest = words[:-1]
        if len(rest) >= 2 and rest[-1] in vocab.UNIT_PREPOSITIONS:
            rest = rest[:-1]
        texts.append(" ".join(rest))
    placeholder = all(w in vocab.PLACEHOLDER_WORDS or len(w) == 1 for w in words)
    return _Header(tuple(texts), digits, units[0] if units else None, placeholder)


@dataclass(frozen=True)
class _Entry:
    """One vocabulary name: the field it names (None: a known non-field column)."""

    name: str
    target: str | None
    weight: float
    text: str
    digits: tuple[str, ...]


@lru_cache(maxsize=1)
def _entries() -> tuple[_Entry, ...]:
    raw: list[tuple[str, str | None, float]] = []
    for target, names in vocab.SYNONYMS.items():
        raw.extend((name, target, 1.0) for name in names)
    for target, names in vocab.WEAK_SYNONYMS.items():
        raw.extend((name, target, WEAK_WEIGHT) for name in names)
    raw.extend((name, "option_value", 1.0) for name in vocab.OPTION_WORDS)
    raw.extend((name, None, 1.0) for name in vocab.NOT_FIELDS)
    entries = []
    for name, target, weight in raw:
        norm = _normalize(name)
        entries.append(_Entry(name, target, weight, norm.texts[0], norm.digits))
    return tuple(entries)


@dataclass(frozen=True)
class _Match:
    """The best vocabulary entry for a (column, target): its similarity and strength."""

    entry: _Entry
    similarity: float
    strength: float


def _similarities(texts: list[str]) -> np.ndarray:
    """Similarity in [0, 1] of each text to each vocabulary entry's text."""
    entries = _entries()
    choices = [e.text for e in entries]
    sorted_ratio = process.cdist(texts, choices, scorer=fuzz.token_sort_ratio, workers=1)
    compact = process.cdist(
        [t.replace(" ", "") for t in texts],
        [c.replace(" ", "") for c in choices],
        scorer=fuzz.ratio,
        workers=1,
    )
    sim = np.maximum(sorted_ratio, compact).astype(float) / 100.0
    lengths = np.array([len(c.replace(" ", "")) for c in choices])
    for i, text in enumerate(texts):
        short = np.maximum(lengths, len(text.replace(" ", ""))) <= EXACT_ONLY_LENGTH
        sim[i, short & (sim[i] < 1.0)] = 0.0
    return sim


def _header_matches(header: list[str]) -> list[dict[str | None, _Match]]:
    """For each column, the best match per target ("option_value" and None included)."""
    entries = _entries()
    norms = [_normalize(h) for h in header]
    texts = sorted({t for n in norms for t in n.texts})
    sim = _similarities(texts) if texts else np.zeros((0, len(entries)))
    row_of = {t: i for i, t in enumerate(texts)}
    results: list[dict[str | None, _Match]] = []
    for norm in norms:
        best: dict[str | None, _Match] = {}
        exact: dict[str | None, _Match] = {}
        if not norm.texts[0] and not norm.digits:
            results.append(best)
            continue
        rows = sim[[row_of[t] for t in norm.texts]].max(axis=0)
        for j in np.flatnonzero(rows >= FUZZY_MIN):
            entry = entries[j]
            similarity = float(rows[j])
            if entry.digits:
                if entry.digits != norm.digits:
                    continue
            elif norm.digits:
                # "Image 2" is a weaker image column than "Image" or "Image 1".
                number = int(norm.digits[-1]) if norm.digits[-1].isdigit() else 1
                similarity *= 1.0 - 0.02 * min(max(number - 1, 0), 10)
            is_exact = similarity >= 0.999
            strength = (1.0 if is_exact else similarity * FUZZY_WEIGHT) * entry.weight
            found = exact if is_exact else best
            current = found.get(entry.target)
            if current is None or strength > current.strength:
                found[entry.target] = _Match(entry, similarity, strength)
        # A header that is a known name exactly means that: resembling another name is noise.
        results.append(exact or best)
    return results


def _has_sale_word(column: str) -> bool:
    return any(t in vocab.SALE_PRICE_WORDS for t in _tokens(column))


# --- scoring ---------------------------------------------------------------------------


@dataclass
class _Column:
    """Everything known about one source column while the proposal is built."""

    name: str
    index: int
    norm: _Header
    matches: dict[str | None, _Match]
    profile: ColumnProfile
    money: np.ndarray | None = None
    # Money columns this one lies above (≥ on nearly all shared rows) or below, and how
    # many money columns it shares rows with.
    above: list[tuple[str, float]] = field(default_factory=list)
    below: list[tuple[str, float]] = field(default_factory=list)
    compared: int = 0

    @property
    def kind(self) -> str:
        if self.norm.placeholder:
            return "placeholder"
        return "known" if self.matches else "unknown"

    def best_field_strength(self) -> float:
        return max((m.strength for t, m in self.matches.items() if t is not None), default=0.0)

    def not_field_strength(self) -> float:
        match = self.matches.get(None)
        return match.strength if match else 0.0


def _order(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, int]:
    """Shares of shared rows where a ≥ b, a > b, a ≤ b, a < b; and the shared row count."""
    both = ~np.isnan(a) & ~np.isnan(b)
    shared = int(both.sum())
    if shared == 0:
        return 0.0, 0.0, 0.0, 0.0, 0
    x, y = a[both], b[both]
    tol = 1e-9 * np.maximum(1.0, np.abs(y))
    return (
        float(np.mean(x >= y - tol)),
        float(np.mean(x > y + tol)),
        float(np.mean(x <= y + tol)),
        float(np.mean(x < y - tol)),
        shared,
    )


def _price_order(columns: list[_Column]) -> None:
    """Find, for each money-like column, the other money columns it lies above or below."""
    money = [c for c in columns if c.money is not None]
    for a in money:
        for b in money:
            if a is b:
                continue
            ge, gt, le, lt, shared = _order(a.money, b.money)
            if shared < 3:
                continue
            a.compared += 1
            if ge >= ORDER_SHARE and gt >= ORDER_STRICT:
                a.above.append((b.name, ge))
            if le >= ORDER_SHARE and lt >= ORDER_STRICT:
                a.below.append((b.name, le))


def _relation(column: _Column, target: str) -> float:
    """How clearly the column is a list price (above the others) or a cost (below them).

    The share of rows in order with the nearest column, times the share of the other
    money columns it is above (below): of three ordered columns, the top one is the list
    price and the bottom one the cost, the middle one the price.
    """
    pairs = column.above if target == "compare_at_price" else column.below
    if not pairs or not column.compared:
        return 0.0
    return max(share for _, share in pairs) * len(pairs) / column.compared


def _fit(column: _Column, target: str) -> float | None:
    """The values' fit for ``target`` (None for an empty column), price order included."""
    profile = column.profile
    if profile.empty:
        return None
    fit = profile.fit[target]
    if target in ("compare_at_price", "cost_per_item") and column.money is not None:
        if _has_sale_word(column.name):
            return 0.0
        agrees, disagrees = (
            (column.above, column.below)
            if target == "compare_at_price"
            else (column.below, column.above)
        )
        if agrees:
            fit = min(1.0, fit + 0.15)
        elif disagrees:
            fit *= 0.4
    return fit


def _signal(column: _Column, target: str) -> float:
    """How strongly the values alone point at ``target``."""
    signal = column.profile.signal.get(target, 0.0)
    if target in ("compare_at_price", "cost_per_item"):
        if column.money is None or _has_sale_word(column.name):
            return 0.0
        signal = column.profile.signal["price"] * _relation(column, target)
    return signal


def _header_strength(column: _Column, target: str) -> _Match | None:
    if target in OPTION_VALUES:
        numbered = column.matches.get(target)
        generic = column.matches.get("option_value")
        candidates = [m for m in (numbered, generic) if m is not None]
        return max(candidates, key=lambda m: m.strength) if candidates else None
    match = column.matches.get(target)
    if match and target in ("compare_at_price", "cost_per_item") and _has_sale_word(column.name):
        return None
    return match


def _score(column: _Column, target: str) -> tuple[float, str]:
    """The score of mapping ``column`` to ``target``, and which evidence gave it."""
    match = _header_strength(column, target)
    fit = _fit(column, target)
    header_score = 0.0
    how = "none"
    if match is not None:
        strength = match.strength
        if fit is None:
            header_score, how = 0.8 * strength, "header"
        elif fit < VETO:
            header_score, how = 0.3 * strength, "conflict"
        else:
            header_score, how = strength * (0.6 + 0.4 * fit), "header+values"
    values_score = 0.0
    cap = VALUE_CAPS.get(target)
    if cap is not None and fit is not None:
        values_score = _signal(column, target) * cap * VALUES_WEIGHT[column.kind]
    if values_score > header_score:
        header_score, how = values_score, "values"
    not_field = column.not_field_strength()
    if not_field and not_field >= column.best_field_strength():
        header_score *= max(0.0, 1.0 - not_field)
    return header_score, how


# --- the proposal ----------------------------------------------------------------------


def propose_mapping(header: list[str], sample: pd.DataFrame) -> MappingProposal:
    """Propose a canonical field (or None) for every column of ``header``.

    ``sample`` holds rows of ``str`` cells with the header's columns (the first
    ``SAMPLE_ROWS`` are looked at); its other columns, such as the bookkeeping ones
    (``_source_line``, ``_parse_error``), are ignored, and a header column missing from it
    is judged on its header alone. The result lists every header column in order, with
    the field, a confidence in [0, 1] and the evidence. Deterministic for the same input.
    """
    columns = [c for c in header if c not in BOOKKEEPING_COLUMNS]
    sample = sample.head(SAMPLE_ROWS)
    matches = _header_matches(columns)
    state: list[_Column] = []
    for i, (name, match) in enumerate(zip(columns, matches, strict=True)):
        cells = _cells(sample, name)
        profile = profile_column(cells)
        column = _Column(name, i, _normalize(name), match, profile)
        if profile.fit.get("price", 0.0) >= 0.5 and profile.filled >= 3:
            column.money = money_values(cells)
        state.append(column)
    _price_order(state)

    targets = list(CANONICAL_TARGETS)
    scores = np.zeros((len(state), len(targets)))
    hows: dict[tuple[int, int], str] = {}
    for i, column in enumerate(state):
        for j, target in enumerate(targets):
            scores[i, j], hows[i, j] = _score(column, target)
    # A sale/special price is the price only when no other column can be.
    price = targets.index("price")
    sale = np.array([_has_sale_word(c.name) for c in state], dtype=bool)
    if sale.any() and (scores[~sale, price] >= MIN_SCORE).any():
        scores[sale, price] = 0.0

    assigned = _assign(scores)
    assigned = _order_options(state, targets, assigned)
    proposals = {}
    by_field = {targets[j]: state[i] for i, j in assigned.items()}
    for i, column in enumerate(state):
        j = assigned.get(i)
        if j is None:
            proposals[column.name] = _unmapped(column, scores[i], targets, by_field)
        else:
            proposals[column.name] = _mapped(column, targets[j], scores[i, j], hows[i, j], by_field)
    ordered = {c: proposals[c] for c in header if c in proposals}
    return MappingProposal(columns=ordered)


def _cells(sample: pd.DataFrame, column: str) -> list[str]:
    if column not in sample.columns:
        return []
    series = sample[column]
    if isinstance(series, pd.DataFrame):  # a duplicated column name: the first one counts
        series = series.iloc[:, 0]
    return [v if isinstance(v, str) else "" if pd.isna(v) else str(v) for v in series]


def _assign(scores: np.ndarray) -> dict[int, int]:
    """Column index → field index, each field at most once, maximizing the total score."""
    if scores.size == 0:
        return {}
    gain = np.clip(scores - MIN_SCORE, 0.0, None)
    # Ties go to the earlier column.
    ranks = np.arange(scores.shape[0])[:, None]
    gain = np.where(gain > 0, gain - 1e-7 * ranks, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if gain[r, c] > 0}


def _order_options(
    state: list[_Column], targets: list[str], assigned: dict[int, int]
) -> dict[int, int]:
    """Option columns named by a plain word (Color, Size) take option numbers in header order."""
    generic = [
        i
        for i, j in sorted(assigned.items())
        if targets[j] in OPTION_VALUES and targets[j] not in state[i].matches
    ]
    numbers = sorted(assigned[i] for i in generic)
    result = dict(assigned)
    for i, j in zip(generic, numbers, strict=True):
        result[i] = j
    return result


def _header_sentence(column: _Column, target: str) -> str | None:
    match = _header_strength(column, target)
    if match is None:
        if column.kind == "placeholder":
            return f"header '{column.name}' says nothing about the content; the values decide"
        if column.kind == "unknown":
            return f"header '{column.name}' is not a name we know; the values decide"
        return None
    label = "a variant option value" if match.entry.target == "option_value" else target
    if match.similarity >= 0.999 and match.entry.weight == 1.0:
        return f"header '{column.name}' is a known name for {label} ('{match.entry.name}')"
    if match.similarity >= 0.999:
        return f"header '{column.name}' can name {label} ('{match.entry.name}')"
    return (
        f"header '{column.name}' resembles '{match.entry.name}' "
        f"({round(match.similarity * 100)}%), a name for {label}"
    )


def _mapped(
    column: _Column, target: str, score: float, how: str, by_field: dict[str, _Column]
) -> ColumnProposal:
    evidence: list[str] = []
    header_sentence = _header_sentence(column, target)
    if header_sentence:
        evidence.append(header_sentence)
    profile = column.profile
    if profile.empty:
        evidence.append("the column is empty in the sample, so only the header speaks")
    elif how == "conflict":
        evidence.append(f"but the values do not look like {target}: {profile.reason(target)}")
    else:
        evidence.append(f"values: {profile.reason(target)}")
    if target in OPTION_VALUES:
        evidence.append(f"the option name is the header '{column.name}'")
    confidence = score
    if target in ("compare_at_price", "cost_per_item"):
        confidence, note = _price_relation(column, target, by_field.get("price"), score)
        if note:
            evidence.append(note)
    if target == "price" and _has_sale_word(column.name):
        evidence.append("a sale/special price, used because it is the only price column")
    unit_factor = None
    if target == "weight_grams":
        unit_factor, note = _unit(column)
        evidence.append(note)
    return ColumnProposal(
        column=column.name,
        field=target,
        confidence=round(min(1.0, max(0.0, confidence)), 3),
        evidence=tuple(evidence),
        unit_factor=unit_factor,
    )


def _price_relation(
    column: _Column, target: str, price: _Column | None, score: float
) -> tuple[float, str | None]:
    """Check a list price or cost against the price column; lower the score if it disagrees."""
    if price is None or column.money is None or price.money is None:
        return score, None
    ge, _, le, _, shared = _order(column.money, price.money)
    if shared < 3:
        return score, None
    share, word = (ge, "≥") if target == "compare_at_price" else (le, "≤")
    note = f"values are {word} the price column '{price.name}' on {_pct(share)} of {shared} rows"
    if share < ORDER_SHARE:
        return score * 0.75, note + " (expected nearly all)"
    return score, note


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _unit(column: _Column) -> tuple[float | None, str]:
    if column.norm.unit:
        factor = vocab.WEIGHT_UNITS[column.norm.unit]
        return factor, f"unit {column.norm.unit} from the header: × {factor:g} to grams"
    if column.profile.value_unit:
        unit, factor = column.profile.value_unit
        return factor, f"the values carry the unit {unit}: × {factor:g} to grams"
    return None, "no unit given; read as grams"


def _unmapped(
    column: _Column, scores: np.ndarray, targets: list[str], by_field: dict[str, _Column]
) -> ColumnProposal:
    evidence: list[str] = []
    not_field = column.matches.get(None)
    best_j = int(np.argmax(scores)) if scores.size else 0
    best = float(scores[best_j]) if scores.size else 0.0
    if not_field is not None and not_field.strength >= column.best_field_strength():
        evidence.append(
            f"header '{column.name}' names a column that is not a canonical field "
            f"('{not_field.entry.name}')"
        )
        confidence = max(1.0 - best, 0.95 * not_field.strength)
    elif _has_sale_word(column.name) and "price" in by_field and column.money is not None:
        evidence.append(
            f"a sale/special price: kept as an attribute because '{by_field['price'].name}' "
            "is the price"
        )
        confidence = 0.8
    elif best >= MIN_SCORE:
        target = targets[best_j]
        winner = by_field.get(target)
        sentence = _header_sentence(column, target)
        if sentence:
            evidence.append(sentence)
        if winner is not None:
            evidence.append(f"{target} went to '{winner.name}', which fits it better")
        confidence = 1.0 - best
    else:
        target = targets[best_j]
        sentence = _header_sentence(column, target) if best > 0 else None
        fit = _fit(column, target)
        if sentence and fit is not None and fit < VETO:
            evidence.append(sentence)
            evidence.append(
                f"but the values do not look like {target}: {column.profile.reason(target)}"
            )
        else:
            evidence.append("no canonical field fits the header and values")
        # A header we do not know is never certainly an extra column.
        confidence = min(1.0 - best, 0.9)
    if not column.profile.empty:
        evidence.append(f"values: {column.profile.summary}")
    return ColumnProposal(
        column=column.name,
        field=None,
        confidence=round(min(1.0, max(0.0, confidence)), 3),
        evidence=tuple(evidence),
    )


def with_overrides(proposal: MappingProposal, overrides: dict[str, str | None]) -> MappingProposal:
    """Apply a mapping profile's choices on top of a proposal; the profile wins.

    Each overridden column gets its field (or None) with confidence 1.0 and the evidence
    ``("set by the mapping profile",)``. Any other column the proposal had mapped to a
    field that the profile now gives to another column loses it (field None). Raises
    ``ValueError`` naming the column and the field when a field is not canonical.
    """
    for column, target in overrides.items():
        if target is not None and target not in CANONICAL_TARGETS:
            raise ValueError(
                f"the mapping profile maps column '{column}' to '{target}', which is not a "
                f"canonical field (one of: {', '.join(CANONICAL_TARGETS)})"
            )
    claimed: dict[str, str] = {}
    for column, target in overrides.items():
        if target is not None and target in claimed:
            raise ValueError(
                f"the mapping profile gives field '{target}' to both '{claimed[target]}' "
                f"and '{column}'"
            )
        if target is not None:
            claimed[target] = column
    result: dict[str, ColumnProposal] = {}
    for column, current in proposal.columns.items():
        if column in overrides:
            result[column] = ColumnProposal(
                column=column,
                field=overrides[column],
                confidence=1.0,
                evidence=("set by the mapping profile",),
                unit_factor=(
                    _override_unit(column, current) if overrides[column] == "weight_grams" else None
                ),
            )
        elif current.field is not None and current.field in claimed:
            result[column] = ColumnProposal(
                column=column,
                field=None,
                confidence=1.0,
                evidence=(
                    *current.evidence,
                    f"the mapping profile gives {current.field} to '{claimed[current.field]}'",
                ),
            )
        else:
            result[column] = current
    return MappingProposal(columns=result)


def _override_unit(column: str, current: ColumnProposal) -> float | None:
    """The grams factor for a column a profile maps to weight: the proposal's, or the header's."""
    if current.unit_factor is not None:
        return current.unit_factor
    unit = _normalize(column).unit
    return vocab.WEIGHT_UNITS[unit] if unit else None
