"""BigCommerce product exports (bulk edit and legacy) read as products and variants.

BigCommerce writes a product's row first and its child rows directly under it; the
first column says what each row is. Two formats share that shape:

- The modern **bulk edit** format ("Supported Product Fields"): ``Item`` is ``Product``,
  ``Variant`` (older files: ``SKU``), ``Image``, ``Video``, ``Modifier`` or ``Rule``.
  A variant names its option values in ``Options`` as ``Type=Rectangle|Name=Size|
  Value=Small``, one such group per option (read whether the groups are joined by ``|``,
  by a line break or by nothing; a swatch value may carry its colour, ``Red[#FF0000]``).
  An ``Image`` row holds one product image (``Image URL (Import)``, or ``Internal Image
  URL (Export)`` in an export, with ``Image Description``, ``Image is Thumbnail`` and
  ``Image Sort Order``). A variant's empty ``Price`` or ``Weight`` means it inherits the
  product's.
- The **legacy** format ("Importing Product Options (v2)"): ``Item Type`` is ``Product``,
  ``SKU`` or ``Rule``. A SKU row names its options in ``Product Name``
  (``[S]Size=Small,[RT]Color=Red``: the bracket code is the option's display type) and
  has no price of its own; ``Rule`` rows change the price or weight of the SKUs they
  match, by ``Product Code/SKU`` or by option values in ``Product Name``, with
  ``[ADD]``, ``[REMOVE]`` or ``[FIXED]`` amounts. Images are the product row's
  ``Product Image File - N`` columns.

Prices: a variant's own price wins, else the product's, then its rules; a ``[FIXED]``
price replaces a product's sale price, ``[ADD]``/``[REMOVE]`` shift both. ``Sale Price``
below the price becomes the price with the regular one as compare-at; ``Retail Price``
(MSRP) is the compare-at price when there is no sale. BigCommerce writes ``0.00`` for an
unset sale, retail or cost price, so zero there means none. ``Categories`` are
``/`` paths joined by ``;`` (``\\/`` is a slash inside a name): the last name of the
first path is the product type, the whole cell is kept as an attribute. Weights are in
the store's weight unit (Settings › General: pounds, ounces, kilograms, grams or
tonnes), which the file does not say: they are read as pounds, the unit of a store set
up with US defaults, unless the profile's ``weight_unit`` names the store's unit.
Modifier and video rows are not variants; their cells are kept on the product. A column
that Shopify's CSV also uses (``Type``, ``SKU``) is kept as ``BigCommerce Type`` so that
a Shopify file written later cannot mistake it for its own column.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from structr_pipeline.core.connectors.platforms import Platform, assembly
from structr_pipeline.core.connectors.shopify_spec import known_column
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.issues import RowIssue
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.normalize import clean_text, parse_number, parse_price

NAME = "bigcommerce"
LABEL = "BigCommerce product export"
DEFAULT_WEIGHT_UNIT = "lb"

PRODUCT, VARIANT, RULE, IMAGE, MODIFIER, VIDEO = (
    "product", "variant", "rule", "image", "modifier", "video",
)  # fmt: skip
# What the first column may say, and the kind of row each value is.
_KINDS = {
    "product": PRODUCT,
    "variant": VARIANT,
    "sku": VARIANT,
    "rule": RULE,
    "image": IMAGE,
    "modifier": MODIFIER,
    "video": VIDEO,
}
# Bulk edit image rows.
IMAGE_URLS = ("Image URL (Import)", "Internal Image URL (Export)")
IMAGE_DESCRIPTION = "Image Description"
IMAGE_THUMBNAIL = "Image is Thumbnail"
IMAGE_SORT = "Image Sort Order"
# Legacy image columns, numbered per image on the product row.
_SLOT = re.compile(r"product image (id|file|url|description|is thumbnail|sort) - (\d+)", re.I)

_TRUE = {"true", "y", "yes", "1"}
_FALSE = {"false", "n", "no", "0"}
_BULK_OPTION = re.compile(
    r"Type=(?P<type>[^|]*)\|Name=(?P<name>[^|]*)\|Value=(?P<value>.*?)"
    r"(?=\s*\|*\s*Type=|\s*\|*\s*$)",
    re.I | re.S,
)
_LEGACY_OPTION = re.compile(
    r"\[(?P<type>[A-Za-z]+)\](?P<name>[^=\[\]]+?)=(?P<value>.*?)(?=,?\s*\[/?[A-Za-z]+\]|\s*$)",
    re.S,
)
# The colour or pattern image a swatch value carries: ``Red[#FF0000]``.
_SWATCH = re.compile(r"\s*\[(?:#|https?:)[^\]]*\]\s*$", re.I)
_ADJUSTMENT = re.compile(r"\[(ADD|REMOVE|FIXED)\]\s*(.*)", re.I | re.S)
_URL = re.compile(r"(?i)^https?://")
# A ``/`` between category names (``\/`` is a slash inside a name).
_PATH_SLASH = re.compile(r"(?<!\\)/")


def _key(name: str) -> str:
    return clean_text(name).casefold()


@dataclass(frozen=True)
class _Layout:
    """Where one of the two formats keeps each field; alternatives in order of preference."""

    kind: str
    title: str
    sku: str
    # Where a variant or rule row names its option values.
    options: str
    description: str
    stock: tuple[str, ...]
    tracking: str
    weight: str
    # The first is read as the barcode; the others fill it only when it is empty and
    # are kept as attributes.
    barcode: tuple[str, ...]
    visible: tuple[str, ...]
    categories: tuple[str, ...]
    # A variant's own image on its row (the legacy format puts it in image slot 1).
    variant_image: tuple[str, ...]
    kinds: str
    brand: tuple[str, ...] = ("Brand Name", "Brand")
    price: str = "Price"
    sale: str = "Sale Price"
    retail: str = "Retail Price"
    cost: str = "Cost Price"
    seo_title: str = "Page Title"
    seo_description: str = "Meta Description"
    url: str = "Product URL"
    tags: str = "Search Keywords"
    stop_rules: str = "Stop Processing Rules"


BULK_EDIT = _Layout(
    kind="Item",
    title="Name",
    sku="SKU",
    options="Options",
    description="Description",
    stock=("Current Stock", "Current Stock Level", "Stock Level"),
    tracking="Inventory Tracking",
    weight="Weight",
    barcode=("UPC/EAN", "Global Trade Number", "GTIN", "Global Trade Item Number"),
    visible=("Is Visible", "Product Visible?"),
    categories=("Categories", "Category"),
    variant_image=("Variant Image URL",),
    kinds="Product, Variant (or SKU), Image, Video, Modifier or Rule",
)
LEGACY = _Layout(
    kind="Item Type",
    title="Product Name",
    sku="Product Code/SKU",
    options="Product Name",
    description="Product Description",
    stock=("Current Stock Level", "Stock Level", "Current Stock"),
    tracking="Track Inventory",
    weight="Product Weight",
    barcode=("Product UPC/EAN", "GPS Global Trade Item Number", "Global Trade Item Number"),
    visible=("Product Visible?", "Product Visible"),
    categories=("Category", "Categories"),
    variant_image=("Product Image URL - 1", "Product Image File - 1"),
    kinds="Product, SKU or Rule",
)
# Bulk edit columns only BigCommerce writes beside Item, Name and SKU.
_BULK_MARKERS = (
    "Options", "Inventory Tracking", "Current Stock", "Image URL (Import)",
    "Internal Image URL (Export)", "Variant Image URL", "Is Visible", "Product URL",
    "Brand ID", "Page Title", "UPC/EAN", "Global Trade Number", "Bin Picking Number",
)  # fmt: skip


def detect(header: list[str]) -> bool:
    """A BigCommerce export: ``Item`` with ``Name`` and ``SKU`` and a BigCommerce column
    (bulk edit), or ``Item Type`` with ``Product Name`` or ``Product Code/SKU`` (legacy)."""
    keys = {_key(h) for h in header}
    if _key(LEGACY.kind) in keys:
        return bool({_key(LEGACY.title), _key(LEGACY.sku)} & keys)
    return (
        _key(BULK_EDIT.kind) in keys
        and bool({_key("Name"), _key("Product Name")} & keys)
        and bool({_key("SKU"), _key("Product Code/SKU")} & keys)
        and any(_key(m) in keys for m in _BULK_MARKERS)
    )


class _Columns:
    """The file's own spelling of each column, looked up without case."""

    def __init__(self, header: list[str]) -> None:
        self.by_key = {_key(h): h for h in header}
        # Legacy image slot number → part (file, url, description, …) → header cell.
        self.slots: dict[int, dict[str, str]] = {}
        for name in header:
            match = _SLOT.fullmatch(clean_text(name))
            if match:
                parts = self.slots.setdefault(int(match.group(2)), {})
                parts[match.group(1).lower()] = name

    def name(self, column: str) -> str | None:
        """The header cell for ``column``, or None when the file has no such column."""
        return self.by_key.get(_key(column))

    def names(self, columns: tuple[str, ...]) -> list[str]:
        """The header cells of those of ``columns`` the file has."""
        return [n for c in columns if (n := self.name(c))]

    def cell(self, cells: dict[str, str], column: str) -> str:
        """The cleaned cell of ``column`` in a row (empty when the file lacks it)."""
        name = self.name(column)
        return clean_text(cells.get(name, "")) if name else ""

    def first(self, cells: dict[str, str], columns: tuple[str, ...]) -> str:
        """The first non-empty cell among ``columns``."""
        return next((v for c in columns if (v := self.cell(cells, c))), "")


