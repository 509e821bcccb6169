"""Magento 2 catalog export (System → Export → Products) read as products and variants.

Magento writes every product as a row of its own: a ``configurable`` product lists its
children in ``configurable_variations`` (``sku=MH01-XS-Black,size=XS,color=Black|…``)
and labels their attributes in ``configurable_variation_labels`` (``size=Size,…``);
the children are ``simple`` rows, usually not visible individually, and they are the
configurable's variants, not products. ``additional_attributes`` packs the product's
other attributes as ``code=value,…`` (multi-select values joined by ``|``),
``additional_images`` is a comma-separated list beside ``base_image``, and a row with
a ``store_view_code`` overrides the default row of its SKU for one store view. Image
paths are relative to the store's media URL (``/m/h/mh01-gray_main.jpg``); the
``image_base_url`` option turns them into URLs. Weights carry the store's weight unit,
which the file does not say: pounds (Magento's default) unless ``weight_unit`` says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from structr_pipeline.core.connectors.platforms import Platform, assembly
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.issues import RowIssue
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.normalize import clean_text

NAME = "magento"
LABEL = "Magento 2 catalog export"
DEFAULT_WEIGHT_UNIT = "lb"

NOT_VISIBLE = "not visible individually"
# Columns that fill canonical fields; every other non-empty column is kept as an attribute.
MAPPED_COLUMNS = (
    "sku",
    "store_view_code",
    "product_type",
    "name",
    "description",
    "weight",
    "product_online",
    "price",
    "special_price",
    "url_key",
    "meta_title",
    "meta_description",
    "base_image",
    "base_image_label",
    "qty",
    "additional_attributes",
    "configurable_variations",
    "configurable_variation_labels",
    "additional_images",
    "additional_image_labels",
)
# ``additional_attributes`` codes that give the barcode or the brand.
BARCODE_CODES = ("gtin", "ean", "upc", "barcode", "gtin13", "ean13")
BRAND_CODES = ("manufacturer", "brand")
# A comma that starts the next ``code=value`` pair (a value may itself hold commas).
_PAIR_COMMA = re.compile(r",(?=\s*[A-Za-z0-9_]+\s*=)")


def detect(header: list[str]) -> bool:
    """A Magento 2 export: ``sku``, ``product_type`` and ``attribute_set_code`` columns."""
    keys = {clean_text(h).lower() for h in header}
    return {"sku", "product_type", "attribute_set_code"} <= keys


def parse_pairs(text: str) -> dict[str, str]:
    """``code=value,code=value`` as a dict (a value may hold commas and ``|``)."""
    out: dict[str, str] = {}
    for part in _PAIR_COMMA.split(text or ""):
        code, sep, value = part.partition("=")
        if sep and clean_text(code):
            out[clean_text(code)] = clean_text(value)
    return out


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    overrides: list[_Row] = field(default_factory=list)

    def get(self, column: str) -> str:
        return clean_text(self.cells.get(column, ""))

    @property
    def sku(self) -> str:
        return self.get("sku")

    @property
    def kind(self) -> str:
        return self.get("product_type").lower() or "simple"


def _on_sale(row: _Row, today: date) -> bool:
    starts = row.get("special_price_from_date")[:10]
    ends = row.get("special_price_to_date")[:10]
    for text, after in ((starts, True), (ends, False)):
        try:
            day = _day(text)
        except ValueError:
            continue
        if day is not None and ((after and day > today) or (not after and day < today)):
            return False
    return True


def _day(text: str) -> date | None:
    if not text:
        return None
    if "/" in text:
        month, day, year = (int(p) for p in text.split("/")[:3])
        return date(year + 2000 if year < 100 else year, month, day)
    return date.fromisoformat(text)


class _Reader(assembly.PlatformReader, platform=NAME, label=LABEL):
    """Reads one export into products; holds what the reading shares."""

    def __init__(self, table: SourceTable, options: ProfileOptions, today: date) -> None:
        super().__init__(table, options)
        self.today = today
        self.unit = options.weight_unit or DEFAULT_WEIGHT_UNIT

    def image(self, path: str) -> str:
        path = clean_text(path)
        base = (self.options.image_base_url or "").rstrip("/")
        if path and base and not re.match(r"(?i)https?://", path):
            return f"{base}/{path.lstrip('/')}"
        return path

    def images(self, row: _Row) -> list[assembly.Image]:
        images = []
        if row.get("base_image"):
            images.append(
                assembly.Image(self.image(row.get("base_image")), row.get("base_image_label"))
            )
        paths = [p for p in row.get("additional_images").split(",") if clean_text(p)]
        labels = row.get("additional_image_labels").split(",")
        for n, path in enumerate(paths):
            label = clean_text(labels[n]) if n < len(labels) else ""
            images.append(assembly.Image(self.image(path), label))
        return images

    def attributes(self, row: _Row) -> dict[str, str]:
        """The row's unmapped columns, its ``additional_attributes`` and store-view overrides."""
        out = {
            name: text
            for name, value in row.cells.items()
            if name not in MAPPED_COLUMNS and (text := clean_text(value, multiline=True))
        }
        out.update(parse_pairs(row.get("additional_attributes")))
        for override in row.overrides:
            view = override.get("store_view_code")
            for name, value in override.cells.items():
                text = clean_text(value, multiline=True)
                if text and name not in ("sku", "store_view_code"):
                    out[f"{name} [{view}]"] = text
        return out

    def product(self, row: _Row) -> assembly.Product:
        extra = parse_pairs(row.get("additional_attributes"))
        categories = [c for c in row.get("categories").split(",") if clean_text(c)]
        deepest = max(categories, key=lambda c: c.count("/"), default="")
        online = row.get("product_online")
        return assembly.Product(
            handle=self.handles.claim(row.get("url_key"), row.get("name"), row.sku),
            line=row.line,
            values={
                "title": row.get("name"),
                "description_html": row.cells.get("description", "")
                or row.cells.get("short_description", ""),
                "vendor": next((extra[c] for c in BRAND_CODES if extra.get(c)), "")
                or (self.options.default_vendor or ""),
                "product_type": clean_text(deepest.split("/")[-1]),
                "status": {"1": "active", "0": "draft"}.get(online, ""),
                "seo_title": row.get("meta_title"),
                "seo_description": row.get("meta_description"),
            },
            images=self.images(row),
            attributes=self.attributes(row),
            lines=[o.line for o in row.overrides],
        )

    def variant(self, row: _Row, parent: _Row | None = None) -> assembly.Variant:
        extra = parse_pairs(row.get("additional_attributes"))
        sale = row.get("special_price") if _on_sale(row, self.today) else ""
        price, compare_at = assembly.price_pair(row.get("price"), sale)
        if not price and parent is not None:
            price, compare_at = assembly.price_pair(parent.get("price"), "")
        weight = row.get("weight") or (parent.get("weight") if parent is not None else "")
        values = {
            "sku": row.sku,
            "barcode": next((extra[c] for c in BARCODE_CODES if extra.get(c)), ""),
            "price": price,
            "compare_at_price": compare_at,
            "inventory_qty": row.get("qty"),
            "weight_grams": assembly.grams(weight, self.unit),
            "image_src": self.image(row.get("base_image")) if parent is not None else "",
        }
        return assembly.Variant(line=row.line, values=values)


