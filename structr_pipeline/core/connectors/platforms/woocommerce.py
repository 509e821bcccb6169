"""WooCommerce product CSV (the built-in exporter's columns) read as products and variants.

A WooCommerce export writes one row per product post: ``simple`` and ``external``
products sell themselves; a ``variable`` product sells through its ``variation`` rows,
which name it in ``Parent`` (its SKU, or ``id:NN``); a ``grouped`` product has no price
of its own and lists other products in ``Grouped products``. Types may be combined
(``simple, downloadable, virtual``). Variation attributes are ``Attribute N name`` /
``Attribute N value(s)`` (an empty value on a variation means "any"), ``Sale price``
beside ``Regular price`` is a storefront's price with the regular price struck through,
``Images`` is a comma-separated list and ``Categories`` a comma-separated list of
``>`` paths. The exporter writes line breaks inside descriptions as a literal ``\\n``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from structr_pipeline.core.connectors.platforms import Platform, assembly
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.issues import RowIssue
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.normalize import clean_text

NAME = "woocommerce"
LABEL = "WooCommerce product export"

# Columns of the exporter that fill canonical fields (matched without case); every other
# column is kept as an attribute under its own name.
TYPE = "Type"
SKU = "SKU"
GTIN = "GTIN, UPC, EAN, or ISBN"
TITLE = "Name"
PUBLISHED = "Published"
SHORT_DESCRIPTION = "Short description"
DESCRIPTION = "Description"
SALE_STARTS = "Date sale price starts"
SALE_ENDS = "Date sale price ends"
STOCK = "Stock"
SALE_PRICE = "Sale price"
REGULAR_PRICE = "Regular price"
CATEGORIES = "Categories"
TAGS = "Tags"
IMAGES = "Images"
PARENT = "Parent"
GROUPED = "Grouped products"
POSITION = "Position"
BRANDS = "Brands"
ID = "ID"
# SEO plugins' meta columns, read when present.
SEO_TITLE_META = ("Meta: _yoast_wpseo_title", "Meta: rank_math_title")
SEO_DESCRIPTION_META = ("Meta: _yoast_wpseo_metadesc", "Meta: rank_math_description")

_WEIGHT = re.compile(r"weight\s*\((\w+)\)", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"attribute (\d+) (name|value\(s\)|visible|global|default)", re.I)
# A comma that separates two list items (the exporter writes a comma inside a name as \,).
_LIST_COMMA = re.compile(r"(?<!\\),")
_STATUS = {"1": "active", "0": "draft", "-1": "draft"}
# How the grouping line names each kind of row that makes no product (the rows without
# variations are named on their own): noun, plural, rest of the phrase.
_REJECTION_PHRASES = {
    "variation_parent_missing": ("variation", "variations", " whose parent is not in this file"),
    "variation_parent_not_variable": (
        "variation",
        "variations",
        " under a product that is not variable",
    ),
    "grouped_without_products": (
        "grouped product",
        "grouped products",
        " none of whose products is in this file",
    ),
}


def _key(name: str) -> str:
    return clean_text(name).casefold()


def detect(header: list[str]) -> bool:
    """A WooCommerce export: ``Type``, ``Name`` and ``Regular price`` or ``Parent``."""
    keys = {_key(h) for h in header}
    has_woo_column = _key(REGULAR_PRICE) in keys or (_key(PARENT) in keys and _key(GROUPED) in keys)
    return {_key(TYPE), _key(TITLE)} <= keys and has_woo_column


@dataclass
class _Row:
    """One exported product post: its cells, its kinds and its attributes."""

    line: int
    cells: dict[str, str]
    kinds: set[str]
    # Attribute name → (values, default value), in the row's attribute order.
    attributes: dict[str, tuple[list[str], str]] = field(default_factory=dict)


class _Columns:
    """The file's own spelling of each exporter column, looked up without case."""

    def __init__(self, header: list[str]) -> None:
        self.by_key = {_key(h): h for h in header}
        weight = next(((h, m) for h in header if (m := _WEIGHT.fullmatch(clean_text(h)))), None)
        self.weight = weight[0] if weight else None
        self.weight_unit = weight[1].group(1).lower() if weight else None
        self.attributes: dict[int, dict[str, str]] = {}
        for name in header:
            match = _ATTRIBUTE.fullmatch(clean_text(name))
            if match:
                self.attributes.setdefault(int(match.group(1)), {})[match.group(2).lower()] = name

    def name(self, column: str) -> str | None:
        """The header cell for ``column``, or None when the file has no such column."""
        return self.by_key.get(_key(column))

    def cell(self, cells: dict[str, str], column: str) -> str:
        """The cleaned cell of ``column`` in a row (empty when the file lacks it)."""
        name = self.name(column)
        return clean_text(cells.get(name, "")) if name else ""

    def first(self, cells: dict[str, str], columns: tuple[str, ...]) -> str:
        """The first non-empty cell among ``columns``."""
        return next((v for c in columns if (v := self.cell(cells, c))), "")


