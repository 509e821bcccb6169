"""Cell values as plain Python: what every stage means by "empty"."""

from __future__ import annotations

import math
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
