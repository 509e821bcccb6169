"""Amazon inventory flat files (Seller Central category templates) read as products.

A category template is a workbook whose Template sheet, saved as tab-delimited text or
CSV, starts with three rows: ``TemplateType=fptcustom`` with the version, signature and
settings, the local labels ("Seller SKU"), then the field names the records follow
(``item_sku``, ``item_name``, …); ``read_table`` takes the third row as the header.

Each record is one SKU. A ``parent_child=parent`` row is the variation family: it holds
the product's title, brand, description, bullets and images and has no price; each
``parent_child=child`` row names it in ``parent_sku`` and is one variant. A child whose
``relationship_type`` is not ``Variation`` (an ``Accessory``) is a product of its own.
``variation_theme`` (``SizeColor``, ``Size-Color``, ``SizeName-ColorName``, ``Color``…)
names the options and so the columns (``size_name``, ``color_name``, …) they are read
from. A row with no ``parent_child`` is a product with one variant.

Choices this module makes: the bullets (``bullet_point1…5``) are appended to the
description as an HTML list and also kept as attributes; ``external_product_id`` is the
barcode only when its type is UPC, EAN, GTIN or JAN (an ASIN or ISBN stays an
attribute); a sale price counts only between ``sale_from_date`` and ``sale_end_date``
(ISO dates; a date that cannot be read does not end the sale), and without a sale the
``list_price`` (MSRP) is the compare-at price when it is higher; ``generic_keywords``
(search terms) stay an attribute; a row marked ``update_delete=Delete`` is read with a
warning, and a product whose own row says Delete is archived.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from structr_pipeline.core.connectors.platforms import Platform, assembly
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.issues import RowIssue
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.normalize import clean_text, parse_number

NAME = "amazon"
LABEL = "Amazon inventory flat file"

# Template field names this module reads; every other column is kept as an attribute.
SKU = "item_sku"
SKU_SHORT = "sku"
FEED_PRODUCT_TYPE = "feed_product_type"
TITLE = "item_name"
BRAND = "brand_name"
DESCRIPTION = "product_description"
BULLETS = tuple(f"bullet_point{n}" for n in range(1, 6))
PRODUCT_ID = "external_product_id"
PRODUCT_ID_TYPE = "external_product_id_type"
PRICE = "standard_price"
SALE_PRICE = "sale_price"
SALE_FROM = "sale_from_date"
SALE_END = "sale_end_date"
LIST_PRICE = "list_price"
QUANTITY = "quantity"
MAIN_IMAGE = "main_image_url"
OTHER_IMAGES = tuple(f"other_image_url{n}" for n in range(1, 9))
PARENT_CHILD = "parent_child"
PARENT_SKU = "parent_sku"
RELATIONSHIP = "relationship_type"
THEME = "variation_theme"
UPDATE_DELETE = "update_delete"
ITEM_TYPE = "item_type"
DEPARTMENT = "department_name"
# (weight, unit) columns, the first one filled giving the variant's weight.
WEIGHTS = (
    ("item_weight", "item_weight_unit_of_measure"),
    ("website_shipping_weight", "website_shipping_weight_unit_of_measure"),
    ("package_weight", "package_weight_unit_of_measure"),
)
_WEIGHT_UNITS = {
    "gr": "g", "g": "g", "grams": "g", "kg": "kg", "kilograms": "kg",
    "lb": "lb", "lbs": "lb", "pounds": "lb", "oz": "oz", "ounces": "oz",
}  # fmt: skip
BARCODE_TYPES = frozenset({"upc", "ean", "gtin", "jan"})

# A variation theme's words (its letters, lower case) → option name and column. Longer
# words come first, so ``SizeName`` is read as one word and not as ``Size`` + ``Name``.
_THEME_WORDS: tuple[tuple[str, str, str], ...] = (
    ("itempackagequantity", "Item Package Quantity", "item_package_quantity"),
    ("numberofitems", "Number of Items", "number_of_items"),
    ("materialtype", "Material", "material_type"),
    ("patternname", "Pattern", "pattern_name"),
    ("flavorname", "Flavor", "flavor_name"),
    ("scentname", "Scent", "scent_name"),
    ("stylename", "Style", "style_name"),
    ("colorname", "Color", "color_name"),
    ("material", "Material", "material_type"),
    ("sizename", "Size", "size_name"),
    ("pattern", "Pattern", "pattern_name"),
    ("flavor", "Flavor", "flavor_name"),
    ("colour", "Color", "color_name"),
    ("scent", "Scent", "scent_name"),
    ("style", "Style", "style_name"),
    ("color", "Color", "color_name"),
    ("size", "Size", "size_name"),
)
# Option columns in the order they are offered when the theme names none.
_OPTION_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys((name, column) for _, name, column in _THEME_WORDS[::-1])
)
# Columns read into a product's own fields (for a parent, or a product of its own).
_PRODUCT_COLUMNS = (TITLE, BRAND, DESCRIPTION, MAIN_IMAGE, *OTHER_IMAGES, PARENT_CHILD)
# Columns read into a variant's own fields.
_VARIANT_COLUMNS = (SKU, SKU_SHORT, PRICE, QUANTITY)


def _key(name: str) -> str:
    return clean_text(name).lower()


def detect(header: list[str]) -> bool:
    """An Amazon flat file: ``item_sku`` with ``feed_product_type`` or ``parent_child``."""
    keys = {_key(h) for h in header}
    if SKU in keys:
        return bool(keys & {FEED_PRODUCT_TYPE, PARENT_CHILD})
    return {SKU_SHORT, FEED_PRODUCT_TYPE, PARENT_CHILD} <= keys


@dataclass
class _Row:
    """One SKU of the file: its cells and its place in a variation family."""

    line: int
    cells: dict[str, str]
    sku: str
    # "parent", "child" or "" (a product of its own).
    kind: str
    relationship: str = ""
    warnings: list[RowIssue] = field(default_factory=list)


@dataclass(frozen=True)
class ThemeOption:
    """One option of a variation family: its name and the column its values are in."""

    name: str
    column: str


def theme_options(theme: str) -> list[ThemeOption] | None:
    """The options a variation theme names (``SizeColor`` → Size, Color), in its order.

    None when a word of the theme is not one this module knows.
    """
    letters = re.sub(r"[^a-z]", "", theme.lower())
    options: list[ThemeOption] = []
    at = 0
    while at < len(letters):
        word = next((w for w in _THEME_WORDS if letters.startswith(w[0], at)), None)
        if word is None:
            return None
        option = ThemeOption(word[1], word[2])
        if option not in options:
            options.append(option)
        at += len(word[0])
    return options


def _sale_in_effect(starts: str, ends: str, today: date) -> bool:
    """False when the sale's dates say it has not started or has already ended."""
    try:
        if starts and date.fromisoformat(starts[:10]) > today:
            return False
        if ends and date.fromisoformat(ends[:10]) < today:
            return False
    except ValueError:
        return True
    return True


