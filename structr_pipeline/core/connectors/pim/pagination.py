"""Dotted paths into JSON bodies, and the paginators that walk a list endpoint page by page.

A paginator turns the first request (URL and query parameters) and each response into
the next request, or None at the end. It knows nothing of HTTP errors or retries: the
client sends the requests. Every kind stops at an empty page, so a server that keeps
announcing more pages without sending items cannot keep the client busy forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from structr_pipeline.core.connectors.pim.specs import PaginationConfig


class _Missing:
    """The value of a path that leads nowhere (distinct from a JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class PathTypeError(ValueError):
    """A dotted path that runs into a value of the wrong type (a key asked of a string)."""

    def __init__(self, path: str, at: str, found: Any) -> None:
        self.path = path
        self.at = at
        super().__init__(f"'{at}' is {json_type(found)}, so '{path}' cannot be read")


def json_type(value: Any) -> str:
    """The JSON name of a value's type, with its article (``an object``, ``a number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``values.price.0.amount``), or ``MISSING``.

    Keys index objects, whole numbers index arrays, the empty path is ``data`` itself. A
    missing key, an index past the end or a null on the way gives ``MISSING``; a string,
    number or boolean on the way (or a key asked of an array) raises ``PathTypeError``.
    """
    if not path:
        return data
    current = data
    walked: list[str] = []
    for segment in path.split("."):
        if current is None:
            return MISSING
        if isinstance(current, dict):
            if segment not in current:
                return MISSING
            current = current[segment]
        elif isinstance(current, list):
            try:
                index = int(segment)
            except ValueError:
                raise PathTypeError(path, ".".join(walked) or path, current) from None
            if not -len(current) <= index < len(current):
                return MISSING
            current = current[index]
        else:
            raise PathTypeError(path, ".".join(walked) or path, current)
        walked.append(segment)
    return current


def find_path(data: Any, path: str | None) -> Any:
    """``get_path`` that treats a path running into the wrong type as missing."""
    if path is None:
        return MISSING
    try:
        return get_path(data, path)
    except PathTypeError:
        return MISSING


@dataclass(frozen=True)
class PageRequest:
    """One list request: an absolute URL and its query parameters (in order)."""

    url: str
    params: tuple[tuple[str, str], ...] = ()
    number: int = 1

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What makes two requests the same request (to notice a pagination loop)."""
        return self.url, tuple(sorted(self.params))

    def with_params(self, **changes: str) -> tuple[tuple[str, str], ...]:
        """The parameters with ``changes`` set (replacing or appending)."""
        params = dict(self.params)
        params.update(changes)
        return tuple(params.items())


def _params(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), _param_text(v)) for k, v in params.items())


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _whole(value: Any) -> int | None:
    """``value`` as a whole number if the body gave one (numbers and digit strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# Response headers in which servers announce how many items the whole list holds
# (json-server and many REST APIs, GitLab-style APIs, WordPress).
TOTAL_HEADERS = ("x-total-count", "x-total", "x-wp-total")


def announced_total(config: PaginationConfig, response: httpx.Response, body: Any) -> int | None:
    """How many items the server says the whole list holds, or None if it does not say.

    The body's ``total_path`` when the source has one, else the first of
    ``TOTAL_HEADERS`` the response carries.
    """
    if config.total_path is not None:
        total = _whole(find_path(body, config.total_path))
        if total is not None:
            return total
    for name in TOTAL_HEADERS:
        total = _whole(response.headers.get(name))
        if total is not None:
            return total
    return None


class Paginator:
    """Builds the first request of a list and each next one from the last response."""

    def __init__(self, config: PaginationConfig, page_size: int) -> None:
        self.config = config
        self.page_size = page_size

    def first(self, url: str, params: Mapping[str, Any]) -> PageRequest:
        """The request for the first page."""
        cfg = self.config
        extra: dict[str, Any] = {}
        if cfg.kind == "page":
            extra = {cfg.page_param: cfg.first_page, cfg.size_param: self.page_size}
        elif cfg.kind == "offset":
            extra = {cfg.offset_param: 0, cfg.limit_param: self.page_size}
        elif cfg.kind == "link_header" and cfg.page_param:
            extra = {cfg.page_param: cfg.first_page, cfg.size_param: self.page_size}
        elif cfg.kind in ("cursor", "link_header", "next_url"):
            extra = {cfg.size_param: self.page_size}
        return PageRequest(url, _params({**params, **extra}))

    def next(
        self, previous: PageRequest, response: httpx.Response, body: Any, count: int
    ) -> PageRequest | None:
        """The request for the page after ``previous`` (which gave ``count`` items), or None."""
        cfg = self.config
        if cfg.kind == "none" or count == 0:
            return None
        number = previous.number + 1
        if cfg.kind == "page":
            current = _whole(dict(previous.params).get(cfg.page_param)) or cfg.first_page
            pages = _whole(find_path(body, cfg.page_count_path))
            if pages is not None and current - cfg.first_page + 1 >= pages:
                return None
            params = previous.with_params(**{cfg.page_param: str(current + 1)})
            return PageRequest(previous.url, params, number)
        if cfg.kind == "offset":
            offset = (_whole(dict(previous.params).get(cfg.offset_param)) or 0) + count
            total = announced_total(cfg, response, body)
            if total is not None and offset >= total:
                return None
            params = previous.with_params(**{cfg.offset_param: str(offset)})
            return PageRequest(previous.url, params, number)
        if cfg.kind == "cursor":
            cursor = find_path(body, cfg.cursor_path)
            if cursor is MISSING or cursor is None or cursor == "" or isinstance(cursor, bool):
                return None
            cursor_text = _param_text(cursor)
            if dict(previous.params).get(cfg.cursor_param) == cursor_text:
                return None
            params = previous.with_params(**{cfg.cursor_param: cursor_text})
            return PageRequest(previous.url, params, number)
        if cfg.kind == "link_header":
            target = response.links.get("next", {}).get("url")
        else:
            target = find_path(body, cfg.next_url_path)
        if not isinstance(target, str) or not target.strip():
            return None
        return PageRequest(urljoin(str(response.url), target.strip()), (), number)
