"""Reading ``pim_sources.yaml``: the documented example, defaults and clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from structr_pipeline.core.connectors.pim import (
    PimClient,
    PimConfigError,
    load_sources,
    parse_source,
)
from structr_pipeline.core.connectors.pim.config import (
    ApiKeyAuth,
    ImagesSpec,
    OAuth2Auth,
    VariantsSpec,
)

# The example of the README, one source per preset.
README_EXAMPLE = """\
sources:
  akeneo_main:
    preset: akeneo
    base_url: https://pim.example.com
    auth:
      type: oauth2
      grant_type: password
      token_url: /api/oauth/v1/token
      client_id_env: AKENEO_CLIENT_ID
      client_secret_env: AKENEO_CLIENT_SECRET
      username_env: AKENEO_USERNAME
      password_env: AKENEO_PASSWORD
      body_format: json
    locale: en_US
    scope: ecommerce
    currency: EUR
    field_map:
      vendor: values.brand_name
      barcode: values.gtin
    write_back:
      enabled: true
      field_map:
        description_html: description
        seo_title: meta_title
        audit_grade: structr_grade

  contentful_shop:
    preset: contentful
    base_url: https://cdn.contentful.com
    path: /spaces/abc123xyz/environments/master/entries
    params:
      content_type: product
    auth: {type: bearer, token_env: CONTENTFUL_DELIVERY_TOKEN}
    locale: en-US
    page_size: 200

  strapi_store:
    preset: strapi
    base_url: https://cms.example.com
    auth: {type: bearer, token_env: STRAPI_API_TOKEN}
    field_map:
      inventory_qty: stock
    write_back:
      enabled: true
      field_map: {seo_title: metaTitle}

  inhouse:
    preset: generic
    base_url: https://catalog.internal.example.com
    path: /v2/products
    auth: {type: api_key, header: X-Api-Key, key_env: CATALOG_API_KEY}
    pagination: {kind: cursor, size_param: limit, cursor_param: after, cursor_path: meta.next}
    items_path: data
    id_path: product_id
    updated_path: modified_at
    updated_since_param: modified_after
    field_map:
      title: name
      description_html: body_html
      price: pricing.amount
      images: {path: media, url: href, alt: caption}
      variants: {path: skus, fields: {sku: code, price: pricing.amount, option1_value: size}}
    rate_limit_per_s: 10
    full_resync_cron: "30 2 * * *"
    full_resync_timezone: Europe/Paris
    write_back: {enabled: true, method: PATCH, path: "/v2/products/{id}"}