def _unescape(text: str) -> str:
    """The exporter's escapes undone: a literal ``\\n`` is a line break again."""
    return text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\r", "\n")


def _list(text: str) -> list[str]:
    return [clean_text(p.replace("\\,", ",")) for p in _LIST_COMMA.split(text) if clean_text(p)]


def _row_attributes(columns: _Columns, cells: dict[str, str]) -> dict[str, tuple[list[str], str]]:
    out: dict[str, tuple[list[str], str]] = {}
    for number in sorted(columns.attributes):
        parts = columns.attributes[number]
        name = clean_text(cells.get(parts.get("name", ""), ""))
        if not name:
            continue
        values = _list(cells.get(parts.get("value(s)", ""), ""))
        default = clean_text(cells.get(parts.get("default", ""), ""))
        out[name] = (values, default)
    return out


def _on_sale(columns: _Columns, cells: dict[str, str], today: date) -> bool:
    """False when the sale's dates say it has not started or has already ended."""
    starts, ends = columns.cell(cells, SALE_STARTS)[:10], columns.cell(cells, SALE_ENDS)[:10]
    try:
        if starts and date.fromisoformat(starts) > today:
            return False
        if ends and date.fromisoformat(ends) < today:
            return False
    except ValueError:
        return True
    return True


class _Reader(assembly.PlatformReader, platform=NAME, label=LABEL):
    """Reads one file's rows into products; holds what the reading needs to share."""

    def __init__(self, table: SourceTable, options: ProfileOptions, today: date) -> None:
        super().__init__(table, options)
        self.columns = _Columns(self.rows.header)
        self.today = today
        self.mapped = {
            c
            for c in (
                TYPE, SKU, GTIN, TITLE, PUBLISHED, DESCRIPTION, STOCK, SALE_PRICE,
                REGULAR_PRICE, TAGS, IMAGES, PARENT, BRANDS, *SEO_TITLE_META,
                *SEO_DESCRIPTION_META,
            )
            if self.columns.name(c)
        }  # fmt: skip
        if self.columns.weight:
            self.mapped.add(self.columns.weight)
        self.mapped_names = {self.columns.name(c) or c for c in self.mapped}

    def reject(self, row: _Row, column: str, check: str, value: str, message: str) -> None:
        self.rejections.append(
            assembly.Rejection(row.line, self.columns.name(column) or column, check, value, message)
        )

    def extra(self, cells: dict[str, str]) -> dict[str, str]:
        """Every column no field is read from, by its header name (empty cells left out)."""
        out = {}
        for name, value in cells.items():
            if name in self.mapped_names:
                continue
            text = clean_text(_unescape(value), multiline=True)
            if text:
                out[name] = text
        return out

    def parse(self) -> list[_Row]:
        parsed = []
        for line, cells in self.rows:
            kinds = {
                k.strip().lower() for k in cells.get(self.columns.name(TYPE) or "", "").split(",")
            }
            kinds.discard("")
            parsed.append(
                _Row(line, cells, kinds or {"simple"}, _row_attributes(self.columns, cells))
            )
        return parsed

    def product(self, row: _Row) -> assembly.Product:
        col = self.columns
        cells = row.cells
        title = col.cell(cells, TITLE)
        description = _unescape(cells.get(col.name(DESCRIPTION) or "", ""))
        if not clean_text(description):
            description = _unescape(cells.get(col.name(SHORT_DESCRIPTION) or "", ""))
        categories = _list(col.cell(cells, CATEGORIES))
        first_category = categories[0].split(">")[-1].strip() if categories else ""
        values = {
            "title": title,
            "description_html": description,
            "vendor": ", ".join(_list(col.cell(cells, BRANDS)))
            or (self.options.default_vendor or ""),
            "product_type": first_category,
            "tags": col.cell(cells, TAGS).replace("\\,", ","),
            "status": _STATUS.get(col.cell(cells, PUBLISHED), ""),
            "seo_title": col.first(cells, SEO_TITLE_META),
            "seo_description": col.first(cells, SEO_DESCRIPTION_META),
        }
        handle = self.handles.claim(title, col.cell(cells, SKU))
        images = [assembly.Image(src) for src in assembly.split_list(col.cell(cells, IMAGES))]
        return assembly.Product(
            handle=handle,
            line=row.line,
            values=values,
            images=images,
            attributes=self.extra(cells),
        )

    def variant(self, row: _Row, parent: _Row | None = None) -> assembly.Variant:
        col = self.columns
        cells = row.cells
        regular, sale = col.cell(cells, REGULAR_PRICE), col.cell(cells, SALE_PRICE)
        if sale and not _on_sale(col, cells, self.today):
            sale = ""
        price, compare_at = assembly.price_pair(regular, sale)
        weight = col.cell(cells, col.weight) if col.weight else ""
        if not weight and parent is not None and col.weight:
            weight = col.cell(parent.cells, col.weight)
        images = assembly.split_list(col.cell(cells, IMAGES))
        values = {
            "sku": col.cell(cells, SKU),
            "barcode": col.cell(cells, GTIN),
            "price": price,
            "compare_at_price": compare_at,
            "inventory_qty": col.cell(cells, STOCK),
            "weight_grams": assembly.grams(weight, self.options.weight_unit or col.weight_unit),
            "image_src": images[0] if (images and parent is not None) else "",
        }
        return assembly.Variant(line=row.line, values=values, attributes={})

    def field_sources(self) -> dict[str, str]:
        col = self.columns
        sources = {
            "handle": TITLE,
            "title": TITLE,
            "description_html": DESCRIPTION,
            "vendor": BRANDS,
            "product_type": CATEGORIES,
            "tags": TAGS,
            "status": PUBLISHED,
            "sku": SKU,
            "barcode": GTIN,
            "price": REGULAR_PRICE,
            "compare_at_price": REGULAR_PRICE,
            "inventory_qty": STOCK,
            "image_src": IMAGES,
        }
        out = {field_name: name for field_name, c in sources.items() if (name := col.name(c))}
        if col.weight:
            out["weight_grams"] = col.weight
        return out