@dataclass
class _Row:
    """One source row and the kind its first column gives it (None when it names none)."""

    line: int
    cells: dict[str, str]
    kind: str | None
    kind_text: str


@dataclass
class _Group:
    """A product row and the rows under it, by kind."""

    head: _Row
    variants: list[_Row] = field(default_factory=list)
    rules: list[_Row] = field(default_factory=list)
    images: list[_Row] = field(default_factory=list)
    others: list[_Row] = field(default_factory=list)


@dataclass
class _Draft:
    """A variant whose prices and weight its rules may still change."""

    variant: assembly.Variant
    regular: str
    sale: str
    retail: str
    weight: str
    # A rule with Stop Processing Rules set was applied: later rules leave it alone.
    stopped_by: int | None = None


def _options(text: str, layout: _Layout) -> dict[str, str]:
    """Option name → value from a bulk edit ``Options`` cell or a legacy ``Product Name``."""
    pattern = _LEGACY_OPTION if layout is LEGACY else _BULK_OPTION
    out: dict[str, str] = {}
    for match in pattern.finditer(text):
        name = clean_text(match.group("name"))
        value = clean_text(_SWATCH.sub("", match.group("value")))
        if name and value:
            out.setdefault(name, value)
    return out


def _has_options(variant: assembly.Variant, conditions: dict[str, str]) -> bool:
    own = {k.casefold(): v.casefold() for k, v in variant.options.items()}
    return all(own.get(k.casefold()) == v.casefold() for k, v in conditions.items())