def _higher(price: str, other: str) -> str:
    """``other`` when it is a higher amount than ``price`` (a compare-at price), else ""."""
    low, _ = parse_number(price)
    high, _ = parse_number(other)
    return other if low is not None and high is not None and high > low else ""


def _last_segment(path: str) -> str:
    return path.split(">")[-1].strip()


class _Reader(assembly.PlatformReader, platform=NAME, label=LABEL):
    """Reads one file's rows into products; holds what the reading needs to share."""

    def __init__(self, table: SourceTable, options: ProfileOptions, today: date) -> None:
        super().__init__(table, options)
        self.by_key = {_key(h): h for h in self.rows.header}
        self.today = today

    def name(self, column: str) -> str:
        """The file's spelling of a template column (the column itself when absent)."""
        return self.by_key.get(column, column)

    def cell(self, row: _Row, column: str) -> str:
        """The cleaned cell of ``column`` in ``row`` (empty when the file lacks it)."""
        name = self.by_key.get(column)
        return clean_text(row.cells.get(name, "")) if name else ""

    def first(self, rows: Iterable[_Row], column: str) -> str:
        """The first non-empty cell of ``column`` among ``rows``."""
        return next((v for row in rows if (v := self.cell(row, column))), "")

    def reject(self, row: _Row, column: str, check: str, value: str, message: str) -> None:
        self.rejections.append(
            assembly.Rejection(row.line, self.name(column), check, value, message)
        )

    def warn(self, row: _Row, column: str, check: str, value: str, message: str) -> RowIssue:
        return RowIssue(row.line, self.name(column), check, value, message)

    def parse(self) -> list[_Row]:
        """Every record as a row: its SKU, kind (parent, child or "") and relationship."""
        parsed = []
        for line, cells in self.rows:
            row = _Row(line, cells, "", "")
            row.sku = self.cell(row, SKU) or self.cell(row, SKU_SHORT)
            kind = self.cell(row, PARENT_CHILD).lower()
            row.kind = kind if kind in ("parent", "child") else ""
            row.relationship = self.cell(row, RELATIONSHIP)
            parsed.append(row)
        return parsed

    def extra(self, row: _Row, used: Iterable[str]) -> dict[str, str]:
        """The row's non-empty cells of every column no field was read from, by header name."""
        taken = {self.name(c) for c in used}
        out = {}
        for name, value in row.cells.items():
            if name in taken:
                continue
            text = clean_text(value, multiline=True)
            if text:
                out[name] = text
        return out

    def description(self, rows: list[_Row]) -> str:
        """The first row's description with its bullets appended as an HTML list."""
        for row in rows:
            text = clean_text(row.cells.get(self.name(DESCRIPTION), ""), multiline=True)
            bullets = [b for c in BULLETS if (b := self.cell(row, c))]
            if not (text or bullets):
                continue
            if bullets:
                items = "".join(f"<li>{html.escape(b, quote=False)}</li>" for b in bullets)
                text = f"{text}\n<ul>{items}</ul>" if text else f"<ul>{items}</ul>"
            return text
        return ""

    def product(self, row: _Row, family: list[_Row]) -> tuple[assembly.Product, set[str]]:
        """A product from its own row (and its family's rows, for fields it leaves empty)."""
        rows = [row, *family]
        title = self.first(rows, TITLE)
        item_type = self.first(rows, ITEM_TYPE)
        product_type_column = ITEM_TYPE if item_type else DEPARTMENT
        path = item_type or self.first(rows, DEPARTMENT)
        values = {
            "title": title,
            "description_html": self.description(rows),
            "vendor": self.first(rows, BRAND) or (self.options.default_vendor or ""),
            "product_type": _last_segment(path),
        }
        used = set(_PRODUCT_COLUMNS)
        if path == values["product_type"]:
            used.add(product_type_column)
        images = [self.cell(row, c) for c in (MAIN_IMAGE, *OTHER_IMAGES)]
        product = assembly.Product(
            handle=self.handles.claim(title, row.sku),
            line=row.line,
            values=values,
            images=[assembly.Image(src) for src in images if src],
        )
        if self.cell(row, UPDATE_DELETE).lower() == "delete":
            product.values["status"] = "archived"
            product.warnings.append(self.delete_warning(row, "its product is archived"))
        return product, used

    def delete_warning(self, row: _Row, consequence: str) -> RowIssue:
        """The warning on a row that asks Amazon to delete its listing."""
        return self.warn(
            row, UPDATE_DELETE, "amazon_row_deletes_listing", self.cell(row, UPDATE_DELETE),
            f"this row asks Amazon to delete SKU '{row.sku}' (update_delete is Delete); it "
            f"is read anyway and {consequence}; leave it out if the item is no longer sold",
        )  # fmt: skip

    def variant(self, row: _Row) -> tuple[assembly.Variant, set[str]]:
        """A variant's own fields from its row, and the columns they were read from."""
        used = set(_VARIANT_COLUMNS)
        price, compare_at = self.prices(row, used)
        variant = assembly.Variant(
            line=row.line,
            values={
                "sku": row.sku,
                "price": price,
                "compare_at_price": compare_at,
                "inventory_qty": self.cell(row, QUANTITY),
            },
        )
        id_type = self.cell(row, PRODUCT_ID_TYPE)
        if id_type.lower() in BARCODE_TYPES:
            variant.values["barcode"] = self.cell(row, PRODUCT_ID)
            used |= {PRODUCT_ID, PRODUCT_ID_TYPE}
        variant.values["weight_grams"] = self.weight(row, variant, used)
        return variant, used

    def prices(self, row: _Row, used: set[str]) -> tuple[str, str]:
        """Price and compare-at price: a sale in effect, else the list price (MSRP).

        A sale or list price that is not used stays an attribute.
        """
        standard = self.cell(row, PRICE)
        sale = self.cell(row, SALE_PRICE)
        starts, ends = self.cell(row, SALE_FROM), self.cell(row, SALE_END)
        if sale and _sale_in_effect(starts, ends, self.today):
            used.add(SALE_PRICE)
            return assembly.price_pair(standard, sale)
        compare_at = _higher(standard, self.cell(row, LIST_PRICE))
        if compare_at:
            used.add(LIST_PRICE)
        return standard, compare_at

    def weight(self, row: _Row, variant: assembly.Variant, used: set[str]) -> str:
        """Grams from the first weight column filled; its columns are added to ``used``."""
        for column, unit_column in WEIGHTS:
            value = self.cell(row, column)
            if not value:
                continue
            unit_text = self.cell(row, unit_column)
            unit = _WEIGHT_UNITS.get(unit_text.lower()) if unit_text else self.options.weight_unit
            if unit is None:
                shown = unit_text or "none"
                variant.warnings.append(
                    self.warn(
                        row, unit_column, "amazon_weight_unit_unknown", unit_text,
                        f"the weight {value} has the unit '{shown}', which is not one of GR, "
                        "KG, OZ or LB; the weight is kept as an attribute only",
                    )
                )  # fmt: skip
                return ""
            used |= {column, unit_column}
            return assembly.grams(value, unit)
        return ""

    def field_sources(self) -> dict[str, str]:
        sku = SKU if SKU in self.by_key else SKU_SHORT
        sources = {
            "title": TITLE,
            "handle": TITLE,
            "description_html": DESCRIPTION,
            "vendor": BRAND,
            "product_type": ITEM_TYPE,
            "sku": sku,
            "barcode": PRODUCT_ID,
            "price": PRICE,
            "compare_at_price": LIST_PRICE if LIST_PRICE in self.by_key else PRICE,
            "inventory_qty": QUANTITY,
            "weight_grams": WEIGHTS[0][0],
            "image_src": MAIN_IMAGE,
        }
        return {f: self.by_key[c] for f, c in sources.items() if c in self.by_key}