def _parent_lookup(rows: list[_Row], columns: _Columns) -> Callable[[str], _Row | None]:
    """Find a row by ``id:NN`` (its ID) or by SKU (exact, else without case)."""
    by_id: dict[str, _Row] = {}
    by_sku: dict[str, _Row] = {}
    by_sku_folded: dict[str, _Row] = {}
    for row in rows:
        if "variation" in row.kinds:
            continue
        row_id = columns.cell(row.cells, ID)
        sku = columns.cell(row.cells, SKU)
        if row_id:
            by_id.setdefault(row_id, row)
        if sku:
            by_sku.setdefault(sku, row)
            by_sku_folded.setdefault(sku.casefold(), row)

    def find(reference: str) -> _Row | None:
        reference = clean_text(reference)
        if reference.lower().startswith("id:"):
            return by_id.get(reference[3:].strip())
        return by_sku.get(reference) or by_sku_folded.get(reference.casefold())

    return find


def assemble(
    table: SourceTable, options: ProfileOptions, today: date | None = None
) -> assembly.Assembly:
    """Read a WooCommerce export into products, each variable product with its variations."""
    reader = _Reader(table, options, today or date.today())
    rows = reader.parse()
    columns = reader.columns
    find = _parent_lookup(rows, columns)

    children: dict[int, list[_Row]] = {}
    for row in rows:
        if "variation" not in row.kinds:
            continue
        reference = columns.cell(row.cells, PARENT)
        parent = find(reference) if reference else None
        if parent is None:
            reason = (
                f"this variation's parent '{reference}' is not in this file; export the "
                "variable product together with its variations"
                if reference
                else "this variation names no parent product (the Parent column is empty)"
            )
            reader.reject(row, PARENT, "variation_parent_missing", reference, reason)
        elif "variable" not in parent.kinds:
            reader.reject(
                row, PARENT, "variation_parent_not_variable", reference,
                f"this variation's parent '{reference}' (line {parent.line}) is a "
                f"{', '.join(sorted(parent.kinds))} product, not a variable one",
            )  # fmt: skip
        else:
            children.setdefault(parent.line, []).append(row)

    products: dict[int, assembly.Product] = {}
    groups: list[_Row] = []
    counts = {"variable": 0, "variations": 0, "variable_without_variations": 0, "grouped": 0}
    for row in rows:
        if "variation" in row.kinds:
            continue
        if "grouped" in row.kinds:
            groups.append(row)
            continue
        if "variable" in row.kinds:
            own = children.get(row.line, [])
            if not own:
                counts["variable_without_variations"] += 1
                reader.reject(
                    row, TYPE, "variable_without_variations", columns.cell(row.cells, TYPE),
                    f"variable product '{columns.cell(row.cells, TITLE)}' has no variations in "
                    "this file, so it has nothing to sell; export it with its variations",
                )  # fmt: skip
                continue
            products[row.line] = _variable_product(reader, row, own)
            counts["variable"] += 1
            counts["variations"] += len(own)
        else:
            product = reader.product(row)
            product.variants = [reader.variant(row)]
            products[row.line] = product
    counts["grouped"] = _fold_groups(reader, groups, products, find)

    assembled = list(products.values())
    details = []
    if counts["variations"]:
        details.append(
            f"{assembly.plural(counts['variations'], 'variation')} under "
            f"{assembly.plural(counts['variable'], 'variable product')}"
        )
    if counts["variable_without_variations"]:
        details.append(
            f"{assembly.plural(counts['variable_without_variations'], 'variable product')} without "
            "variations in this file"
        )
    if counts["grouped"]:
        details.append(
            f"{assembly.plural(counts['grouped'], 'grouped product')} (no price of their own) kept "
            "as a tag on the products they group"
        )
    checks = Counter(r.check for r in reader.rejections)
    for check, phrase in _REJECTION_PHRASES.items():
        if checks[check]:
            details.append(f"{assembly.plural(checks[check], phrase[0], phrase[1])}{phrase[2]}")
    grouping = reader.summary(assembled, details, counts)
    return reader.reading(assembled, grouping, reader.field_sources()).assembly()


