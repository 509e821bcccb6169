"""The product copy a model writes, and how its answer is read and checked.

``ProductCopy`` is the structured output: titles, an HTML description, bullets, a meta
description and one alt text per image, each with the length a storefront or a search
engine allows. ``parse_copy`` reads the model's JSON answer (a Markdown ```json fence is
tolerated), validates it, sanitizes the description with ``sanitize_html`` and, when
anything is wrong, raises ``CopyValidationError`` listing every problem field by field, in
words that can be sent back to the model for a retry.
"""

from __future__ import annotations

import html
import json
import re
from typing import Annotated, Any

import nh3
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from structr_pipeline.core.normalize import clean_text, sanitize_html

SEO_TITLE_MAX = 60
TITLE_MAX = 70
BULLET_MAX = 200
BULLETS_MIN, BULLETS_MAX = 3, 6
META_DESCRIPTION_MAX = 160
IMAGE_ALT_MAX = 125

COPY_FIELDS = ("seo_title", "title", "description_html", "bullets", "meta_description", "image_alt")

_Bullet = Annotated[str, Field(min_length=1, max_length=BULLET_MAX)]
_Alt = Annotated[str, Field(min_length=1, max_length=IMAGE_ALT_MAX)]

_PARAGRAPH = re.compile(r"(?i)<p\b[^>]*>")
_LIST_WITH_ITEM = re.compile(r"(?is)<ul\b[^>]*>.*?<li\b[^>]*>")


class ProductCopy(BaseModel):
    """Product copy as a model must return it (lengths in characters, after trimming)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seo_title: str = Field(min_length=1, max_length=SEO_TITLE_MAX)
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    description_html: str = Field(min_length=1)
    bullets: list[_Bullet] = Field(min_length=BULLETS_MIN, max_length=BULLETS_MAX)
    meta_description: str = Field(min_length=1, max_length=META_DESCRIPTION_MAX)
    image_alt: list[_Alt]

    @field_validator("seo_title", "title", "meta_description", mode="before")
    @classmethod
    def _clean_line(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("bullets", "image_alt", mode="before")
    @classmethod
    def _clean_lines(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [clean_text(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("description_html", mode="before")
    @classmethod
    def _sanitize(cls, value: Any) -> Any:
        return sanitize_html(value).html if isinstance(value, str) else value

    @field_validator("description_html")
    @classmethod
    def _structure(cls, value: str) -> str:
        missing = []
        if not _PARAGRAPH.search(value):
            missing.append("a <p> paragraph")
        if not _LIST_WITH_ITEM.search(value):
            missing.append("a <ul> list with <li> items")
        if missing:
            raise PydanticCustomError(
                "description_structure",
                "must contain at least one <p> paragraph and one <ul> list with <li> items "
                "(missing: {missing})",
                {"missing": " and ".join(missing)},
            )
        return value


class CopyValidationError(ValueError):
    """The model's answer cannot be used; ``problems`` lists each reason, field by field.

    ``str(error)`` is the whole list, one ``- field: problem`` line each, fit to send back
    to the model as feedback.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"- {p}" for p in self.problems))


_FENCE = re.compile(r"^\s*```[\w-]*[ \t]*\n?(.*?)\n?```\s*$", re.DOTALL)


def _location(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "answer"


def _problem(error: Any) -> str:
    """One pydantic error as ``field: what is wrong``."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    where = _location(error["loc"])
    if kind == "missing":
        return f"{where}: is missing"
    if kind == "extra_forbidden":
        return f"{where}: is not a ProductCopy key; return only {', '.join(COPY_FIELDS)}"
    if kind == "string_too_short":
        return f"{where}: must not be empty"
    if kind == "string_too_long":
        return (
            f"{where}: is {len(value)} characters; it must be at most "
            f"{ctx['max_length']} characters"
        )
    if kind == "too_short":
        return (
            f"{where}: has {ctx.get('actual_length')} items; it needs at least {ctx['min_length']}"
        )
    if kind == "too_long":
        return (
            f"{where}: has {ctx.get('actual_length')} items; it allows at most {ctx['max_length']}"
        )
    if kind == "string_type":
        return f"{where}: must be a string"
    if kind == "list_type":
        return f"{where}: must be a list of strings"
    return f"{where}: {error['msg']}"


def _json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object in a model's answer, or the reason there is none."""
    body = (text or "").strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        start, end = body.find("{"), body.rfind("}")
        try:
            data = json.loads(body[start : end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            return None, (
                f"answer: is not valid JSON ({error.msg} at line {error.lineno} column "
                f"{error.colno}); return one JSON object and nothing else"
            )
    if not isinstance(data, dict):
        return None, f"answer: must be one JSON object, not a {type(data).__name__}"
    return data, None


def parse_copy(text: str, image_count: int) -> ProductCopy:
    """Parse the model's JSON answer into a validated, sanitized ``ProductCopy``.

    A Markdown ```json fence around the object (or text around it) is tolerated. Raises
    ``CopyValidationError`` listing every problem at once: each field's length, type or
    structure, keys missing or not part of the model, and ``image_alt`` not having exactly
    ``image_count`` entries.
    """
    data, problem = _json_object(text)
    if data is None:
        raise CopyValidationError([problem or "answer: is empty"])
    problems: list[str] = []
    copy: ProductCopy | None = None
    try:
        copy = ProductCopy.model_validate(data)
    except ValidationError as error:
        problems.extend(_problem(e) for e in error.errors(include_url=False))
    alts = data.get("image_alt")
    if isinstance(alts, list) and len(alts) != image_count:
        problems.append(
            f"image_alt: has {len(alts)} entries but the product has {image_count} images; "
            "give exactly one alt text per image, in image order"
        )
    if problems or copy is None:
        raise CopyValidationError(problems)
    return copy


_BLOCK_END = re.compile(
    r"(?i)<\s*br\s*/?\s*>|<\s*/\s*(?:p|div|li|h[1-6]|tr|ul|ol|table|blockquote|section)\s*>"
)


def html_to_text(value: str) -> str:
    """The visible text of an HTML fragment: tags and script/style content removed,
    entities decoded, one line per paragraph or list item."""
    if not value:
        return ""
    stripped = nh3.clean(_BLOCK_END.sub("\n", value), tags=set())
    lines = (clean_text(line) for line in html.unescape(stripped).split("\n"))
    return "\n".join(line for line in lines if line)