def _standalone(reader: _Reader, row: _Row) -> assembly.Product:
    """A row that is a product of its own, with itself as its one variant."""
    product, used = reader.product(row, [])
    variant, variant_used = reader.variant(row)
    if row.kind == "child":  # an accessory: its relationship is kept as attributes
        used.discard(PARENT_CHILD)
    product.attributes = reader.extra(row, used | variant_used)
    variant.warnings.extend(row.warnings)
    product.variants = [variant]
    return product


def _family_options(reader: _Reader, parent: _Row, children: list[_Row]) -> list[ThemeOption]:
    """The options of a variation family, from its theme (else the columns its children fill)."""
    theme = reader.cell(parent, THEME) or reader.first(children, THEME)
    options = theme_options(theme) if theme else None
    if options is not None:
        for child in children:
            own = reader.cell(child, THEME)
            if own and theme_options(own) != options:
                child.warnings.append(
                    reader.warn(
                        child, THEME, "amazon_theme_differs", own,
                        f"this child's variation theme '{own}' differs from its family's "
                        f"'{theme}' (line {parent.line}); the family's theme is used",
                    )
                )  # fmt: skip
        return options
    filled = [
        ThemeOption(name, column)
        for name, column in _OPTION_COLUMNS
        if any(reader.cell(child, column) for child in children)
    ]
    reason = f"'{theme}' is not a variation theme this reader knows" if theme else "no theme"
    shown = ", ".join(o.column for o in filled) or "none"
    parent.warnings.append(
        reader.warn(
            parent, THEME, "amazon_theme_unknown", theme,
            f"the family of '{parent.sku}' has {reason}; its options are the variation "
            f"columns its children fill ({shown})",
        )
    )  # fmt: skip
    return filled