def _value(variation: _Row, name: str) -> str:
    """The variation's value for the attribute ``name`` ("" when it leaves it open)."""
    for own, (values, _) in variation.attributes.items():
        if own.casefold() == name.casefold():
            return values[0] if values else ""
    return ""


def _variable_product(reader: _Reader, parent: _Row, variations: list[_Row]) -> assembly.Product:
    """A variable product with its variations as variants, its options from their attributes."""
    columns = reader.columns
    product = reader.product(parent)
    used: dict[str, str] = {}
    for variation in variations:
        for name in variation.attributes:
            used.setdefault(name.casefold(), name)
    ordered = [n for n in parent.attributes if n.casefold() in used]
    ordered += [n for k, n in used.items() if k not in {o.casefold() for o in ordered}]

    options = [n for n in ordered if any(_value(v, n) for v in variations)]
    for name in ordered:
        if name not in options:
            values = parent.attributes.get(name, ([], ""))[0]
            product.attributes[f"{name} (any)"] = ", ".join(values)
    if len(options) > assembly.MAX_OPTIONS:
        product.warnings.append(
            RowIssue(
                parent.line, columns.name(TYPE) or TYPE, "too_many_options", ", ".join(options),
                f"the product varies by {len(options)} attributes ({', '.join(options)}); "
                f"only the first {assembly.MAX_OPTIONS} become options, the rest are kept as "
                "attributes",
            )
        )  # fmt: skip
    product.option_names = options[: assembly.MAX_OPTIONS]

    defaults = {n.casefold(): d for n, (_, d) in parent.attributes.items() if d}

    def order(variation: _Row) -> tuple[bool, float, int]:
        own = {n.casefold(): v[0] for n, (v, _) in variation.attributes.items() if v}
        is_default = bool(defaults) and all(
            own.get(k, "").casefold() == d.casefold() for k, d in defaults.items()
        )
        position = columns.cell(variation.cells, POSITION)
        try:
            rank = float(position) if position else 0.0
        except ValueError:
            rank = 0.0
        return (not is_default, rank, variation.line)

    for variation in sorted(variations, key=order):
        variant = reader.variant(variation, parent)
        for name in options:
            value = _value(variation, name)
            if not value:
                value = f"Any {name}"
                variant.warnings.append(
                    RowIssue(
                        variation.line, columns.name(TYPE) or TYPE, "variation_any_value", "",
                        f"this variation leaves '{name}' open (any {name}); it is offered as "
                        f"the option value '{value}'",
                    )
                )  # fmt: skip
            variant.options[name] = value
        variant.attributes = {
            k: v for k, v in reader.extra(variation.cells).items() if product.attributes.get(k) != v
        }
        product.variants.append(variant)
    product.lines = [parent.line]
    assembly.option_warnings(product, columns.name(TITLE) or TITLE)
    return product


