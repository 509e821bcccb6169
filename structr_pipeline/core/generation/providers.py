"""Chat-completion providers behind one interface, for LLM-written product copy.

Two providers answer ``ChatProvider.complete(messages)`` with a ``Completion`` whose text
is expected to be a JSON object:

* ``OfflineProvider`` needs no network. It composes the copy fields deterministically
  from the product facts in the last user message, using only those facts.
* ``OpenAICompatibleProvider`` posts to ``{base_url}/chat/completions`` of any
  OpenAI-compatible server (OpenAI, Ollama at ``http://host:11434/v1``, vLLM, the
  llama.cpp server). It retries 429, 5xx, timeouts and connection errors with
  exponential backoff and full jitter, honours ``Retry-After``, bounds the requests in
  flight, and never lets the API key into an error, a log line or its repr.

``estimate_cost`` prices a ``Usage`` for a few well-known OpenAI models.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from structr_pipeline.core.http_retry import (
    RequestFailure,
    backoff,
    retry_after_seconds,
    retryable_status,
    transport_reason,
)

logger = logging.getLogger(__name__)

# Characters of a response body quoted in an error message.
_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class Usage:
    """Tokens used by one or more requests."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        """The usage of both, token counts summed."""
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Prompt and completion tokens together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    """One answer of a chat model: its message content, the tokens used and the model."""

    text: str
    usage: Usage
    model: str


class ProviderError(RequestFailure):
    """A request that failed for good.

    The message names the status or timeout and the number of attempts; it never
    contains the API key. ``retryable`` is true when the failure was transient (the
    attempts ran out), false when repeating the request cannot help (a 4xx other than
    429, a malformed response).
    """


@runtime_checkable
class ChatProvider(Protocol):
    """Anything that answers a list of chat messages with a ``Completion``."""

    name: str
    model: str

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        """The model's answer to ``messages`` (``{"role": ..., "content": ...}`` dicts)."""
        ...


# --------------------------------------------------------------------------- costs

# USD per 1M tokens (input, output), from https://openai.com/api/pricing as of 2025-04
# (standard tier, uncached input). Check the page before relying on these figures.
_PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3-mini": (1.10, 4.40),
}
# A dated snapshot of a listed model, e.g. ``gpt-4o-mini-2024-07-18``.
_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$|-\d{4}$")


def estimate_cost(usage: Usage, model: str) -> float | None:
    """The USD cost of ``usage`` on ``model``, or None for a model without a known price.

    Dated snapshots (``gpt-4o-2024-08-06``) cost what their model costs; local models
    (Ollama, vLLM, llama.cpp) and anything else unknown give None.
    """
    key = model.strip().lower()
    key = key.removeprefix("openai/")
    prices = _PRICES_PER_MILLION.get(key) or _PRICES_PER_MILLION.get(_SNAPSHOT_SUFFIX.sub("", key))
    if prices is None:
        return None
    prompt_price, completion_price = prices
    return (usage.prompt_tokens * prompt_price + usage.completion_tokens * completion_price) / 1e6


# --------------------------------------------------------------------------- offline

SEO_TITLE_MAX = 60
TITLE_MAX = 70
META_DESCRIPTION_MAX = 160
BULLET_MAX = 120
IMAGE_ALT_MAX = 125
INTRO_MAX = 600
MIN_BULLETS = 3
MAX_BULLETS = 5

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TRAILING_JUNK = " ,;:-–—|/&("


def _clean(value: Any) -> str:
    """A fact as one line of text: None and non-text made empty, whitespace collapsed."""
    if value is None or isinstance(value, dict | list):
        return ""
    return _SPACE.sub(" ", str(value)).strip()


def trim_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary.

    A single word longer than the limit is cut inside the word; separators and dangling
    punctuation left at the end are dropped.
    """
    text = _clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:limit]
    return cut.rstrip(_TRAILING_JUNK) or text[:limit]


def _as_list(value: Any) -> list[Any]:
    """A list fact from a list, a comma-separated string or nothing."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return [value]


def _avoided(text: str, avoid: list[str]) -> bool:
    """Whether ``text`` contains one of the brand voice's phrases to avoid."""
    lowered = text.lower()
    return any(phrase and phrase in lowered for phrase in avoid)


def _facts_from_messages(messages: list[dict[str, str]]) -> dict[str, Any]:
    """The product facts: the JSON object in the last user message."""
    content = next(
        (m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), None
    )
    if content is None:
        raise ProviderError("offline provider: no user message with product facts", retryable=False)
    try:
        facts = json.loads(content)
    except (TypeError, ValueError):
        # Tolerate a prompt that wraps the JSON object in prose.
        start, end = str(content).find("{"), str(content).rfind("}")
        try:
            facts = json.loads(str(content)[start : end + 1]) if 0 <= start < end else None
        except ValueError:
            facts = None
    if not isinstance(facts, dict):
        raise ProviderError(
            "offline provider: the last user message is not a JSON object of product facts",
            retryable=False,
        )
    return facts