def _family(reader: _Reader, parent: _Row, children: list[_Row]) -> assembly.Product:
    """A parent row and its children as one product with a variant per child."""
    product, used = reader.product(parent, children)
    # The parent's SKU is the family's: kept under the column its children name it in.
    product.attributes = reader.extra(parent, used | {SKU, SKU_SHORT})
    product.attributes[reader.name(PARENT_SKU)] = parent.sku
    options = _family_options(reader, parent, children)
    product.warnings.extend(parent.warnings)
    if len(options) > assembly.MAX_OPTIONS:
        names = ", ".join(o.name for o in options)
        product.warnings.append(
            reader.warn(
                parent, THEME, "too_many_options", names,
                f"the family varies by {len(options)} attributes ({names}); only the first "
                f"{assembly.MAX_OPTIONS} become options, the rest are kept as attributes",
            )
        )  # fmt: skip
    options = options[: assembly.MAX_OPTIONS]
    product.option_names = [o.name for o in options]
    for child in children:
        product.variants.append(_child_variant(reader, product, parent, child, options))
    _default_option(reader, product, parent, children)
    product.lines = [parent.line]
    if options:
        assembly.option_warnings(product, reader.name(options[0].column))
    return product


def _child_variant(
    reader: _Reader,
    product: assembly.Product,
    parent: _Row,
    child: _Row,
    options: list[ThemeOption],
) -> assembly.Variant:
    """One child as a variant: its own fields, options, image and differing cells."""
    variant, used = reader.variant(child)
    used |= {MAIN_IMAGE, *OTHER_IMAGES, PARENT_CHILD, PARENT_SKU, RELATIONSHIP}
    variant.values["image_src"] = reader.cell(child, MAIN_IMAGE)
    product.images.extend(
        assembly.Image(src) for c in OTHER_IMAGES if (src := reader.cell(child, c))
    )
    theme = reader.cell(parent, THEME) or reader.cell(child, THEME)
    for option in options:
        value = reader.cell(child, option.column)
        used.add(option.column)
        variant.options[option.name] = value
        if not value:
            variant.warnings.append(
                reader.warn(
                    child, option.column, "amazon_option_value_missing", "",
                    f"this child has no {option.column}, though its family's variation "
                    f"theme '{theme}' varies by {option.name}",
                )
            )  # fmt: skip
    variant.warnings.extend(child.warnings)
    if reader.cell(child, UPDATE_DELETE).lower() == "delete":
        variant.warnings.append(reader.delete_warning(child, "it is kept as a variant"))
    parent_cells = {k: clean_text(v, multiline=True) for k, v in parent.cells.items()}
    variant.attributes = {
        k: v for k, v in reader.extra(child, used).items() if parent_cells.get(k) != v
    }
    return variant