def _fold_groups(
    reader: _Reader,
    groups: list[_Row],
    products: dict[int, assembly.Product],
    find: Callable[[str], _Row | None],
) -> int:
    """A grouped product becomes a tag on the products it groups; its row is accounted for
    by the first of them. A group none of whose products are in the file is rejected.

    Returns how many groups were folded into their products.
    """
    columns = reader.columns
    folded = 0
    for group in groups:
        name = columns.cell(group.cells, TITLE)
        listed = _list(columns.cell(group.cells, GROUPED))
        members = []
        for reference in listed:
            row = find(reference)
            if row is not None and row.line in products and products[row.line] not in members:
                members.append(products[row.line])
        if not members:
            shown = ", ".join(listed) or "none"
            reader.reject(
                group, GROUPED, "grouped_without_products", columns.cell(group.cells, GROUPED),
                f"grouped product '{name}' has no price of its own and none of the products it "
                f"groups ({shown}) is in this file",
            )  # fmt: skip
            continue
        for member in members:
            tags = [t for t in (member.values.get("tags", ""), name) if t]
            member.values["tags"] = ", ".join(tags)
            groups_of = member.attributes.get("Grouped in")
            member.attributes["Grouped in"] = f"{groups_of}, {name}" if groups_of else name
        members[0].lines.append(group.line)
        folded += 1
    return folded


PLATFORM = Platform(name=NAME, label=LABEL, detect=detect, assemble=assemble)
