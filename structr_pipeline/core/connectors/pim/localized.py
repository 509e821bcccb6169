"""Localized PIM values (``{"en-US": …, "de-DE": …}``) reduced to the one locale wanted."""

from __future__ import annotations

import re
from typing import Any

_LOCALE_KEY = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def pick_locale(value: Any, locale: str | None, detect: bool = False) -> Any:
    """A localized value (``{"en-US": …, "de-DE": …}``) reduced to the one for ``locale``.

    An object with a ``locale`` key gives that key's value. With ``detect`` (a Contentful
    entry fetched with ``locale=*``), an object whose keys all look like locale codes is
    taken as localized and gives its first value when ``locale`` is not among them (the
    default locale comes first in Contentful's answers). Anything else passes unchanged.
    """
    if not isinstance(value, dict) or not value or "sys" in value or "nodeType" in value:
        return value
    if locale is not None and locale in value:
        return value[locale]
    if detect and all(isinstance(k, str) and _LOCALE_KEY.fullmatch(k) for k in value):
        return next(iter(value.values()))
    return value