"""


def write(tmp_path: Path, text: str) -> Path:
    """``text`` (dedented) as ``pim_sources.yaml`` in ``tmp_path``."""
    path = tmp_path / "pim_sources.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_readme_example_loads_with_defaults(tmp_path):
    sources = load_sources(write(tmp_path, README_EXAMPLE))

    assert list(sources) == ["akeneo_main", "contentful_shop", "strapi_store", "inhouse"]
    akeneo = sources["akeneo_main"]
    assert akeneo.name == "akeneo_main" and akeneo.preset == "akeneo"
    assert isinstance(akeneo.auth, OAuth2Auth) and akeneo.auth.grant_type == "password"
    assert akeneo.env_names() == (
        "AKENEO_CLIENT_ID",
        "AKENEO_CLIENT_SECRET",
        "AKENEO_USERNAME",
        "AKENEO_PASSWORD",
    )
    assert akeneo.rate_limit_per_s == 5
    assert akeneo.full_resync_cron == "0 3 * * 0"
    assert akeneo.full_resync_timezone == "UTC"
    assert akeneo.write_back.enabled and akeneo.write_back.batch_size == 100
    assert sources["contentful_shop"].write_back.enabled is False
    assert sources["contentful_shop"].params == {"content_type": "product"}

    inhouse = sources["inhouse"]
    assert isinstance(inhouse.auth, ApiKeyAuth) and inhouse.auth.header == "X-Api-Key"
    assert inhouse.pagination is not None and inhouse.pagination.kind == "cursor"
    assert inhouse.field_map["images"] == ImagesSpec(path="media", url="href", alt="caption")
    variants = inhouse.field_map["variants"]
    assert isinstance(variants, VariantsSpec) and variants.fields["sku"] == "code"
    assert inhouse.full_resync_timezone == "Europe/Paris"
    assert inhouse.full_resync_cron == "30 2 * * *"


def test_missing_or_empty_file_has_no_sources(tmp_path):
    assert load_sources(tmp_path / "absent.yaml") == {}
    assert load_sources(write(tmp_path, "")) == {}
    assert load_sources(write(tmp_path, "sources:\n")) == {}


def test_images_shorthand_and_null_override():
    source = parse_source(
        "s",
        {
            "preset": "strapi",
            "base_url": "https://cms.example.com/",
            "field_map": {"images": "gallery", "vendor": None},
        },
    )
    assert source.base_url == "https://cms.example.com"
    assert source.field_map == {"images": ImagesSpec(path="gallery"), "vendor": None}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("preset: magento\n    base_url: https://x.example", ["preset", "'akeneo'"]),
        ("preset: akeneo", ["base_url", "Field required"]),
        ("preset: akeneo\n    base_url: ftp://x.example", ["base_url", "http"]),
        (
            "preset: akeneo\n    base_url: https://x.example\n"
            "    auth: {type: bearer, token: s3cr3t-inline-value}",
            ["auth", "token_env", "environment variable"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n"
            "    auth: {type: bearer, token_env: 'tok en-value'}",
            ["auth.token_env", "NAME of an environment variable"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    auth: {type: bearer}",
            ["auth.token_env", "Field required"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    auth: {type: kerberos}",
            ["auth", "kerberos"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    auth:\n"
            "      type: oauth2\n      grant_type: password\n      token_url: /t\n"
            "      client_id_env: A\n      client_secret_env: B",
            ["auth", "username_env"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    field_map: {colour: x}",
            ["field_map", "unknown field(s) colour"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n"
            "    field_map: {variants: {path: v, fields: {size: s}}}",
            ["field_map", "variants", "size"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    rate_limit_per_s: 0",
            ["rate_limit_per_s", "greater than 0"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    full_resync_cron: weekly",
            ["full_resync_cron", "five fields"],
        ),
        (
            "preset: akeneo\n    base_url: https://x.example\n    full_resync_timezone: Mars/Base",
            ["full_resync_timezone", "IANA"],
        ),
        ("preset: contentful\n    base_url: https://cdn.contentful.com", ["path", "/spaces/"]),
        ("preset: generic\n    base_url: https://x.example", ["path", "generic"]),
        (
            "preset: contentful\n    base_url: https://cdn.contentful.com\n"
            "    path: /spaces/s/environments/master/entries\n    write_back: {enabled: true}",
            ["write_back", "read-only"],
        ),
        ("preset: akeneo\n    base_url: https://x.example\n    colour: red", ["colour"]),
        (
            "name: other\n    preset: akeneo\n    base_url: https://x.example",
            ["name", "differs"],
        ),
    ],
)
def test_config_errors_name_file_source_and_field(tmp_path, settings, expected):
    path = write(tmp_path, f"sources:\n  shop_one:\n    {settings}\n")
    with pytest.raises(PimConfigError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message
    assert "source 'shop_one'" in message
    for part in expected:
        assert part in message
    assert "s3cr3t-inline-value" not in message
    assert "tok en-value" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [a, b]\n", "'sources' must map"),
        ("products:\n  a: {}\n", "one top-level key, 'sources:'"),
        ("sources:\n  a: [1, 2\n", "not valid YAML"),
        ("sources:\n  a: just-text\n", "expected a mapping"),
        ("sources:\n  9lives:\n    preset: akeneo\n    base_url: https://x.example\n", "name"),
    ],
)
def test_file_shape_errors(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(PimConfigError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_missing_environment_variable_is_named_when_the_client_starts():
    source = parse_source(
        "shop",
        {
            "preset": "akeneo",
            "base_url": "https://pim.example.com",
            "auth": {"type": "bearer", "token_env": "STRUCTR_TEST_UNSET_TOKEN"},
        },
    )
    with pytest.raises(PimConfigError, match="STRUCTR_TEST_UNSET_TOKEN") as caught:
        PimClient(source, environ={})
    assert "shop" in str(caught.value)

    client = PimClient(source, environ={"STRUCTR_TEST_UNSET_TOKEN": "tok-very-secret"})
    with client:
        assert "tok-very-secret" not in repr(client)
        assert "STRUCTR_TEST_UNSET_TOKEN" in repr(client)
    assert "tok-very-secret" not in repr(source)


def test_write_back_must_be_enabled():
    settings = {"preset": "generic", "base_url": "https://x.example", "path": "/p"}
    source = parse_source("shop", settings)
    refused = pytest.raises(PimConfigError, match="not enabled")
    with PimClient(source, environ={}) as client, refused:
        client.write_back([])
