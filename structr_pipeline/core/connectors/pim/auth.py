"""Credentials for a PIM source: API key header, bearer token, basic auth, OAuth2.

Secrets are read from the environment variables a source names, once, when the
authenticator is built; a variable that is unset or empty is a ``PimConfigError`` naming
the variable (never its value). Authenticators only build headers and token requests;
the client sends them, so retries, rate limiting and error reporting stay in one place.
Their reprs and ``describe()`` name the variables, never the secrets.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from structr_pipeline.core.connectors.pim.config import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2Auth,
    PimConfigError,
    PimSource,
)


def _read(environ: Mapping[str, str], name: str, source: str, where: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise PimConfigError(
            f"PIM source '{source}': environment variable {name} ({where}) is not set"
        )
    return value


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class Authenticator:
    """Headers that authenticate a request; the base class sends none."""

    refreshable = False

    def __init__(self, description: str = "no credentials") -> None:
        self._description = description

    def headers(self) -> dict[str, str]:
        """The headers to add to an API request."""
        return {}

    def secrets(self) -> tuple[str, ...]:
        """Every secret value (and encoding of one) that must never be shown."""
        return ()

    def describe(self) -> str:
        """Which credentials are used, naming environment variables only."""
        return self._description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._description})"


class StaticHeaderAuthenticator(Authenticator):
    """One fixed header (an API key, a bearer token, basic credentials)."""

    def __init__(self, header: str, value: str, secrets: tuple[str, ...], description: str):
        super().__init__(description)
        self._header = header
        self._value = value
        self._secrets = secrets

    def headers(self) -> dict[str, str]:
        """The one header."""
        return {self._header: self._value}

    def secrets(self) -> tuple[str, ...]:
        """The secret and the header value built from it."""
        return (*self._secrets, self._value)


@dataclass(frozen=True)
class TokenRequest:
    """The request that fetches an OAuth2 access token."""

    url: str
    headers: dict[str, str]
    data: dict[str, str] | None = None
    json: dict[str, str] | None = None


@dataclass(frozen=True)
class _Token:
    value: str
    # On the time.monotonic() clock; None when the server gave no lifetime.
    expires_at: float | None


class OAuth2Authenticator(Authenticator):
    """A cached OAuth2 access token, refreshed before it expires or after a 401.

    ``needs_token()`` says whether the client must fetch one (using ``token_request()``)
    and hand the JSON answer to ``store_token()`` before ``headers()`` can be used.
    """

    refreshable = True

    def __init__(
        self, config: OAuth2Auth, token_url: str, values: dict[str, str], description: str
    ) -> None:
        super().__init__(description)
        self._config = config
        self._token_url = token_url
        self._values = values
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def needs_token(self, now: float | None = None) -> bool:
        """Whether there is no token, or the one there is expires within the margin."""
        now = time.monotonic() if now is None else now
        with self._lock:
            token = self._token
        return token is None or (token.expires_at is not None and now >= token.expires_at)

    def token_request(self) -> TokenRequest:
        """The token endpoint request for the configured grant."""
        cfg = self._config
        body: dict[str, str] = {"grant_type": cfg.grant_type}
        if cfg.grant_type == "password":
            body["username"] = self._values["username"]
            body["password"] = self._values["password"]
        if cfg.scope:
            body["scope"] = cfg.scope
        body.update(cfg.extra_params)
        headers = {"Accept": "application/json"}
        if cfg.client_auth == "basic":
            client = _basic(self._values["client_id"], self._values["client_secret"])
            headers["Authorization"] = f"Basic {client}"
        else:
            body["client_id"] = self._values["client_id"]
            body["client_secret"] = self._values["client_secret"]
        if cfg.body_format == "json":
            return TokenRequest(self._token_url, headers, json=body)
        return TokenRequest(self._token_url, headers, data=body)

    def store_token(self, answer: Any, now: float | None = None) -> None:
        """Keep the token of a token endpoint's JSON answer; ``ValueError`` if there is none."""
        if not isinstance(answer, dict):
            raise ValueError("the token endpoint did not answer with a JSON object")
        value = answer.get("access_token")
        if not isinstance(value, str) or not value:
            raise ValueError("the token endpoint's answer has no access_token")
        now = time.monotonic() if now is None else now
        expires_at = None
        lifetime = answer.get("expires_in")
        if isinstance(lifetime, str) and lifetime.strip().isdigit():
            lifetime = int(lifetime)
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool):
            margin = min(self._config.expiry_margin_s, lifetime / 2)
            expires_at = now + max(0.0, lifetime - margin)
        with self._lock:
            self.tokens_fetched += 1
            self._token = _Token(value, expires_at)

    def invalidate(self) -> None:
        """Forget the token (the API refused it), so the next request fetches another."""
        with self._lock:
            self._token = None

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>``; call only once ``needs_token()`` is false."""
        with self._lock:
            token = self._token
        if token is None:
            raise RuntimeError("no OAuth2 token yet; fetch one first")
        return {"Authorization": f"Bearer {token.value}"}

    def secrets(self) -> tuple[str, ...]:
        """The client and user credentials, their basic encoding and the current token."""
        found = list(self._values.values())
        if "client_id" in self._values:
            found.append(_basic(self._values["client_id"], self._values["client_secret"]))
        with self._lock:
            if self._token is not None:
                found.append(self._token.value)
        return tuple(found)


def resolve_url(base_url: str, url: str) -> str:
    """``url`` if absolute, else ``url`` as a path under ``base_url``."""
    if url.startswith(("http://", "https://")):
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def build_authenticator(source: PimSource, environ: Mapping[str, str]) -> Authenticator:
    """The authenticator for ``source``, its secrets read from ``environ``."""
    cfg = source.auth
    name = source.name
    if isinstance(cfg, NoAuth):
        return Authenticator()
    if isinstance(cfg, ApiKeyAuth):
        key = _read(environ, cfg.key_env, name, "auth.key_env")
        return StaticHeaderAuthenticator(
            cfg.header,
            f"{cfg.prefix}{key}",
            (key,),
            f"API key header {cfg.header} from environment variable {cfg.key_env}",
        )
    if isinstance(cfg, BearerAuth):
        token = _read(environ, cfg.token_env, name, "auth.token_env")
        return StaticHeaderAuthenticator(
            "Authorization",
            f"Bearer {token}",
            (token,),
            f"bearer token from environment variable {cfg.token_env}",
        )
    if isinstance(cfg, BasicAuth):
        user = cfg.username
        if cfg.username_env:
            user = _read(environ, cfg.username_env, name, "auth.username_env")
        password = _read(environ, cfg.password_env, name, "auth.password_env")
        who = f"user from {cfg.username_env}" if cfg.username_env else f"user {user!r}"
        return StaticHeaderAuthenticator(
            "Authorization",
            f"Basic {_basic(user or '', password)}",
            (password,),
            f"basic auth ({who}, password from environment variable {cfg.password_env})",
        )
    if isinstance(cfg, OAuth2Auth):
        values = {
            "client_id": _read(environ, cfg.client_id_env, name, "auth.client_id_env"),
            "client_secret": _read(environ, cfg.client_secret_env, name, "auth.client_secret_env"),
        }
        if cfg.grant_type == "password" and cfg.username_env and cfg.password_env:
            values["username"] = _read(environ, cfg.username_env, name, "auth.username_env")
            values["password"] = _read(environ, cfg.password_env, name, "auth.password_env")
        variables = ", ".join(cfg.env_names())
        return OAuth2Authenticator(
            cfg,
            resolve_url(source.base_url, cfg.token_url),
            values,
            f"OAuth2 {cfg.grant_type} token from environment variables {variables}",
        )
    raise PimConfigError(f"PIM source '{name}': unsupported auth type")  # pragma: no cover