def compose_offline_copy(facts: dict[str, Any]) -> dict[str, Any]:
    """Copy fields composed only from ``facts``, each trimmed to its limit.

    Nothing is invented: every phrase is a fact from the input (title, vendor, type,
    category, option values, description sentences, image alt texts) or a label for one.
    The price is left out of the copy, which would go stale when it changes. Sentences
    and bullets containing a phrase of ``brand_voice.avoid`` are dropped.
    """
    voice = facts.get("brand_voice") if isinstance(facts.get("brand_voice"), dict) else {}
    avoid = [_clean(a).lower() for a in _as_list(voice.get("avoid"))]
    avoid = [a for a in avoid if a]

    title = _clean(facts.get("title"))
    vendor = _clean(facts.get("vendor"))
    product_type = _clean(facts.get("product_type"))
    category = _clean(facts.get("category"))
    kind = product_type or category.split(">")[-1].strip()
    name = title or " ".join(p for p in (vendor, kind) if p) or "Product"

    # Each line of the description text (a paragraph or a list item) ends a sentence.
    lines = str(facts.get("description_text") or "").splitlines()
    sentences = [
        s if s[-1] in ".!?" else s + "."
        for line in lines
        for s in (_clean(s) for s in _SENTENCE_END.split(_clean(line)))
        if s and not _avoided(s, avoid)
    ]

    out_title = trim_words(name, TITLE_MAX)
    seo_title = name
    if vendor and vendor.lower() not in name.lower():
        seo_title = f"{name} | {vendor}"
    if len(seo_title) > SEO_TITLE_MAX:
        seo_title = name
    seo_title = trim_words(seo_title, SEO_TITLE_MAX)

    bullets: list[str] = []

    def add_bullet(text: str) -> None:
        text = trim_words(text, BULLET_MAX)
        if text and not _avoided(text, avoid) and text.lower() not in {b.lower() for b in bullets}:
            bullets.append(text)

    for option in _as_list(facts.get("options")):
        if not isinstance(option, dict):
            continue
        option_name = _clean(option.get("name"))
        values = [_clean(v) for v in _as_list(option.get("values"))]
        values = [v for v in values if v]
        if option_name and values and option_name.lower() != "title":
            add_bullet(f"{option_name}: {', '.join(values)}")
    if vendor:
        add_bullet(f"Brand: {vendor}")
    if kind:
        add_bullet(f"Type: {kind}")
    for sentence in sentences:
        if len(bullets) >= MIN_BULLETS:
            break
        add_bullet(sentence.rstrip("."))
    if category and category != kind:
        add_bullet(f"Category: {category}")
    if len(bullets) < MIN_BULLETS:
        add_bullet(name)
    fillers = ["See the images for details"] if _as_list(facts.get("images")) else []
    for filler in [*fillers, "Ask us for more details", "Contact us with any questions"]:
        if len(bullets) >= MIN_BULLETS:
            break
        add_bullet(filler)
    bullets = bullets[:MAX_BULLETS]

    if sentences:
        intro = trim_words(" ".join(sentences), INTRO_MAX)
    else:
        intro = name + (f" by {vendor}" if vendor and vendor.lower() not in name.lower() else "")
        intro += "."
    items = "".join(f"<li>{html.escape(b, quote=False)}</li>" for b in bullets)
    description_html = f"<p>{html.escape(intro, quote=False)}</p><ul>{items}</ul>"

    if sentences:
        meta = " ".join(sentences)
    else:
        meta = intro + (f" {kind}." if kind and kind.lower() not in intro.lower() else "")
    meta_description = trim_words(meta, META_DESCRIPTION_MAX)

    image_alt: list[str] = []
    for image in _as_list(facts.get("images")):
        alt = _clean(image.get("alt")) if isinstance(image, dict) else ""
        image_alt.append(trim_words(alt or name, IMAGE_ALT_MAX))

    return {
        "seo_title": seo_title,
        "title": out_title,
        "description_html": description_html,
        "bullets": bullets,
        "meta_description": meta_description,
        "image_alt": image_alt,
    }


class OfflineProvider:
    """A deterministic provider without network, for tests, demos and air-gapped runs.

    Reads the product facts from the last user message (a JSON object with ``title``,
    ``vendor``, ``product_type``, ``category``, ``tags``, ``description_text``,
    ``options``, ``price``, ``currency``, ``images`` and ``brand_voice``) and answers
    with the copy fields of ``compose_offline_copy`` as JSON. Usage is zero.
    """

    name = "offline"
    model = "offline-template-v1"
    cpu_bound = True

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        """The copy fields composed from the facts in the last user message, as JSON."""
        copy = compose_offline_copy(_facts_from_messages(messages))
        text = json.dumps(copy, ensure_ascii=False, sort_keys=True)
        return Completion(text=text, usage=Usage(), model=self.model)

    def __repr__(self) -> str:
        return f"OfflineProvider(model={self.model!r})"


