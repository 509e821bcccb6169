"""Cell values as plain Python: what every stage means by "empty"."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def as_text(value: Any) -> str:
    """A frame cell as text: None, NaN and pandas' NA are the empty string."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
