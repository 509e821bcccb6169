"""Mapping profiles: YAML on disk, read back exactly, and clear errors for bad ones."""

from __future__ import annotations

import hashlib
import json

import pytest

from structr_pipeline.core.mapping.profiles import (
    MappingProfile,
    ProfileError,
    ProfileOptions,
    load_profile,
    save_profile,
)


def test_profile_round_trip(tmp_path) -> None:
    profile = MappingProfile(
        name="acme-de",
        columns={"Artikelnummer": "sku", "Bezeichnung": "title", "Preis": "price", "Notiz": None},
        options=ProfileOptions(
            delimiter=";", encoding="cp1252", decimal_comma=True, weight_unit="kg",
            default_vendor="ACME",
        ),
    )  # fmt: skip
    path = save_profile(tmp_path, profile)
    assert path == tmp_path / "acme-de.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# structr mapping profile 'acme-de'")
    assert "Notiz: null" in text
    loaded = load_profile(tmp_path, "acme-de")
    assert loaded == profile
    assert loaded.fingerprint() == profile.fingerprint()


def test_fingerprint_changes_with_the_mapping(tmp_path) -> None:
    one = MappingProfile("p", {"A": "sku"})
    other = MappingProfile("p", {"A": "barcode"})
    assert one.fingerprint() != other.fingerprint()
    assert one.fingerprint() == MappingProfile("renamed", {"A": "sku"}).fingerprint()


def test_a_hand_written_profile(tmp_path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "columns:\n  Name: title\n  Cost: cost_per_item\noptions:\n  decimal_comma: true\n",
        encoding="utf-8",
    )
    profile = load_profile(tmp_path, "mine")
    assert profile.columns == {"Name": "title", "Cost": "cost_per_item"}
    assert profile.options.decimal_comma and profile.options.delimiter is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "columns:\n  Name: titel\n",
            "column 'Name' is mapped to 'titel', which is not a canonical",
        ),
        ("columns:\n  A: sku\n  B: sku\n", "field 'sku' is given to both 'A' and 'B'"),
        ("columns: [1, 2]\n", "'columns' must map source column names to fields"),
        ("options:\n  weight_unit: stone\n", "weight_unit 'stone' is not one of"),
        ("options:\n  format: etsy\n", "format 'etsy' is not one of shopify, woocommerce"),
        ("options:\n  colour: red\n", "'options' may only hold"),
        ("columns: {A: sku\n", "not valid YAML"),
        ("- just\n- a list\n", "a profile is a YAML mapping"),
    ],
)
def test_bad_profiles_say_what_is_wrong(tmp_path, content, expected) -> None:
    (tmp_path / "bad.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(tmp_path, "bad")
    assert str(caught.value).startswith(str(tmp_path / "bad.yaml"))
    assert expected in str(caught.value)


def test_missing_profile_lists_the_ones_there(tmp_path) -> None:
    save_profile(tmp_path, MappingProfile("acme", {"A": "sku"}))
    with pytest.raises(ProfileError, match=r"no mapping profile 'other' .*profiles there: acme"):
        load_profile(tmp_path, "other")


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/b", "", "x" * 65])
def test_profile_names_cannot_leave_the_folder(tmp_path, name) -> None:
    with pytest.raises(ProfileError, match="not a usable profile name"):
        load_profile(tmp_path, name)


def test_brand_voice_option(tmp_path) -> None:
    (tmp_path / "voice.yaml").write_text(
        "options:\n  brand_voice:\n    tone: playful\n    avoid: [cheap, bargain]\n",
        encoding="utf-8",
    )
    profile = load_profile(tmp_path, "voice")
    assert profile.options.brand_voice == {"tone": "playful", "avoid": ["cheap", "bargain"]}
    save_profile(tmp_path, MappingProfile("copy", {}, profile.options))
    assert load_profile(tmp_path, "copy").options == profile.options
    (tmp_path / "bad.yaml").write_text("options:\n  brand_voice: loud\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="brand_voice may only hold"):
        load_profile(tmp_path, "bad")


def test_a_profile_fixes_the_format_and_keeps_older_fingerprints(tmp_path) -> None:
    from structr_pipeline.core.connectors.platforms import PLATFORMS
    from structr_pipeline.core.mapping.profiles import FORMATS

    (tmp_path / "luma.yaml").write_text(
        "options:\n  format: magento\n  image_base_url: https://shop.example/media\n",
        encoding="utf-8",
    )
    profile = load_profile(tmp_path, "luma")
    assert profile.options.format == "magento"
    assert profile.options.image_base_url == "https://shop.example/media"
    assert set(FORMATS) == {*PLATFORMS, "shopify", "generic"}
    plain = MappingProfile("p", {"A": "sku"})
    formatted = MappingProfile("p", {"A": "sku"}, ProfileOptions(format="magento"))
    assert plain.fingerprint() != formatted.fingerprint()
    # A profile that sets neither new option keeps the fingerprint it had before them
    # (the hash of its columns and the six options there were), so no batch turns stale.
    before = {
        "columns": {"A": "sku"},
        "options": {
            "delimiter": None, "encoding": None, "decimal_comma": False,
            "weight_unit": None, "default_vendor": None, "brand_voice": None,
        },
    }  # fmt: skip
    text = json.dumps(before, sort_keys=True, ensure_ascii=False)
    assert plain.fingerprint() == hashlib.sha256(text.encode()).hexdigest()[:12]
