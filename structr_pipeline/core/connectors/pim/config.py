"""The PIM sources a user configured, read from ``STRUCTR_HOME/pim_sources.yaml``.

The file holds one entry per source under ``sources:``, keyed by the source's name::

    sources:
      akeneo_main:
        preset: akeneo
        base_url: https://pim.example.com
        auth: {type: bearer, token_env: AKENEO_TOKEN}

Secrets never appear in the file: a source names the environment variables that hold
them (``token_env``, ``key_env``, ``password_env``, ``client_secret_env`` …) and the
client reads them when it starts. Every problem is reported as a ``PimConfigError`` that
names the file, the source and the field, never the value that was given.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from structr_pipeline.core.connectors.pim.specs import (
    FieldSpec,
    FrozenModel,
    ImagesSpec,
    PaginationConfig,
    VariantsSpec,
)
from structr_pipeline.core.connectors.pim.vendors import PRESETS as VENDOR_PRESETS
from structr_pipeline.core.fields import PRODUCT_FIELDS, VARIANT_FIELDS
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS

PRESETS: tuple[str, ...] = tuple(VENDOR_PRESETS)
SOURCES_FILE = "pim_sources.yaml"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SOURCE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?\-]+")
# Keys a user might be tempted to put a secret under, and the key that names its variable.
_INLINE_SECRETS = {
    "token": "token_env",
    "key": "key_env",
    "api_key": "key_env",
    "password": "password_env",
    "client_secret": "client_secret_env",
    "secret": "client_secret_env",
}
# Fields a field map may name besides the canonical product and variant fields.
_SPECIAL_FIELDS = ("images", "variants")


class PimConfigError(ValueError):
    """A PIM source that cannot be used as configured (file, source and field named)."""


def _env_name(value: str | None) -> str | None:
    """Check that ``value`` names an environment variable (so a pasted secret is refused)."""
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits and _), "
            "not the secret itself"
        )
    return value


class _AuthModel(FrozenModel):
    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, env_key in _INLINE_SECRETS.items():
                if key in data:
                    raise ValueError(
                        f"'{key}' would put a secret in the file; store it in an environment "
                        f"variable and give that variable's name as '{env_key}'"
                    )
        return data


class NoAuth(_AuthModel):
    """No credentials (a public endpoint)."""

    type: Literal["none"] = "none"

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this auth reads."""
        return ()


class ApiKeyAuth(_AuthModel):
    """A static key sent in a request header (``X-API-Key: <key>`` by default)."""

    type: Literal["api_key"]
    key_env: str
    header: str = "X-API-Key"
    prefix: str = ""

    _check_env = field_validator("key_env")(_env_name)

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this auth reads."""
        return (self.key_env,)


class BearerAuth(_AuthModel):
    """A static token sent as ``Authorization: Bearer <token>``."""

    type: Literal["bearer"]
    token_env: str

    _check_env = field_validator("token_env")(_env_name)

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this auth reads."""
        return (self.token_env,)


class BasicAuth(_AuthModel):
    """HTTP basic auth; the user name is given inline or through ``username_env``."""

    type: Literal["basic"]
    username: str | None = None
    username_env: str | None = None
    password_env: str

    _check_env = field_validator("username_env", "password_env")(_env_name)

    @model_validator(mode="after")
    def _one_username(self) -> BasicAuth:
        if (self.username is None) == (self.username_env is None):
            raise ValueError("give exactly one of 'username' and 'username_env'")
        return self

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this auth reads."""
        return tuple(n for n in (self.username_env, self.password_env) if n)


class OAuth2Auth(_AuthModel):
    """An OAuth2 access token, fetched from ``token_url``, cached and refreshed.

    ``grant_type`` is ``client_credentials`` (most APIs) or ``password`` (Akeneo's API
    connections, which also need ``username_env`` and ``password_env``). The client id
    and secret go in a basic ``Authorization`` header (``client_auth: basic``) or in the
    body (``client_auth: body``); the body is a form (``body_format: form``) or JSON.
    ``token_url`` is absolute or a path under the source's ``base_url``. The token is
    refreshed ``expiry_margin_s`` seconds before it expires (at most half its lifetime
    early), and whenever the API answers 401.
    """

    type: Literal["oauth2"]
    token_url: str
    grant_type: Literal["client_credentials", "password"] = "client_credentials"
    client_id_env: str
    client_secret_env: str
    username_env: str | None = None
    password_env: str | None = None
    scope: str | None = None
    client_auth: Literal["basic", "body"] = "basic"
    body_format: Literal["form", "json"] = "form"
    extra_params: dict[str, str] = Field(default_factory=dict)
    expiry_margin_s: float = Field(default=30.0, ge=0)

    _check_env = field_validator(
        "client_id_env", "client_secret_env", "username_env", "password_env"
    )(_env_name)

    @model_validator(mode="after")
    def _password_grant_needs_user(self) -> OAuth2Auth:
        if self.grant_type == "password" and not (self.username_env and self.password_env):
            raise ValueError("the password grant needs 'username_env' and 'password_env'")
        return self

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this auth reads."""
        names = (self.client_id_env, self.client_secret_env, self.username_env, self.password_env)
        return tuple(n for n in names if n)