def _truth(text: str) -> bool | None:
    key = text.casefold()
    return True if key in _TRUE else False if key in _FALSE else None


def _unset_if_zero(text: str) -> str:
    """BigCommerce writes ``0.00`` for a sale, retail or cost price that is not set."""
    amount, _ = parse_price(text)
    return "" if amount == 0 else text


def _number_text(value: float) -> str:
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_Parse = Callable[[str], tuple[float | None, str | None]]


def _adjustment(text: str, parse: _Parse) -> tuple[str, float] | None:
    """``[ADD]5`` → ("ADD", 5.0); a bare amount is a fixed value; None when unreadable."""
    match = _ADJUSTMENT.fullmatch(text)
    op, amount_text = (match.group(1).upper(), match.group(2)) if match else ("FIXED", text)
    amount, problem = parse(amount_text)
    return None if amount is None or problem else (op, amount)


def _shifted(value: str, op: str, amount: float, parse: _Parse) -> str:
    if op == "FIXED":
        return _number_text(amount)
    base, problem = parse(value)
    if base is None or problem:
        return value
    return _number_text(base + amount if op == "ADD" else base - amount)


def _product_type(categories: str) -> str:
    """The last name of the first category path; none for category IDs (``23;41``)."""
    first = next((p for p in categories.split(";") if clean_text(p)), "")
    names = [clean_text(n).replace("\\/", "/") for n in _PATH_SLASH.split(first)]
    leaf = next((n for n in reversed(names) if n), "")
    return "" if leaf.isdigit() else leaf


def _url_handle(url: str) -> str:
    """``/shirts/linen-shirt/`` → ``linen-shirt``."""
    path = re.sub(r"(?i)^https?://[^/]+", "", url).split("?")[0]
    return next((p for p in reversed(path.split("/")) if p.strip()), "")


