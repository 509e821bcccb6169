"""What the webhook receiver accepts, read from environment variables.

Endpoints and their variables:

``POST /webhooks/shopify``
    ``SHOPIFY_WEBHOOK_SECRET``: the app's client secret. Every delivery must carry
    ``X-Shopify-Hmac-Sha256``, the base64 HMAC-SHA256 of the raw body under this secret.
    Topics (``X-Shopify-Topic``): ``products/create``, ``products/update``,
    ``products/delete``. Delivery id: ``X-Shopify-Webhook-Id``.

``POST /webhooks/contentful``
    ``STRUCTR_CONTENTFUL_WEBHOOK_SECRET``: the shared secret.
    ``STRUCTR_CONTENTFUL_WEBHOOK_AUTH``: ``secret`` (default) or ``hmac``. With ``secret``
    the header carries the secret itself (a custom header set on the Contentful webhook);
    with ``hmac`` it carries the HMAC-SHA256 of the raw body, hex or base64, optionally
    prefixed ``sha256=``.
    ``STRUCTR_CONTENTFUL_WEBHOOK_HEADER``: the header that carries it (default
    ``X-Structr-Webhook-Secret`` for ``secret``, ``X-Structr-Signature`` for ``hmac``).
    Topics (``X-Contentful-Topic``): the entry events ``ContentManagement.Entry.<action>``
    for create, save, auto_save, archive, unarchive, publish, unpublish and delete.
    Delivery id: ``X-Contentful-Webhook-Request-Id`` or ``X-Contentful-Idempotency-Key``
    when present, otherwise ``sha256:<hex digest of the body>``.

``POST /webhooks/generic``
    ``STRUCTR_GENERIC_WEBHOOK_SECRET``, ``STRUCTR_GENERIC_WEBHOOK_AUTH`` (``hmac`` by
    default, or ``secret``) and ``STRUCTR_GENERIC_WEBHOOK_HEADER``, as for Contentful.
    Topics (``X-Structr-Topic``): ``product.upsert``, ``product.delete``.
    Delivery id: ``X-Structr-Delivery-Id``, otherwise ``sha256:<hex digest of the body>``.

An endpoint whose secret is unset or empty answers 503 to every delivery: nothing is
ever accepted unsigned.

Limits:
    ``STRUCTR_WEBHOOK_MAX_BODY_BYTES``: the largest body accepted (default 1048576);
    larger ones get 413.
    ``STRUCTR_WEBHOOK_MAX_BATCH``: the most deliveries committed in one transaction
    (default 1000).
    ``STRUCTR_WEBHOOK_MAX_HEADERS``: the most request headers accepted (default 100);
    more get 431 before anything else is looked at.
    ``STRUCTR_WEBHOOK_MAX_HEADER_BYTES``: the largest request head, request line and
    headers (default 16384); uvicorn's HTTP parser stops reading a longer one (400), and
    one that arrived whole gets 431.
    ``STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS``: the longest a body may take to arrive,
    counted from the end of the headers (default 10); a slower one gets 408 and the
    connection is closed.
    ``STRUCTR_WEBHOOK_MAX_CONNECTIONS``: open connections and requests in flight at most
    (default 1000); beyond it uvicorn answers 503.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

AuthMode = Literal["hmac", "secret"]
AUTH_MODES: tuple[str, ...] = ("hmac", "secret")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_BATCH = 1000
DEFAULT_MAX_HEADERS = 100
DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_BODY_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 1000

SHOPIFY_TOPICS = frozenset({"products/create", "products/update", "products/delete"})
CONTENTFUL_ENTRY_ACTIONS = (
    "create",
    "save",
    "auto_save",
    "archive",
    "unarchive",
    "publish",
    "unpublish",
    "delete",
)
CONTENTFUL_TOPICS = frozenset(f"ContentManagement.Entry.{a}" for a in CONTENTFUL_ENTRY_ACTIONS)
GENERIC_TOPICS = frozenset({"product.upsert", "product.delete"})

_DEFAULT_HEADER: dict[str, str] = {
    "secret": "X-Structr-Webhook-Secret",
    "hmac": "X-Structr-Signature",
}


@dataclass(frozen=True)
class EndpointConfig:
    """One webhook endpoint: how deliveries prove who sent them, and what they may carry.

    ``auth_header`` carries the shared secret (``auth="secret"``) or the body's HMAC
    (``auth="hmac"``); ``signature_encoding`` is ``base64`` (Shopify) or ``any`` (hex or
    base64, ``sha256=`` prefix allowed). ``kept_headers`` are the request headers stored
    with a delivery (lower case; the authentication header is never among them).
    """

    name: str
    secret: str | None = field(repr=False)
    auth: AuthMode
    auth_header: str
    topic_header: str
    topics: frozenset[str]
    delivery_id_headers: tuple[str, ...]
    kept_headers: tuple[str, ...]
    signature_encoding: Literal["base64", "any"] = "any"

    @property
    def configured(self) -> bool:
        """Whether a secret is set (an endpoint without one accepts nothing)."""
        return bool(self.secret)

    def stored_headers(self) -> tuple[str, ...]:
        """The kept headers minus the authentication header, lower case."""
        auth = self.auth_header.lower()
        return tuple(h.lower() for h in self.kept_headers if h.lower() != auth)


@dataclass(frozen=True)
class WebhookConfig:
    """The receiver's endpoints and limits (see this module's docstring for each)."""

    endpoints: dict[str, EndpointConfig]
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    max_headers: int = DEFAULT_MAX_HEADERS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookConfig:
        """Read the variables listed in this module's docstring.

        Raises ``ValueError`` naming the variable when one holds an unusable value.
        """
        env = os.environ if environ is None else environ
        endpoints = {
            "shopify": shopify_endpoint(env.get("SHOPIFY_WEBHOOK_SECRET") or None),
            "contentful": contentful_endpoint(
                **_shared_secret_settings(env, "CONTENTFUL", "secret")
            ),
            "generic": generic_endpoint(**_shared_secret_settings(env, "GENERIC", "hmac")),
        }
        return cls(
            endpoints=endpoints,
            max_body_bytes=_positive_int(
                env, "STRUCTR_WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES
            ),
            max_batch=_positive_int(env, "STRUCTR_WEBHOOK_MAX_BATCH", DEFAULT_MAX_BATCH),
            max_headers=_positive_int(env, "STRUCTR_WEBHOOK_MAX_HEADERS", DEFAULT_MAX_HEADERS),
            max_header_bytes=_positive_int(
                env, "STRUCTR_WEBHOOK_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES
            ),
            body_timeout_s=_positive_float(
                env, "STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_S
            ),
            max_connections=_positive_int(
                env, "STRUCTR_WEBHOOK_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS
            ),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {value}")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be greater than 0, not {text}")
    return value


def _shared_secret_settings(env: Mapping[str, str], prefix: str, default_auth: str) -> dict:
    auth_var = f"STRUCTR_{prefix}_WEBHOOK_AUTH"
    auth = (env.get(auth_var) or default_auth).strip().lower()
    if auth not in AUTH_MODES:
        raise ValueError(f"{auth_var} must be 'secret' or 'hmac', not {auth!r}")
    header = (env.get(f"STRUCTR_{prefix}_WEBHOOK_HEADER") or "").strip() or None
    return {
        "secret": env.get(f"STRUCTR_{prefix}_WEBHOOK_SECRET") or None,
        "auth": auth,
        "auth_header": header,
    }


def shopify_endpoint(secret: str | None) -> EndpointConfig:
    """The Shopify endpoint: base64 HMAC-SHA256 in ``X-Shopify-Hmac-Sha256``."""
    return EndpointConfig(
        name="shopify",
        secret=secret,
        auth="hmac",
        auth_header="X-Shopify-Hmac-Sha256",
        topic_header="X-Shopify-Topic",
        topics=SHOPIFY_TOPICS,
        delivery_id_headers=("X-Shopify-Webhook-Id",),
        kept_headers=(
            "content-type",
            "x-shopify-topic",
            "x-shopify-webhook-id",
            "x-shopify-event-id",
            "x-shopify-shop-domain",
            "x-shopify-api-version",
            "x-shopify-triggered-at",
        ),
        signature_encoding="base64",
    )


def contentful_endpoint(
    secret: str | None, auth: AuthMode = "secret", auth_header: str | None = None
) -> EndpointConfig:
    """The Contentful endpoint: entry events, authenticated by a shared secret or an HMAC."""
    return EndpointConfig(
        name="contentful",
        secret=secret,
        auth=auth,
        auth_header=auth_header or _DEFAULT_HEADER[auth],
        topic_header="X-Contentful-Topic",
        topics=CONTENTFUL_TOPICS,
        delivery_id_headers=("X-Contentful-Webhook-Request-Id", "X-Contentful-Idempotency-Key"),
        kept_headers=(
            "content-type",
            "x-contentful-topic",
            "x-contentful-webhook-name",
            "x-contentful-webhook-request-id",
            "x-contentful-idempotency-key",
            "x-contentful-crn",
        ),
    )


def generic_endpoint(
    secret: str | None, auth: AuthMode = "hmac", auth_header: str | None = None
) -> EndpointConfig:
    """The generic endpoint: ``product.upsert`` and ``product.delete`` from any system."""
    return EndpointConfig(
        name="generic",
        secret=secret,
        auth=auth,
        auth_header=auth_header or _DEFAULT_HEADER[auth],
        topic_header="X-Structr-Topic",
        topics=GENERIC_TOPICS,
        delivery_id_headers=("X-Structr-Delivery-Id",),
        kept_headers=("content-type", "x-structr-topic", "x-structr-delivery-id"),
    )
