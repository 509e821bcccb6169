"""What a batch's options and the files in STRUCTR_HOME decide for it.

Its mapping profile (``profile``), the brand voice its copy is written in
(``brand_voice``, else the profile's) and its audit settings (``audit.yaml``, then the
batch's ``audit`` option). Each is read as it is now, so an edit applies at the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from structr_pipeline.core.audit import AuditSettings
from structr_pipeline.core.generation.prompts import BrandVoice
from structr_pipeline.core.mapping.profiles import MappingProfile, load_profile


def batch_profile(profiles_dir: Path, options: Mapping[str, Any] | None) -> MappingProfile | None:
    """The mapping profile the batch names in its options, read as it is now, or None."""
    name = (options or {}).get("profile")
    return load_profile(profiles_dir, name) if name else None


def batch_voice(options: Mapping[str, Any] | None, profile: MappingProfile | None) -> BrandVoice:
    """The brand voice for a batch: its own ``brand_voice`` option, else its profile's."""
    voice = (options or {}).get("brand_voice") or (profile.options.brand_voice if profile else None)
    if not voice:
        return BrandVoice()
    tone = voice.get("tone") or BrandVoice().tone
    return BrandVoice(tone=tone, avoid=tuple(voice.get("avoid") or ()))


def audit_settings(audit_file: Path, options: Mapping[str, Any] | None) -> AuditSettings:
    """The batch's audit settings: ``audit_file`` (``audit.yaml``), then its ``audit`` option.

    The option's ``weights`` and ``grade_bands`` are merged key by key into the file's.
    """
    base = yaml.safe_load(audit_file.read_text(encoding="utf-8")) if audit_file.is_file() else {}
    if base is not None and not isinstance(base, dict):
        raise ValueError(f"{audit_file}: expected a mapping of audit settings")
    overrides = (options or {}).get("audit") or {}
    merged = {**(base or {}), **overrides}
    for key in ("weights", "grade_bands"):
        if isinstance((base or {}).get(key), dict) and isinstance(overrides.get(key), dict):
            merged[key] = {**base[key], **overrides[key]}
    return AuditSettings.from_mapping(merged)
