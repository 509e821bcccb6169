"""Cell values as plain Python: what every stage means by "empty", and how keys compare."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")


def as_text(value: Any) -> str:
    """A frame cell as text: None, NaN and pandas' NA are the empty string."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def map_distinct(values: Iterable[Hashable], fn: Callable[[Any], T]) -> list[T]:
    """``fn`` applied to each value, computed once per distinct value (columns repeat a lot)."""
    memo: dict[Hashable, T] = {}
    out: list[T] = []
    for value in values:
        try:
            out.append(memo[value])
        except KeyError:
            memo[value] = result = fn(value)
            out.append(result)
    return out


def positions_by_value(values: Iterable[Hashable]) -> dict[Any, list[int]]:
    """The positions of each distinct value, the values in order of first appearance
    (a frame's rows by handle, products in the order the file lists them)."""
    positions: dict[Any, list[int]] = {}
    for position, value in enumerate(values):
        positions.setdefault(value, []).append(position)
    return positions


def fold_text(text: str) -> str:
    """Text as it compares: NFKC, case-folded, without format characters (category Cf).

    Full-width letters and digits, ligatures (``ﬁ``), the Kelvin sign and ``ß`` fold to
    what they stand for (``fi``, ``k``, ``ss``); zero-width spaces, joiners, soft hyphens,
    byte-order marks and direction marks are dropped. Whitespace is left as it is.
    """
    if text.isascii():
        return text.lower()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    # Case folding can leave a string that is no longer NFKC (e.g. ``ǰ``), hence twice.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def sku_key(sku: Any) -> str:
    """A SKU as it is compared: ``fold_text`` without any whitespace ("" for an empty cell).

    ``' ab-12 '``, ``'AB-12'``, ``'ＡＢ－１２'`` and ``AB-12`` with a zero-width space in it
    are one key. Only comparisons use this; the SKU is stored and exported as written.
    """
    return "".join(fold_text(as_text(sku)).split())


_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A URL handle from any text, as Shopify derives one from a title: lower-case ASCII
    letters and digits joined by ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")