# --------------------------------------------------------------------------- OpenAI-compatible


def _excerpt(text: str) -> str:
    """The start of a response body, on one line, for an error message."""
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


class OpenAICompatibleProvider:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    ``base_url`` ends before ``/chat/completions`` (``https://api.openai.com/v1``,
    ``http://localhost:11434/v1``). Requests ask for a JSON object answer at temperature
    0.2. 429, 5xx, timeouts and connection errors are retried up to ``max_attempts``
    times with exponential backoff and full jitter (``backoff_base * 2**n``, at most
    ``backoff_max`` seconds), or after ``Retry-After`` when the server sends one (also
    capped by ``backoff_max``). At most ``max_in_flight`` requests run at once; waiting
    between attempts does not hold a slot. One ``httpx.AsyncClient`` is shared by all
    requests made in the same event loop; call ``aclose`` when done.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_in_flight: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.url = f"{self.base_url}/chat/completions"
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_in_flight = max_in_flight
        self._api_key = api_key or None
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return (
            f"OpenAICompatibleProvider(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={key})"
        )

    def _client_for_loop(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The shared client and semaphore, made anew when the running event loop changed."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._semaphore is None or self._loop is not loop:
            headers = {"Accept": "application/json"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            limits = httpx.Limits(max_connections=self.max_in_flight)
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.timeout),
                limits=limits,
                transport=self._transport,
            )
            self._semaphore = asyncio.Semaphore(self.max_in_flight)
            self._loop = loop
        return self._client, self._semaphore

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        client, self._client, self._semaphore, self._loop = self._client, None, None, None
        if client is not None:
            await client.aclose()

    def _scrub(self, text: str) -> str:
        """``text`` with the API key masked, should a server echo it back."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def _error(
        self, reason: str, *, retryable: bool, attempts: int, status: int | None = None
    ) -> ProviderError:
        attempt_word = "attempt" if attempts == 1 else "attempts"
        message = f"{self.name} request to {self.url} failed after {attempts} {attempt_word}: "
        return ProviderError(
            self._scrub(message + reason), retryable=retryable, status=status, attempts=attempts
        )

    async def complete(self, messages: list[dict[str, str]]) -> Completion:
        """The model's answer to ``messages``; raises ``ProviderError`` when it fails for good."""
        client, semaphore = self._client_for_loop()
        payload = {
            "model": self.model,
            "messages": messages,
            "response_format": {"type": "json_object"},
            "temperature": 0.2,
        }
        for attempt in range(1, self.max_attempts + 1):
            retry_after: float | None = None
            status: int | None = None
            try:
                async with semaphore:
                    response = await client.post(self.url, json=payload)
            except httpx.UnsupportedProtocol as exc:
                raise self._error(
                    f"unsupported URL ({exc})", retryable=False, attempts=attempt
                ) from None
            except httpx.TransportError as exc:
                reason = transport_reason(exc, self.timeout)
            else:
                status = response.status_code
                if response.is_success:
                    return self._parse(response, attempt)
                reason = f"HTTP {status}: {_excerpt(response.text)}"
                if not retryable_status(status):
                    raise self._error(reason, retryable=False, attempts=attempt, status=status)
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if attempt == self.max_attempts:
                raise self._error(reason, retryable=True, attempts=attempt, status=status)
            delay = backoff(
                attempt, base=self.backoff_base, maximum=self.backoff_max, retry_after=retry_after
            )
            logger.warning(
                "%s",
                self._scrub(
                    f"{self.name} request to {self.url} attempt {attempt}/{self.max_attempts} "
                    f"failed ({reason}); retrying in {delay:.2f}s"
                ),
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse(self, response: httpx.Response, attempts: int) -> Completion:
        """The completion in a 2xx response; a malformed body is a non-retryable error."""

        def malformed(what: str) -> ProviderError:
            reason = f"malformed response ({what}): {_excerpt(response.text)}"
            return self._error(
                reason, retryable=False, attempts=attempts, status=response.status_code
            )

        try:
            data = response.json()
        except ValueError:
            raise malformed("body is not JSON") from None
        if not isinstance(data, dict):
            raise malformed("body is not a JSON object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise malformed("no choices")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise malformed("no choices[0].message.content")
        usage_data = data.get("usage") if isinstance(data.get("usage"), dict) else {}

        def tokens(key: str) -> int:
            value = usage_data.get(key)
            return value if isinstance(value, int) and value >= 0 else 0

        usage = Usage(tokens("prompt_tokens"), tokens("completion_tokens"))
        model = data.get("model") if isinstance(data.get("model"), str) else self.model
        return Completion(text=content, usage=usage, model=model or self.model)
