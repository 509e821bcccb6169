"""Rich text from headless CMSs written as HTML, as ``description_html`` holds it.

Contentful's Rich Text (a ``document`` node tree) and Strapi 5's Blocks (a list of typed
nodes with ``children``) become the HTML tags of their nodes, with bold, italic,
underline and code marks; text is escaped. Embedded entries and assets are left out.
"""

from __future__ import annotations

import html
from typing import Any

from structr_pipeline.core.connectors.pim.pagination import find_path

_CONTENTFUL_TAGS = {
    "paragraph": "p",
    "heading-1": "h1",
    "heading-2": "h2",
    "heading-3": "h3",
    "heading-4": "h4",
    "heading-5": "h5",
    "heading-6": "h6",
    "unordered-list": "ul",
    "ordered-list": "ol",
    "list-item": "li",
    "blockquote": "blockquote",
    "table": "table",
    "table-row": "tr",
    "table-cell": "td",
    "table-header-cell": "th",
}
_MARK_TAGS = {"bold": "strong", "italic": "em", "underline": "u", "code": "code"}


def _marked(text: str, marks: list[str]) -> str:
    out = html.escape(text, quote=False)
    for mark in marks:
        tag = _MARK_TAGS.get(mark)
        if tag:
            out = f"<{tag}>{out}</{tag}>"
    return out


def contentful_html(node: Any) -> str:
    """HTML from a Contentful Rich Text node (embedded entries and assets are left out)."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("nodeType")
    if kind == "text":
        marks = [m.get("type") for m in node.get("marks") or [] if isinstance(m, dict)]
        return _marked(str(node.get("value") or ""), [m for m in marks if isinstance(m, str)])
    inner = "".join(contentful_html(child) for child in node.get("content") or [])
    if kind == "hr":
        return "<hr>"
    if kind == "hyperlink":
        uri = find_path(node, "data.uri")
        href = html.escape(uri if isinstance(uri, str) else "")
        return f'<a href="{href}">{inner}</a>'
    tag = _CONTENTFUL_TAGS.get(str(kind))
    return f"<{tag}>{inner}</{tag}>" if tag else inner


def strapi_blocks_html(nodes: list[Any]) -> str:
    """HTML from Strapi 5's Blocks rich text."""
    parts = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "text":
            marks = [m for m in ("bold", "italic", "underline", "code") if node.get(m)]
            text = _marked(str(node.get("text") or ""), marks)
            parts.append(f"<s>{text}</s>" if node.get("strikethrough") else text)
            continue
        inner = strapi_blocks_html(node.get("children") or [])
        if kind == "heading":
            level = node.get("level") if node.get("level") in (1, 2, 3, 4, 5, 6) else 2
            parts.append(f"<h{level}>{inner}</h{level}>")
        elif kind == "list":
            tag = "ol" if node.get("format") == "ordered" else "ul"
            parts.append(f"<{tag}>{inner}</{tag}>")
        elif kind == "link":
            href = html.escape(str(node.get("url") or ""))
            parts.append(f'<a href="{href}">{inner}</a>')
        else:
            tag = {"paragraph": "p", "list-item": "li", "quote": "blockquote", "code": "pre"}
            name = tag.get(str(kind))
            parts.append(f"<{name}>{inner}</{name}>" if name else inner)
    return "".join(parts)


def is_strapi_blocks(value: list[Any]) -> bool:
    """Whether a JSON array is Strapi 5 Blocks (objects with ``type`` and ``children``)."""
    return bool(value) and all(
        isinstance(v, dict) and "type" in v and "children" in v for v in value
    )