def _attribute_name(column: str) -> str:
    """The attribute a column is kept under: its own name, unless Shopify's CSV uses it."""
    return f"BigCommerce {column}" if known_column(column) is not None else column


class _Reader(assembly.PlatformReader, platform=NAME, label=LABEL):
    """Reads one export into products; holds what the reading shares."""

    def __init__(self, table: SourceTable, options: ProfileOptions, layout: _Layout) -> None:
        super().__init__(table, options)
        self.columns = _Columns(self.rows.header)
        if self.columns.name(layout.kind) is None:
            raise KeyError(layout.kind)
        self.layout = layout
        self.unit = options.weight_unit or DEFAULT_WEIGHT_UNIT
        self.counts: Counter[str] = Counter()
        self.mapped = self._mapped_columns()

    def _mapped_columns(self) -> set[str]:
        """The header cells read into fields; every other cell is kept as an attribute."""
        lay = self.layout
        read = (
            lay.kind, lay.title, lay.sku, lay.options, lay.description, lay.tracking,
            lay.weight, lay.barcode[0], lay.price, lay.sale, lay.retail, lay.cost,
            lay.seo_title, lay.seo_description, lay.url, lay.tags, lay.stop_rules,
            *lay.stock, *lay.visible, *lay.brand, *lay.variant_image,
            *IMAGE_URLS, IMAGE_DESCRIPTION, IMAGE_THUMBNAIL, IMAGE_SORT,
        )  # fmt: skip
        mapped = set(self.columns.names(read))
        for parts in self.columns.slots.values():
            mapped.update(name for part, name in parts.items() if part != "id")
        return mapped

    # --- rows and groups -----------------------------------------------------------

    def reject(self, row: _Row, column: str, check: str, value: str, message: str) -> None:
        """Set a row apart as making no product, for the reason given."""
        name = self.columns.name(column) or column
        self.rejections.append(assembly.Rejection(row.line, name, check, value, message))

    def parse(self) -> list[_Row]:
        """Every readable record with the kind its first column names."""
        rows = []
        for line, cells in self.rows:
            text = self.columns.cell(cells, self.layout.kind)
            rows.append(_Row(line, cells, _KINDS.get(text.casefold()), text))
        return rows

    def groups(self) -> list[_Group]:
        """Each product row with the rows under it; rows that fit no product are rejected."""
        groups: list[_Group] = []
        for row in self.parse():
            if row.kind is None:
                self._reject_kind(row)
            elif row.kind == PRODUCT:
                groups.append(_Group(row))
            elif not groups:
                self._reject_orphan(row)
            else:
                group = groups[-1]
                {VARIANT: group.variants, RULE: group.rules, IMAGE: group.images}.get(
                    row.kind, group.others
                ).append(row)
                self.counts[f"{row.kind}_rows"] += 1
        return groups

    def _reject_kind(self, row: _Row) -> None:
        """Reject a row whose first column names no BigCommerce row type."""
        column = self.layout.kind
        if not row.kind_text:
            message = (
                f"the {column} cell is empty, so this row is not part of any product; "
                f"it must say {self.layout.kinds}"
            )
        else:
            message = (
                f"'{row.kind_text}' is not a BigCommerce row type; the {column} column must "
                f"say {self.layout.kinds}"
            )
        self.reject(row, column, "bigcommerce_row_type", row.kind_text, message)

    def _reject_orphan(self, row: _Row) -> None:
        """Reject a child row (variant, rule, image, …) that comes before any product."""
        self.reject(
            row, self.layout.kind, "bigcommerce_row_without_product", row.kind_text,
            f"this {row.kind_text} row comes before any Product row, so it belongs to no "
            f"product; BigCommerce writes a product's {row.kind_text} rows directly under "
            "its Product row",
        )  # fmt: skip

    # --- cells ---------------------------------------------------------------------

    def cell(self, row: _Row, column: str) -> str:
        """The cleaned cell of ``column`` in ``row``."""
        return self.columns.cell(row.cells, column)

    def extra(self, row: _Row) -> dict[str, str]:
        """Every non-empty cell no field is read from, by its attribute name."""
        out = {}
        for name, value in row.cells.items():
            if name in self.mapped:
                continue
            text = clean_text(value, multiline=True)
            if text:
                out[_attribute_name(name)] = text
        return out

    def image_url(self, path: str) -> str:
        """A URL for an image path: relative paths get the profile's ``image_base_url``."""
        base = (self.options.image_base_url or "").rstrip("/")
        if path and base and not _URL.match(path):
            return f"{base}/{path.lstrip('/')}"
        return path

    def tracking(self, head: _Row) -> str:
        """``none``, ``product``, ``variant``, or "" when the file does not say."""
        text = self.cell(head, self.layout.tracking).casefold()
        if not text:
            return ""
        if "option" in text or "variant" in text or "sku" in text:
            return "variant"
        if text in _FALSE or "none" in text:
            return "none"
        return "product"

    # --- products ------------------------------------------------------------------

    def product(self, group: _Group) -> assembly.Product:
        """The product of a product row and the rows under it, with its variants."""
        head = group.head
        lay = self.layout
        title = self.cell(head, lay.title)
        product = assembly.Product(
            handle=self.handles.claim(_url_handle(self.cell(head, lay.url)), title),
            line=head.line,
            values=self.product_values(head, title),
            attributes=self.extra(head),
        )
        product.images = self.images(group, product)
        if group.variants:
            drafts = [self.variant(row, head) for row in group.variants]
            product.lines.append(head.line)
            self.counts["products_with_skus"] += 1
        else:
            drafts = [self.variant(head, None)]
        product.variants = [d.variant for d in drafts]
        self._stock(product, head, group)
        if group.variants:
            self._options(product, group.variants)
        product.lines += [r.line for r in group.images + group.others]
        for row in group.others:
            self._fold(product, row)
        for rule in group.rules:
            self.apply_rule(product, drafts, rule)
        for draft in drafts:
            self.finish(draft)
        return product

    def product_values(self, head: _Row, title: str) -> dict[str, str]:
        """The product-level canonical fields of a product row."""
        lay = self.layout
        visible = _truth(self.columns.first(head.cells, lay.visible))
        description = head.cells.get(self.columns.name(lay.description) or "", "")
        return {
            "title": title,
            "description_html": clean_text(description, multiline=True),
            "vendor": self.columns.first(head.cells, lay.brand)
            or (self.options.default_vendor or ""),
            "product_type": _product_type(self.columns.first(head.cells, lay.categories)),
            "tags": self.cell(head, lay.tags),
            "status": "" if visible is None else "active" if visible else "draft",
            "seo_title": self.cell(head, lay.seo_title),
            "seo_description": self.cell(head, lay.seo_description),
        }

    def variant(self, row: _Row, head: _Row | None) -> _Draft:
        """A variant from its own row (``head`` is its product row, None for a simple one)."""
        lay = self.layout
        own_price = self.cell(row, lay.price)
        inherit = head if head is not None else row

        def own_or_product(column: str) -> str:
            return self.cell(row, column) or (self.cell(head, column) if head else "")

        values = {
            "sku": self.cell(row, lay.sku),
            "barcode": self.columns.first(row.cells, lay.barcode),
            "cost_per_item": _unset_if_zero(own_or_product(lay.cost)),
            "image_src": self.image_url(self.columns.first(row.cells, lay.variant_image))
            if head is not None
            else "",
        }
        variant = assembly.Variant(line=row.line, values=values)
        if head is not None:
            variant.options = _options(self.cell(row, lay.options), lay)
            variant.attributes = self.extra(row)
        own_sale = _unset_if_zero(self.cell(row, lay.sale))
        # A variant with a price of its own does not take the product's sale price.
        sale = own_sale or ("" if own_price else _unset_if_zero(self.cell(inherit, lay.sale)))
        return _Draft(
            variant=variant,
            regular=own_price or self.cell(inherit, lay.price),
            sale=sale,
            retail=_unset_if_zero(own_or_product(lay.retail)),
            weight=own_or_product(lay.weight),
        )

    def stock(self, row: _Row) -> str:
        """The row's stock count as written."""
        return self.columns.first(row.cells, self.layout.stock)

    def _stock(self, product: assembly.Product, head: _Row, group: _Group) -> None:
        """Stock per the product's inventory tracking: none, per product or per variant.

        An untracked count, or a product's count its variants cannot share, is kept as an
        attribute under the stock column's name.
        """
        tracking = self.tracking(head)
        column = next(iter(self.columns.names(self.layout.stock)), self.layout.stock[0])
        if tracking == "none" or (tracking == "product" and group.variants):
            if self.stock(head):
                product.attributes[_attribute_name(column)] = self.stock(head)
            for variant, row in zip(product.variants, group.variants, strict=False):
                if self.stock(row):
                    variant.attributes[_attribute_name(column)] = self.stock(row)
        if tracking == "none":
            return
        if not group.variants:
            product.variants[0].values["inventory_qty"] = self.stock(head)
        elif tracking == "product":
            product.warnings.append(
                RowIssue(
                    head.line, self.columns.name(self.layout.tracking) or self.layout.tracking,
                    "stock_tracked_per_product", self.stock(head),
                    f"the stock ({self.stock(head) or 'empty'}) is tracked for the product as "
                    "a whole, not per variant, so its variants get no stock count",
                )
            )  # fmt: skip
        else:
            for variant, row in zip(product.variants, group.variants, strict=True):
                variant.values["inventory_qty"] = self.stock(row)

    def _options(self, product: assembly.Product, rows: list[_Row]) -> None:
        """The product's option names from its variants' values, at most three."""
        names: dict[str, str] = {}
        for variant in product.variants:
            for name in variant.options:
                names.setdefault(name.casefold(), name)
        ordered = list(names.values())
        column = self.columns.name(self.layout.options) or self.layout.options
        if len(ordered) > assembly.MAX_OPTIONS:
            product.warnings.append(
                RowIssue(
                    product.line, column, "too_many_options", ", ".join(ordered),
                    f"the product varies by {len(ordered)} options ({', '.join(ordered)}); "
                    f"only the first {assembly.MAX_OPTIONS} become options, the rest are kept as "
                    "attributes",
                )
            )  # fmt: skip
        product.option_names = ordered[: assembly.MAX_OPTIONS]
        for variant, row in zip(product.variants, rows, strict=True):
            for name in ordered[assembly.MAX_OPTIONS :]:
                if name in variant.options:
                    variant.attributes[name] = variant.options[name]
            if not variant.options and len(rows) > 1:
                variant.warnings.append(
                    RowIssue(
                        row.line, column, "variant_without_options", "",
                        "this variant names no option values, so shoppers cannot choose it "
                        "among the product's other variants",
                    )
                )  # fmt: skip
        assembly.option_warnings(product, column)

    def images(self, group: _Group, product: assembly.Product) -> list[assembly.Image]:
        """The product's images, its thumbnail first, then by sort order and file order."""
        found: list[tuple[bool, float, int, assembly.Image]] = []
        for number in sorted(self.columns.slots):
            found += self._slot_image(group.head, number)
        for row in [group.head, *group.images]:
            url = self.image_url(self.columns.first(row.cells, IMAGE_URLS))
            if url:
                found.append(self._ranked(row, url, IMAGE_DESCRIPTION, IMAGE_THUMBNAIL, IMAGE_SORT))
            elif row is not group.head:
                product.warnings.append(
                    RowIssue(
                        row.line, self.columns.name(IMAGE_URLS[0]) or IMAGE_URLS[0],
                        "image_row_without_url", "",
                        "this Image row has no image URL, so it adds no image to the product",
                    )
                )  # fmt: skip
        found.sort(key=lambda item: item[:3])
        return [image for *_, image in found]

    def _slot_image(self, head: _Row, number: int) -> list[tuple[bool, float, int, assembly.Image]]:
        """The image of a legacy ``Product Image … - N`` slot, ranked; none when empty."""
        parts = self.columns.slots[number]
        path = clean_text(head.cells.get(parts.get("url", ""), "")) or clean_text(
            head.cells.get(parts.get("file", ""), "")
        )
        if not path:
            return []
        return [
            self._ranked(
                head, self.image_url(path), parts.get("description", ""),
                parts.get("is thumbnail", ""), parts.get("sort", ""), number,
            )
        ]  # fmt: skip

    def _ranked(
        self, row: _Row, url: str, alt: str, thumbnail: str, sort: str, order: int = 0
    ) -> tuple[bool, float, int, assembly.Image]:
        """An image with its sort key: thumbnail first, then sort order, then file order."""
        rank, _ = parse_number(self.cell(row, sort))
        is_thumbnail = _truth(self.cell(row, thumbnail)) is True
        position = math.inf if rank is None else rank
        return (
            not is_thumbnail,
            position,
            row.line * 1000 + order,
            assembly.Image(url, self.cell(row, alt)),
        )

    def _fold(self, product: assembly.Product, row: _Row) -> None:
        """A modifier or video row: its cells are kept on the product (``Video YouTube ID``),
        the cells of several such rows joined with `` | ``."""
        kind_column = self.columns.name(self.layout.kind)
        for name, value in row.cells.items():
            text = clean_text(value, multiline=True)
            if text and name != kind_column:
                key = f"{row.kind_text} {name}"
                held = product.attributes.get(key)
                product.attributes[key] = f"{held} | {text}" if held else text

    # --- rules ---------------------------------------------------------------------

    def apply_rule(self, product: assembly.Product, drafts: list[_Draft], rule: _Row) -> None:
        """Apply a rule row to the variants it matches, or reject it when it matches none."""
        targets = self._rule_targets(product, drafts, rule)
        if not targets:
            return
        targets[0].variant.extra_lines.append(rule.line)
        self.counts["rules_applied"] += 1
        for draft in targets:
            if draft.stopped_by is not None:
                draft.variant.warnings.append(
                    RowIssue(
                        rule.line, self.columns.name(self.layout.stop_rules) or "rule",
                        "rule_not_applied", "",
                        f"the rule on line {rule.line} was not applied to this variant: the "
                        f"rule on line {draft.stopped_by} stops processing later rules",
                    )
                )  # fmt: skip
                continue
            self._adjust(draft, rule)

    def _rule_targets(
        self, product: assembly.Product, drafts: list[_Draft], rule: _Row
    ) -> list[_Draft]:
        """The variants a rule names by SKU, else by option values (all of them must match)."""
        lay = self.layout
        sku = self.cell(rule, lay.sku)
        conditions = _options(self.cell(rule, lay.options), lay)
        if sku:
            targets = [d for d in drafts if d.variant.values["sku"].casefold() == sku.casefold()]
            column, shown, what = lay.sku, sku, f"SKU '{sku}' matches"
        elif conditions:
            targets = [d for d in drafts if _has_options(d.variant, conditions)]
            shown = ", ".join(f"{k}={v}" for k, v in conditions.items())
            column, what = lay.options, f"option values ({shown}) match"
        else:
            self.reject(
                rule, lay.sku, "rule_without_target", "",
                f"this rule names neither a SKU ({lay.sku}) nor option values, so it applies "
                f"to no variant of product '{product.handle}'",
            )  # fmt: skip
            return []
        if not targets:
            self.reject(
                rule, column, "rule_matches_no_sku", shown,
                f"this rule's {what} no SKU row of product '{product.handle}' (line "
                f"{product.line}), so its price or weight change applies to nothing",
            )  # fmt: skip
        return targets

    def _adjust(self, draft: _Draft, rule: _Row) -> None:
        """Apply one rule row's price, weight and image to one variant."""
        lay = self.layout
        variant = draft.variant
        price = self.cell(rule, lay.price)
        if price:
            change = _adjustment(price, parse_price)
            if change is None:
                self._rule_warning(variant, rule, lay.price, price)
            else:
                draft.regular = _shifted(draft.regular, *change, parse_price)
                if change[0] == "FIXED":
                    draft.sale = ""
                elif draft.sale:
                    draft.sale = _shifted(draft.sale, *change, parse_price)
        weight = self.cell(rule, lay.weight)
        if weight:
            change = _adjustment(weight, parse_number)
            if change is None:
                self._rule_warning(variant, rule, lay.weight, weight)
            else:
                draft.weight = _shifted(draft.weight, *change, parse_number)
        image = self.image_url(self.columns.first(rule.cells, lay.variant_image))
        if image:
            variant.values["image_src"] = image
        if _truth(self.cell(rule, lay.stop_rules)):
            draft.stopped_by = rule.line
        for name, text in self.extra(rule).items():
            variant.attributes[f"{name} (rule)"] = text

    def _rule_warning(self, variant: assembly.Variant, rule: _Row, column: str, value: str) -> None:
        """Warn on a variant that a rule's amount could not be read."""
        variant.warnings.append(
            RowIssue(
                rule.line, self.columns.name(column) or column, "rule_adjustment_unreadable",
                value,
                f"the rule's {column} '{value}' is not an amount like [ADD]5, [REMOVE]2.50 or "
                "[FIXED]20, so it was not applied",
            )
        )  # fmt: skip

    # --- finishing -----------------------------------------------------------------

    def finish(self, draft: _Draft) -> None:
        """Price, compare-at price and weight from the draft, once every rule is in."""
        values = draft.variant.values
        price, compare_at = assembly.price_pair(draft.regular, draft.sale)
        retail = draft.retail
        if retail and not compare_at:
            msrp, _ = parse_price(retail)
            amount, _ = parse_price(price)
            if msrp is not None and amount is not None and msrp > amount:
                compare_at, retail = retail, ""
        if retail:
            name = self.columns.name(self.layout.retail) or self.layout.retail
            draft.variant.attributes[_attribute_name(name)] = retail
        values["price"] = price
        values["compare_at_price"] = compare_at
        values["weight_grams"] = assembly.grams(draft.weight, self.unit)

    def field_sources(self) -> dict[str, str]:
        """Canonical field → the file's column it is read from."""
        lay = self.layout
        col = self.columns
        sources = {
            "handle": lay.url if col.name(lay.url) else lay.title,
            "title": lay.title,
            "description_html": lay.description,
            "vendor": next(iter(col.names(lay.brand)), ""),
            "product_type": next(iter(col.names(lay.categories)), ""),
            "tags": lay.tags,
            "status": next(iter(col.names(lay.visible)), ""),
            "option1_name": lay.options,
            "option1_value": lay.options,
            "sku": lay.sku,
            "barcode": lay.barcode[0],
            "price": lay.price,
            "compare_at_price": lay.sale,
            "cost_per_item": lay.cost,
            "inventory_qty": next(iter(col.names(lay.stock)), ""),
            "weight_grams": lay.weight,
            "image_src": next(iter(col.names(lay.variant_image)), ""),
            "seo_title": lay.seo_title,
            "seo_description": lay.seo_description,
        }
        return {f: name for f, c in sources.items() if c and (name := col.name(c))}

    def grouping(self, products: list[assembly.Product]) -> assembly.Grouping:
        """How the rows grouped into products, in numbers and in words."""
        counts = self.counts
        sku_rows, image_rows = counts["variant_rows"], counts["image_rows"]
        details = []
        if counts["products_with_skus"]:
            details.append(
                f"{assembly.plural(counts['products_with_skus'], 'product')} with "
                f"{assembly.plural(sku_rows, 'SKU row')}"
            )
        if counts["rules_applied"]:
            details.append(
                f"{assembly.plural(counts['rules_applied'], 'rule row')} applied to their SKUs"
            )
        if image_rows:
            details.append(f"{assembly.plural(image_rows, 'image row')} folded into their products")
        folded = counts["modifier_rows"] + counts["video_rows"]
        if folded:
            details.append(
                f"{assembly.plural(folded, 'modifier or video row')} kept on their products "
                "(they are not variants)"
            )
        if self.rejections:
            details.append(f"{assembly.plural(len(self.rejections), 'row')} that make no product")
        return self.summary(
            products,
            details,
            {
                "sku_rows": sku_rows,
                "rule_rows": counts["rule_rows"],
                "rules_applied": counts["rules_applied"],
                "image_rows": image_rows,
                "modifier_rows": counts["modifier_rows"],
                "video_rows": counts["video_rows"],
            },
        )


def layout_of(header: list[str]) -> _Layout:
    """The legacy layout for a header with ``Item Type``, else the bulk edit one."""
    return LEGACY if _key(LEGACY.kind) in {_key(h) for h in header} else BULK_EDIT


def read(table: SourceTable, options: ProfileOptions) -> assembly.Reading:
    """Read a BigCommerce export into products and the rows that make none."""
    reader = _Reader(table, options, layout_of(table.header))
    products = [reader.product(group) for group in reader.groups()]
    return reader.reading(products, reader.grouping(products), reader.field_sources())


def assemble(table: SourceTable, options: ProfileOptions) -> assembly.Assembly:
    """Read a BigCommerce export into products, each with its SKU rows as variants."""
    return read(table, options).assembly()


PLATFORM = Platform(name=NAME, label=LABEL, detect=detect, assemble=assemble)