def _default_option(reader: _Reader, product: assembly.Product, parent: _Row, children: list[_Row]):
    """Variants without options are told apart by their own title (else their SKU)."""
    if product.option_names or len(product.variants) < 2:
        return
    product.option_names = ["Variant"]
    for variant, child in zip(product.variants, children, strict=True):
        variant.options["Variant"] = reader.cell(child, TITLE) or child.sku
    product.warnings.append(
        reader.warn(
            parent, THEME, "amazon_family_without_options", reader.cell(parent, THEME),
            f"the children of '{parent.sku}' differ in no variation column; each is offered "
            "under its own title as the option 'Variant'",
        )
    )  # fmt: skip


@dataclass
class _Families:
    """The file's rows sorted into variation families, products of their own and rejects."""

    children: dict[int, list[_Row]] = field(default_factory=dict)
    standalone: list[_Row] = field(default_factory=list)
    accessories: int = 0


def _sort_rows(reader: _Reader, rows: list[_Row]) -> _Families:
    """Attach each child to its parent; reject the children that cannot be attached."""
    parents = {}
    for row in rows:
        if row.kind == "parent" and row.sku:
            parents.setdefault(row.sku, row)
    by_sku = {}
    for row in rows:
        by_sku.setdefault(row.sku, row)
    families = _Families(children={p.line: [] for p in parents.values()})
    for row in rows:
        if row.kind == "parent":
            continue
        if row.kind == "" or (row.relationship and row.relationship.lower() != "variation"):
            if row.kind == "child":
                families.accessories += 1
                row.warnings.append(_accessory_warning(reader, row))
            families.standalone.append(row)
            continue
        reference = reader.cell(row, PARENT_SKU)
        parent = parents.get(reference)
        if parent is None:
            _reject_orphan(reader, row, reference, by_sku.get(reference))
        else:
            families.children[parent.line].append(row)
    return families