FIELD_SOURCES = {
    "handle": "url_key",
    "title": "name",
    "description_html": "description",
    "vendor": "additional_attributes",
    "product_type": "categories",
    "status": "product_online",
    "seo_title": "meta_title",
    "seo_description": "meta_description",
    "sku": "sku",
    "barcode": "additional_attributes",
    "price": "price",
    "compare_at_price": "price",
    "inventory_qty": "qty",
    "weight_grams": "weight",
    "image_src": "base_image",
}


def _default_rows(reader: _Reader) -> list[_Row]:
    """The default rows, each with its store-view override rows attached."""
    defaults: list[_Row] = []
    by_sku: dict[str, _Row] = {}
    overrides: list[_Row] = []
    for line, cells in reader.rows:
        row = _Row(line, cells)
        if row.get("store_view_code"):
            overrides.append(row)
        else:
            defaults.append(row)
            by_sku.setdefault(row.sku, row)
    for row in overrides:
        target = by_sku.get(row.sku)
        if target is None:
            reader.rejections.append(
                assembly.Rejection(
                    row.line, "store_view_code", "store_view_without_default",
                    row.get("store_view_code"),
                    f"this row overrides SKU '{row.sku}' for store view "
                    f"'{row.get('store_view_code')}', but the SKU's default row (with an empty "
                    "store_view_code) is not in this file",
                )
            )  # fmt: skip
        else:
            target.overrides.append(row)
    return defaults


