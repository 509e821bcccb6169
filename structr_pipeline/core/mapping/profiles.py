"""Mapping profiles: a user's saved column mapping and reading options, as small YAML files.

A profile names, for each source column it cares about, the canonical field it fills
(or ``null`` to keep the column as an extra attribute), plus options for reading the
file: delimiter, encoding, decimal comma, weight unit, a default vendor. A profile
always wins over the automatic proposal. Profiles live in ``STRUCTR_HOME/profiles/``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from structr_pipeline.core.fields import CANONICAL_FIELDS
from structr_pipeline.core.safe_files import load_yaml, read_regular

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Far more than a profile of a few hundred columns takes; a larger file is not read.
MAX_PROFILE_BYTES = 1 << 20
WEIGHT_UNITS: dict[str, float] = {
    "g": 1.0,
    "kg": 1000.0,
    "lb": 453.59237,
    "lbs": 453.59237,
    "oz": 28.349523125,
}
# The formats a profile's ``format`` option may name: a platform's export format read by
# its own strategy, or ``generic`` for the column mapping alone.
FORMATS: tuple[str, ...] = (
    "shopify",
    "woocommerce",
    "magento",
    "bigcommerce",
    "amazon",
    "google_merchant",
    "generic",
)
_OPTION_NAMES = (
    "format",
    "image_base_url",
    "delimiter",
    "encoding",
    "decimal_comma",
    "weight_unit",
    "default_vendor",
    "brand_voice",
)


class ProfileError(ValueError):
    """A profile that cannot be found or read; the message says which file and why."""


@dataclass(frozen=True)
class ProfileOptions:
    """How to read a file, where detection should not guess."""

    # The export format (one of ``FORMATS``), where detection should not decide.
    format: str | None = None
    # Prefix for image paths that are relative (a Magento export's ``/m/h/mh01.jpg``).
    image_base_url: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool = False
    weight_unit: str | None = None
    default_vendor: str | None = None
    # For generated copy: {"tone": "...", "avoid": ["...", ...]}.
    brand_voice: dict[str, Any] | None = None


@dataclass(frozen=True)
class MappingProfile:
    """A named column mapping (source column → canonical field or None) and its options."""

    name: str
    columns: dict[str, str | None]
    options: ProfileOptions = field(default_factory=ProfileOptions)

    def fingerprint(self) -> str:
        """A short hash of the profile's content: it changes whenever the mapping would."""
        options = asdict(self.options)
        # Options added later count only when set, so older profiles keep their fingerprint.
        for name in ("format", "image_base_url"):
            if options[name] is None:
                del options[name]
        content = {"columns": self.columns, "options": options}
        text = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def valid_profile_name(name: str) -> str:
    """The profile name if it is a plain file name (letters, digits, ``_ . -``), else an error."""
    if not _NAME.fullmatch(name or ""):
        raise ProfileError(
            f"'{name}' is not a usable profile name: use letters, digits, '_', '.' or '-' "
            "(at most 64 characters, no folders)"
        )
    return name


def profile_path(directory: Path, name: str) -> Path:
    """Where the profile ``name`` lives in ``directory``."""
    return Path(directory) / f"{valid_profile_name(name)}.yaml"


def _validated(path: Path, name: str, content: Any) -> MappingProfile:
    if not isinstance(content, dict):
        raise ProfileError(f"{path}: a profile is a YAML mapping with 'columns' and 'options'")
    unknown = set(content) - {"name", "columns", "options"}
    if unknown:
        raise ProfileError(f"{path}: unknown keys {sorted(unknown)}; expected columns, options")
    columns = content.get("columns") or {}
    if not isinstance(columns, dict):
        raise ProfileError(f"{path}: 'columns' must map source column names to fields")
    mapped: dict[str, str | None] = {}
    for column, target in columns.items():
        if target is not None and target not in CANONICAL_FIELDS:
            raise ProfileError(
                f"{path}: column '{column}' is mapped to '{target}', which is not a canonical "
                f"field (one of: {', '.join(CANONICAL_FIELDS)}; or null to keep it as an "
                "attribute)"
            )
        mapped[str(column)] = target
    taken: dict[str, str] = {}
    for column, target in mapped.items():
        if target is not None and target in taken:
            raise ProfileError(
                f"{path}: field '{target}' is given to both '{taken[target]}' and '{column}'"
            )
        if target is not None:
            taken[target] = column
    options = content.get("options") or {}
    if not isinstance(options, dict) or set(options) - set(_OPTION_NAMES):
        raise ProfileError(f"{path}: 'options' may only hold {', '.join(_OPTION_NAMES)}")
    source_format = options.get("format")
    if source_format is not None and source_format not in FORMATS:
        raise ProfileError(f"{path}: format '{source_format}' is not one of {', '.join(FORMATS)}")
    unit = options.get("weight_unit")
    if unit is not None and unit not in WEIGHT_UNITS:
        raise ProfileError(
            f"{path}: weight_unit '{unit}' is not one of {', '.join(sorted(WEIGHT_UNITS))}"
        )
    return MappingProfile(
        name=name,
        columns=mapped,
        options=ProfileOptions(
            format=source_format,
            image_base_url=options.get("image_base_url"),
            delimiter=options.get("delimiter"),
            encoding=options.get("encoding"),
            decimal_comma=bool(options.get("decimal_comma", False)),
            weight_unit=unit,
            default_vendor=options.get("default_vendor"),
            brand_voice=_brand_voice(path, options.get("brand_voice")),
        ),
    )


def _brand_voice(path: Path, voice: Any) -> dict[str, Any] | None:
    if voice is None:
        return None
    if not isinstance(voice, dict) or set(voice) - {"tone", "avoid"}:
        raise ProfileError(f"{path}: brand_voice may only hold 'tone' and 'avoid' (a list)")
    avoid = voice.get("avoid") or []
    if not isinstance(avoid, list):
        raise ProfileError(f"{path}: brand_voice.avoid must be a list of words or phrases")
    return {"tone": str(voice.get("tone") or ""), "avoid": [str(a) for a in avoid]}


def load_profile(directory: Path, name: str) -> MappingProfile:
    """Read the profile ``name`` from ``directory``; ``ProfileError`` says what is wrong."""
    path = profile_path(directory, name)
    if not path.exists():
        found = sorted(p.stem for p in Path(directory).glob("*.yaml"))
        listed = ", ".join(found) if found else "none"
        raise ProfileError(f"no mapping profile '{name}' in {directory} (profiles there: {listed})")
    try:
        content = load_yaml(read_regular(path, MAX_PROFILE_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    return _validated(path, name, content)


_HEADER_COMMENT = """\
# structr mapping profile '{name}'.
# columns: each source column and the canonical field it fills; null keeps the column as an
#   extra attribute. Fields: {fields}.
# options: delimiter, encoding, decimal_comma (true reads 1.299,00 as 1299.00),
#   weight_unit (g, kg, lb, oz: the unit of the weight column), default_vendor,
#   brand_voice ({{tone: ..., avoid: [...]}}, for generated copy).
"""


def save_profile(directory: Path, profile: MappingProfile) -> Path:
    """Write the profile as YAML (with a comment explaining the format); returns its path."""
    path = profile_path(directory, profile.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {k: v for k, v in asdict(profile.options).items() if v not in (None, False)}
    body = yaml.safe_dump(
        {"columns": profile.columns, "options": options},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )
    header = _HEADER_COMMENT.format(name=profile.name, fields=", ".join(CANONICAL_FIELDS))
    path.write_text(header + body, encoding="utf-8")
    return path
