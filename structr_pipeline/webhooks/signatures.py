"""Signing and verifying webhook deliveries: HMAC-SHA256 of the raw body, or a shared secret.

Every comparison runs in constant time, on values of a fixed length, so neither the
content nor the length of a secret shows in response times.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_DIGEST_SIZE = hashlib.sha256().digest_size


def body_hmac(secret: str, body: bytes) -> bytes:
    """The raw HMAC-SHA256 of ``body`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def shopify_signature(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends with ``body``: base64 HMAC-SHA256."""
    return base64.b64encode(body_hmac(secret, body)).decode("ascii")


def hex_signature(secret: str, body: bytes) -> str:
    """A ``sha256=<hex HMAC-SHA256>`` signature of ``body``, as generic senders send it."""
    return "sha256=" + body_hmac(secret, body).hex()


def _decode_base64(value: str) -> bytes | None:
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == _DIGEST_SIZE else None


def decode_signature(value: str, encoding: str = "any") -> bytes | None:
    """The digest a signature header carries, or None if it is not one.

    ``encoding="base64"`` accepts base64 only (Shopify); ``"any"`` also accepts 64 hex
    digits and an optional ``sha256=`` prefix.
    """
    text = value.strip()
    if encoding == "base64":
        return _decode_base64(text)
    if text[:7].lower() == "sha256=":
        text = text[7:]
    if _HEX_DIGEST.fullmatch(text):
        return bytes.fromhex(text)
    return _decode_base64(text)


def verify_hmac(secret: str, body: bytes, signature: str | None, encoding: str = "any") -> bool:
    """Whether ``signature`` is the HMAC-SHA256 of ``body`` under ``secret``."""
    if not secret or not signature:
        return False
    provided = decode_signature(signature, encoding)
    expected = body_hmac(secret, body)
    if provided is None:
        # Compare anyway so that a malformed header costs the same time as a wrong one.
        hmac.compare_digest(expected, expected)
        return False
    return hmac.compare_digest(expected, provided)


def verify_shopify(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is a valid ``X-Shopify-Hmac-Sha256`` for ``body``."""
    return verify_hmac(secret, body, signature, encoding="base64")


def verify_shared_secret(secret: str, provided: str | None) -> bool:
    """Whether ``provided`` equals ``secret`` (compared as digests, in constant time)."""
    if not secret or provided is None:
        return False
    expected = hashlib.sha256(secret.encode("utf-8")).digest()
    given = hashlib.sha256(provided.strip().encode("utf-8")).digest()
    return hmac.compare_digest(expected, given)