def _accessory_warning(reader: _Reader, row: _Row) -> RowIssue:
    reference = reader.cell(row, PARENT_SKU)
    return reader.warn(
        row, RELATIONSHIP, "amazon_relationship_not_variation", row.relationship,
        f"this child is related to '{reference}' as {row.relationship}, not as a Variation, "
        "so it is read as a product of its own",
    )  # fmt: skip


def _reject_orphan(reader: _Reader, row: _Row, reference: str, named: _Row | None) -> None:
    if not reference:
        reason = "this child names no parent (parent_sku is empty), so it belongs to no product"
    elif named is not None:
        reason = (
            f"this child's parent_sku '{reference}' is the SKU on line {named.line}, which is "
            "not a parent row (parent_child is not 'parent')"
        )
    else:
        reason = (
            f"this child's parent_sku '{reference}' is not in this file; upload the parent "
            "row together with its children"
        )
    reader.reject(row, PARENT_SKU, "amazon_parent_missing", reference, reason)


def read(
    table: SourceTable, options: ProfileOptions, today: date | None = None
) -> assembly.Reading:
    """Read an Amazon flat file into products, each parent with its children as variants."""
    reader = _Reader(table, options, today or date.today())
    rows = reader.parse()
    families = _sort_rows(reader, rows)
    products: list[assembly.Product] = []
    childless = 0
    for row in rows:
        if row.kind == "parent" and row.line in families.children:
            children = families.children[row.line]
            if children:
                products.append(_family(reader, row, children))
                continue
            childless += 1
            reader.reject(
                row, PARENT_CHILD, "amazon_parent_without_children", "parent",
                f"parent '{row.sku}' has no Variation children in this file, so it has "
                "nothing to sell (a parent row is never buyable on Amazon)",
            )  # fmt: skip
        elif row.kind == "parent":
            reason = (
                f"this parent repeats SKU '{row.sku}' of an earlier parent row, whose children "
                "it would share"
                if row.sku
                else "this parent row has no item_sku, so no child can name it"
            )
            reader.reject(row, SKU, "amazon_parent_sku_unusable", row.sku, reason)
    products += [_standalone(reader, row) for row in families.standalone]
    grouping = _grouping(reader, products, families, childless)
    return reader.reading(products, grouping, reader.field_sources())


def assemble(
    table: SourceTable, options: ProfileOptions, today: date | None = None
) -> assembly.Assembly:
    """Read an Amazon flat file into the canonical frame, a row per variant."""
    return read(table, options, today).assembly()


def _grouping(
    reader: _Reader, products: list[assembly.Product], families: _Families, childless: int
) -> assembly.Grouping:
    """How the file's rows grouped, in numbers and in phrases."""
    parents = sum(1 for kids in families.children.values() if kids)
    children = sum(len(kids) for kids in families.children.values())
    details = []
    if children:
        details.append(
            f"{assembly.plural(children, 'child', 'children')} "
            f"under {assembly.plural(parents, 'parent')}"
        )
    alone = len(families.standalone) - families.accessories
    if alone:
        details.append(assembly.plural(alone, "standalone product"))
    if families.accessories:
        details.append(
            f"{assembly.plural(families.accessories, 'accessory child', 'accessory children')} "
            "read as products of their own"
        )
    if reader.rejections:
        details.append(f"{assembly.plural(len(reader.rejections), 'row')} that make no product")
    counts = {
        "parents": parents,
        "children": children,
        "standalone": alone,
        "accessories": families.accessories,
        "parents_without_children": childless,
    }
    return reader.summary(products, details, counts)


PLATFORM = Platform(name=NAME, label=LABEL, detect=detect, assemble=assemble)
