"""Versioned prompt templates, the facts a model may use, and the messages sent to it.

Templates live as YAML in the package's ``prompts/`` folder, each with a
``prompt_version`` that goes into the generation cache key. ``product_facts`` picks from a
product record only what the model may state; ``build_messages`` turns template, facts and
brand voice into chat messages, the last of which is exactly the facts as canonical JSON;
``cache_key`` hashes everything that decides the answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from structr_pipeline.core.generation.copy import html_to_text
from structr_pipeline.core.normalize import clean_text
from structr_pipeline.core.values import as_text

DESCRIPTION_TEXT_MAX = 2000
FACT_KEYS = (
    "title",
    "vendor",
    "product_type",
    "category",
    "tags",
    "description_text",
    "options",
    "price",
    "currency",
    "images",
)

_DEFAULT_FEEDBACK = (
    "Your previous answer could not be used. Fix every problem below and return the whole "
    "JSON object again, following all the rules:\n{feedback}"
)
_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt: its version, system prompt and user template.

    ``user`` has the placeholders ``{facts_json}`` (the facts with the brand voice, as JSON)
    and ``{brand_voice}`` (the brand voice alone, as JSON); ``feedback`` has ``{feedback}``.
    """

    name: str
    prompt_version: str
    system: str
    user: str
    feedback: str = _DEFAULT_FEEDBACK


@lru_cache(maxsize=32)
def load_prompt(name: str = "product_copy") -> PromptTemplate:
    """Load ``prompts/<name>.yaml`` from the package.

    Raises ``FileNotFoundError`` for an unknown name and ``ValueError`` for a file without
    a string ``prompt_version``, ``system`` or ``user``, or a ``user`` without ``{facts_json}``.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"'{name}' is not a prompt name (lower-case letters, digits and _)")
    resource = resources.files(__package__).joinpath("prompts", f"{name}.yaml")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt template '{name}' (prompts/{name}.yaml)")
    data = yaml.safe_load(resource.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"prompts/{name}.yaml must be a mapping")
    fields = {}
    for key in ("prompt_version", "system", "user"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"prompts/{name}.yaml needs '{key}' as a non-empty (quoted) string")
        fields[key] = value.strip() if key == "prompt_version" else value
    if "{facts_json}" not in fields["user"]:
        raise ValueError(f"prompts/{name}.yaml: 'user' must contain {{facts_json}}")
    feedback = data.get("feedback")
    return PromptTemplate(
        name=name,
        feedback=feedback if isinstance(feedback, str) and feedback.strip() else _DEFAULT_FEEDBACK,
        **fields,
    )


@dataclass(frozen=True)
class BrandVoice:
    """How the copy should sound, and words or phrases it must not use."""

    tone: str = "clear, warm and factual"
    avoid: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The voice as it appears in the facts JSON and the cache key."""
        return {"tone": self.tone, "avoid": list(self.avoid)}


def _text(value: Any) -> str:
    return clean_text(as_text(value))


def _tags(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    seen: set[str] = set()
    tags = []
    for item in items:
        tag = _text(item)
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def _price(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(price) or math.isinf(price) else price


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def product_facts(product: dict) -> dict:
    """The facts the model may use, taken from a product record and nothing else.

    Keys: title, vendor, product_type, category, tags (a list; a comma-separated string
    is split), description_text (the description's visible text, at most 2,000
    characters), options ({name, values}), price (a float or None), currency and images
    ({src, alt}). Text is trimmed and normalized; missing keys come out empty.
    """
    options = []
    for option in product.get("options") or []:
        name = _text(option.get("name"))
        values = [v for v in (_text(v) for v in option.get("values") or []) if v]
        if name or values:
            options.append({"name": name, "values": values})
    images = [
        {"src": _text(image.get("src")), "alt": _text(image.get("alt"))}
        for image in product.get("images") or []
    ]
    description = product.get("description_html")
    return {
        "title": _text(product.get("title")),
        "vendor": _text(product.get("vendor")),
        "product_type": _text(product.get("product_type")),
        "category": _text(product.get("category")),
        "tags": _tags(product.get("tags")),
        "description_text": _truncate(
            html_to_text(description if isinstance(description, str) else ""),
            DESCRIPTION_TEXT_MAX,
        ),
        "options": options,
        "price": _price(product.get("price")),
        "currency": _text(product.get("currency")) or None,
        "images": images,
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def facts_json(facts: dict, voice: BrandVoice) -> str:
    """The facts with the brand voice under ``brand_voice``, as canonical JSON."""
    return _canonical({**facts, "brand_voice": voice.as_dict()})


def build_messages(
    template: PromptTemplate, facts: dict, voice: BrandVoice, feedback: str | None = None
) -> list[dict[str, str]]:
    """Chat messages for one generation: system prompt, optional feedback, then the facts.

    The last message is the user template rendered with ``facts_json`` (exactly the facts
    JSON with ``brand_voice`` for the shipped template). ``feedback`` (a
    ``CopyValidationError`` message or the guard's findings) goes in a user message just
    before it, so a retry sees what was wrong with its previous answer.
    """
    payload = facts_json(facts, voice)
    last = template.user.replace("{brand_voice}", _canonical(voice.as_dict())).replace(
        "{facts_json}", payload
    )
    messages = [{"role": "system", "content": template.system}]
    if feedback and feedback.strip():
        content = template.feedback.replace("{feedback}", feedback.strip())
        messages.append({"role": "user", "content": content})
    messages.append({"role": "user", "content": last})
    return messages


def cache_key(
    template: PromptTemplate,
    facts: dict,
    voice: BrandVoice,
    model: str,
    feedback: str | None = None,
) -> str:
    """The generation cache key: sha256 hex of facts, voice, prompt and model as canonical JSON.

    ``feedback`` (the audit's fix instructions for a regeneration) is part of the key
    when given, so a fixed copy is cached apart from the first one.
    """
    material = {
        "facts": facts,
        "brand_voice": voice.as_dict(),
        "prompt": template.name,
        "prompt_version": template.prompt_version,
        "model": model,
    }
    if feedback:
        material["fix_feedback"] = feedback
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