AuthConfig = Annotated[
    NoAuth | ApiKeyAuth | BearerAuth | BasicAuth | OAuth2Auth, Field(discriminator="type")
]
AUTH_TYPES: tuple[str, ...] = ("none", "api_key", "bearer", "basic", "oauth2")


class WriteBackConfig(FrozenModel):
    """Writing generated copy and audit grades back to the PIM (off unless ``enabled``).

    ``field_map`` renames the fields of a write-back item to the PIM's attribute or field
    names (unlisted names are sent as they are). ``method`` and ``path`` (``{id}`` is the
    product's id) override the preset's endpoint. ``wrap`` puts the fields under one key
    of the body (Strapi's ``data``). Akeneo values are written for ``locale`` and
    ``scope`` (default: the source's); ``batch_size`` products go in one Akeneo request.
    """

    enabled: bool = False
    method: Literal["PATCH", "PUT", "POST"] | None = None
    path: str | None = None
    field_map: dict[str, str] = Field(default_factory=dict)
    wrap: str | None = None
    locale: str | None = None
    scope: str | None = None
    batch_size: int = Field(default=100, ge=1, le=100)


class PimSource(FrozenModel):
    """One configured PIM or headless CMS and how to read products from it.

    ``path`` overrides the preset's list endpoint (required for Contentful, whose path
    names the space and environment, and for ``generic``). ``params`` are extra query
    parameters on every list request (Contentful's ``content_type``). ``items_path``,
    ``id_path`` and ``updated_path`` say where the item list, an item's id and its
    last-modified timestamp are (dotted paths; presets know their own).
    ``updated_since_param`` and ``updated_since_format`` (``iso``, ``epoch`` or a
    ``strftime`` pattern) build the incremental filter of a ``generic`` source. ``locale``
    picks the language of localized values, ``scope`` Akeneo's channel and ``currency``
    the price among several. ``field_map`` overrides the preset's mapping per field
    (``null`` unmaps one). ``full_resync_cron`` (in ``full_resync_timezone``) is when a
    full pull replaces the incremental ones. ``incremental_overlap_s`` is how far before
    the start of the previous pull an incremental pull asks from (default 300 s): it
    covers clock differences and edits racing the pull; items it fetches again unchanged
    are not passed on twice.
    """

    name: str
    preset: Literal["akeneo", "contentful", "strapi", "generic"]
    base_url: str
    auth: AuthConfig = Field(default_factory=NoAuth)
    path: str | None = None
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    items_path: str | None = None
    id_path: str | None = None
    updated_path: str | None = None
    pagination: PaginationConfig | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    rate_limit_per_s: float = Field(default=5.0, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    backoff_base: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    locale: str | None = None
    scope: str | None = None
    currency: str | None = None
    weight_unit: str = "g"
    field_map: dict[str, Any] = Field(default_factory=dict)
    updated_since_param: str | None = None
    updated_since_format: str = "iso"
    write_back: WriteBackConfig = Field(default_factory=WriteBackConfig)
    incremental_overlap_s: float = Field(default=300.0, ge=0, le=7 * 24 * 3600)
    full_resync_cron: str = "0 3 * * 0"
    full_resync_timezone: str = "UTC"

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _SOURCE_NAME.fullmatch(value):
            raise ValueError("use letters, digits and _ only, not starting with a digit")
        return value

    @field_validator("base_url")
    @classmethod
    def _valid_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment (use 'params')")
        return value.rstrip("/")

    @field_validator("path")
    @classmethod
    def _valid_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("weight_unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in WEIGHT_UNITS:
            raise ValueError(f"must be one of {', '.join(sorted(WEIGHT_UNITS))}")
        return value

    @field_validator("field_map", mode="before")
    @classmethod
    def _typed_field_map(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        known = (*PRODUCT_FIELDS, *VARIANT_FIELDS, *_SPECIAL_FIELDS)
        unknown = sorted(str(k) for k in set(value) - set(known))
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(unknown)}; expected canonical fields "
                f"({', '.join(known)})"
            )
        typed: dict[str, FieldSpec] = {}
        for key, spec in value.items():
            if spec is None:
                typed[key] = None
            elif key == "images":
                typed[key] = _sub_model(
                    ImagesSpec, {"path": spec} if isinstance(spec, str) else spec, key
                )
            elif key == "variants":
                typed[key] = _sub_model(VariantsSpec, spec, key)
            elif isinstance(spec, str) and spec.strip():
                typed[key] = spec.strip()
            else:
                raise ValueError(f"{key}: expected a dotted path such as 'values.name' (or null)")
        return typed

    @field_validator("full_resync_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            raise ValueError("must be a cron expression of five fields, such as '0 3 * * 0'")
        return " ".join(fields)

    @field_validator("full_resync_timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "is not an IANA time zone name, such as 'UTC' or 'Europe/Paris'"
            ) from None
        return value

    @model_validator(mode="after")
    def _preset_requirements(self) -> PimSource:
        VENDOR_PRESETS[self.preset].check_source(self)
        if self.backoff_max < self.backoff_base:
            raise ValueError("backoff_max: must not be smaller than backoff_base")
        return self

    def env_names(self) -> tuple[str, ...]:
        """The environment variables this source's credentials come from."""
        return self.auth.env_names()


def _sub_model(model: type[BaseModel], spec: Any, key: str) -> BaseModel:
    """``spec`` validated as ``model``; a failure becomes a ``ValueError`` naming ``key``."""
    try:
        return model.model_validate(spec)
    except ValidationError as exc:
        raise ValueError(f"{key}: {_describe(exc)}") from None


def _location(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted field name, union tags left out."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] == "auth" and parts[1] in AUTH_TYPES:
        del parts[1]
    return ".".join(parts)


def _describe(error: ValidationError) -> str:
    """The errors of a validation, one ``field: message`` each, without the input values."""
    messages = []
    for item in error.errors(include_url=False, include_input=False):
        where = _location(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        messages.append(f"{where}: {message}" if where else message)
    return "; ".join(dict.fromkeys(messages))


def parse_source(name: str, config: Any, origin: str = SOURCES_FILE) -> PimSource:
    """One source from its configuration mapping; ``PimConfigError`` names what is wrong."""
    if not isinstance(config, dict):
        raise PimConfigError(f"{origin}: source '{name}': expected a mapping of settings")
    given = config.get("name", name)
    if given != name:
        raise PimConfigError(
            f"{origin}: source '{name}': name: differs from its key ('{given}'); drop it"
        )
    try:
        return PimSource.model_validate({**config, "name": name})
    except ValidationError as exc:
        raise PimConfigError(f"{origin}: source '{name}': {_describe(exc)}") from None


def load_sources(path: Path) -> dict[str, PimSource]:
    """Every source in a ``pim_sources.yaml`` file, by name; a missing or empty file is ``{}``.

    Raises ``PimConfigError`` naming the file, the source and the field for the first
    source that is not valid, or when the file is not YAML with a ``sources:`` mapping.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise PimConfigError(f"{path}{where}: not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) != {"sources"}:
        raise PimConfigError(f"{path}: expected one top-level key, 'sources:', mapping names")
    sources = data["sources"] or {}
    if not isinstance(sources, dict):
        raise PimConfigError(f"{path}: 'sources' must map each source's name to its settings")
    return {str(name): parse_source(str(name), cfg, str(path)) for name, cfg in sources.items()}