def _variations(row: _Row) -> list[dict[str, str]]:
    return [
        pairs
        for part in row.cells.get("configurable_variations", "").split("|")
        if (pairs := parse_pairs(part)).get("sku")
    ]


def assemble(
    table: SourceTable, options: ProfileOptions, today: date | None = None
) -> assembly.Assembly:
    """Read a Magento 2 export into products, each configurable with its children."""
    reader = _Reader(table, options, today or date.today())
    rows = _default_rows(reader)
    by_sku: dict[str, _Row] = {}
    for row in rows:
        if row.sku:
            by_sku.setdefault(row.sku, row)

    owner: dict[str, _Row] = {}
    for row in rows:
        if row.kind == "configurable":
            for entry in _variations(row):
                owner.setdefault(entry["sku"], row)

    products: list[assembly.Product] = []
    counts = {"configurable": 0, "children": 0, "configurable_without_children": 0}
    for row in rows:
        if row.kind == "configurable":
            product = _configurable(reader, row, by_sku, owner)
            if product is None:
                counts["configurable_without_children"] += 1
                continue
            counts["configurable"] += 1
            counts["children"] += len(product.variants)
            products.append(product)
        elif row.sku in owner and owner[row.sku] is not row:
            continue  # a child: read with its configurable
        else:
            products.append(_simple(reader, row))
    details = []
    if counts["children"]:
        details.append(
            f"{assembly.plural(counts['children'], 'child product')} as variants of "
            f"{assembly.plural(counts['configurable'], 'configurable product')}"
        )
    if counts["configurable_without_children"]:
        details.append(
            f"{assembly.plural(counts['configurable_without_children'], 'configurable product')} "
            "without children in this file"
        )
    views = sum(len(r.overrides) for r in rows)
    if views:
        details.append(f"{assembly.plural(views, 'store-view row')} kept as overrides")
    orphans = sum(1 for r in reader.rejections if r.check == "store_view_without_default")
    if orphans:
        details.append(
            f"{assembly.plural(orphans, 'store-view row')} whose SKU has no default row in "
            "this file"
        )
    counts["store_view_rows"] = views
    grouping = reader.summary(products, details, counts)
    return reader.reading(products, grouping, dict(FIELD_SOURCES)).assembly()


def _simple(reader: _Reader, row: _Row) -> assembly.Product:
    product = reader.product(row)
    product.lines = []
    variant = reader.variant(row)
    variant.extra_lines = [o.line for o in row.overrides]
    product.variants = [variant]
    if NOT_VISIBLE in row.get("visibility").lower():
        product.warnings.append(
            RowIssue(
                row.line, "visibility", "child_without_parent", row.get("visibility"),
                f"'{row.sku}' is not visible individually, but no configurable product in "
                "this file lists it as a child; it is imported as a product of its own",
            )
        )  # fmt: skip
    return product


def _configurable(
    reader: _Reader, row: _Row, by_sku: dict[str, _Row], owner: dict[str, _Row]
) -> assembly.Product | None:
    """A configurable product with its children as variants; None (rejected) if it has none."""
    entries = _variations(row)
    labels = parse_pairs(row.get("configurable_variation_labels"))
    codes: list[str] = []
    for entry in entries:
        codes.extend(c for c in entry if c != "sku" and c not in codes)
    names = {code: labels.get(code) or code.replace("_", " ").title() for code in codes}
    product = reader.product(row)
    product.lines = [row.line, *product.lines]
    missing, elsewhere = [], []
    for entry in entries:
        child = by_sku.get(entry["sku"])
        if child is None or child.kind == "configurable":
            missing.append(entry["sku"])
            continue
        if owner.get(entry["sku"]) is not row:
            elsewhere.append((entry["sku"], owner[entry["sku"]]))
            continue
        variant = reader.variant(child, row)
        child_pairs = parse_pairs(child.get("additional_attributes"))
        variant.options = {names[c]: entry.get(c) or child_pairs.get(c, "") for c in codes}
        variant.attributes = {
            k: v for k, v in reader.attributes(child).items() if product.attributes.get(k) != v
        }
        variant.extra_lines = [o.line for o in child.overrides]
        if NOT_VISIBLE not in child.get("visibility").lower() and child.get("visibility"):
            variant.warnings.append(
                RowIssue(
                    child.line, "visibility", "child_visible_individually",
                    child.get("visibility"),
                    f"'{child.sku}' is also visible on its own in Magento; it is imported as "
                    f"a variant of '{row.sku}' only",
                )
            )  # fmt: skip
        product.variants.append(variant)
    if not product.variants:
        listed = ", ".join(e["sku"] for e in entries[:5]) or "none"
        reason = (
            f"configurable product '{row.sku}' lists no children in configurable_variations"
            if not entries
            else f"configurable product '{row.sku}' has none of its children in this file, so "
            f"it has nothing to sell (it lists {listed}{', …' if len(entries) > 5 else ''})"
        )
        if elsewhere:
            taken = ", ".join(f"'{sku}' stays with '{other.sku}'" for sku, other in elsewhere[:3])
            reason += f"; listed children of another configurable product: {taken}"
        reader.rejections.append(
            assembly.Rejection(
                row.line, "configurable_variations", "configurable_without_children",
                row.get("configurable_variations")[:200], reason,
            )
        )  # fmt: skip
        reader.rejections.extend(
            assembly.Rejection(
                o.line, "store_view_code", "product_rejected", o.get("store_view_code"),
                f"this store-view row overrides configurable product '{row.sku}', which has "
                "no children in this file",
            )
            for o in row.overrides
        )  # fmt: skip
        return None
    option_names = [names[c] for c in codes]
    if len(option_names) > assembly.MAX_OPTIONS:
        product.warnings.append(
            RowIssue(
                row.line, "configurable_variations", "too_many_options", ", ".join(option_names),
                f"the product varies by {len(option_names)} attributes; only the first "
                f"{assembly.MAX_OPTIONS} become options, the rest are kept as attributes",
            )
        )  # fmt: skip
    product.option_names = option_names[: assembly.MAX_OPTIONS]
    for sku, other in elsewhere:
        product.warnings.append(
            RowIssue(
                row.line, "configurable_variations", "child_of_two_parents", sku,
                f"child '{sku}' is also listed by configurable product '{other.sku}' (line "
                f"{other.line}); it stays a variant of '{other.sku}'",
            )
        )  # fmt: skip
    if missing:
        shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
        product.warnings.append(
            RowIssue(
                row.line, "configurable_variations", "children_missing", shown,
                f"{assembly.plural(len(missing), 'listed child', 'listed children')} "
                f"of '{row.sku}' "
                f"{'is' if len(missing) == 1 else 'are'} not in this file: {shown}",
            )
        )  # fmt: skip
    assembly.option_warnings(product, "configurable_variations")
    return product


PLATFORM = Platform(name=NAME, label=LABEL, detect=detect, assemble=assemble)
