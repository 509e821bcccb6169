"""Google Merchant Center product feeds (tab-separated or CSV text) read as products.

A feed has one row per item, its header the attribute names of Google's product data
specification (``id``, ``title``, ``price``, ``image_link``, …). Headers are matched as
Google accepts them in text feeds: in any case, with a ``g:`` prefix, with spaces for
underscores as older feeds wrote them (``image link``), as a display name with the
attribute in brackets (``Image link [image_link]``), and ``colour`` for ``color``.

Items that share an ``item_group_id`` are the variants of one product; an item without
one is a product of its own. A group's options are the variant attributes whose values
differ within it, in the order color, size, pattern, material, age group, gender; an
attribute with the same value on every item is a product attribute.

Choices this module makes: the product title is the group's ``item_group_title``, else
the longest run of words all its items' titles start with, trailing separators dropped
("Organic Cotton Tee - Blue - S" and "… - Green - M" give "Organic Cotton Tee"), else the
first item's title; description, brand, product type and Google product category come
from the group's first item (an item that disagrees is warned about and keeps its own
value as an attribute); ``google_product_category`` becomes the category only when it is
a text path (a numeric id stays an attribute); ``product_type`` gives the last ``>``
segment of its first value; a sale price counts inside its ``sale_price_effective_date``
interval; the feed carries no stock count, so an ``out_of_stock`` item gets an inventory
of 0 and any other item none (unless a ``quantity`` column says more); the handle is the
last segment of the items' shared ``link`` path, else the product title's slug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from structr_pipeline.core.connectors.platforms import Platform, assembly
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.issues import RowIssue
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.normalize import clean_text, parse_price

NAME = "google_merchant"
LABEL = "Google Merchant Center feed"

# Attribute names this module reads; every other column is kept as an attribute.
ID = "id"
TITLE = "title"
GROUP_TITLE = "item_group_title"
DESCRIPTION = "description"
LINK = "link"
IMAGE = "image_link"
ADDITIONAL_IMAGES = "additional_image_link"
AVAILABILITY = "availability"
PRICE = "price"
SALE_PRICE = "sale_price"
SALE_DATES = "sale_price_effective_date"
BRAND = "brand"
GTIN = "gtin"
GROUP = "item_group_id"
GOOGLE_CATEGORY = "google_product_category"
PRODUCT_TYPE = "product_type"
# Stock counts some feeds carry (local inventory, checkout on Google).
QUANTITIES = ("quantity", "sell_on_google_quantity")
WEIGHTS = ("shipping_weight", "product_weight")
# The variant attributes Google groups items by, in the order options are offered.
VARIANT_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("color", "Color"),
    ("size", "Size"),
    ("pattern", "Pattern"),
    ("material", "Material"),
    ("age_group", "Age group"),
    ("gender", "Gender"),
)
# Fields a group takes from its first item; an item that disagrees is warned about.
GROUP_FIELDS = (BRAND, DESCRIPTION, PRODUCT_TYPE, GOOGLE_CATEGORY)
_ALIASES = {"colour": "color", "bundle": "is_bundle"}
_BRACKETED = re.compile(r"\[([^\]]+)\]\s*$")
_SEPARATORS = " \t-–—,;:/|("
_PAGE_SUFFIX = re.compile(r"\.(html?|php|aspx?)$", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*([0-9][0-9.,]*)\s*([a-zA-Z]+)\s*$")
_WEIGHT_UNITS = {"lb": "lb", "lbs": "lb", "oz": "oz", "g": "g", "kg": "kg"}


def attribute_key(name: str) -> str:
    """The attribute a header cell names: ``g:image_link``, ``Image link`` → image_link."""
    text = clean_text(name).lower()
    bracketed = _BRACKETED.search(text)
    if bracketed:
        text = bracketed.group(1)
    text = re.sub(r"[\s-]+", "_", text.strip().removeprefix("g:").strip())
    return _ALIASES.get(text, text)


def detect(header: list[str]) -> bool:
    """A Merchant Center feed: ``id``, ``title``, ``price`` and a link or availability."""
    keys = {attribute_key(h) for h in header}
    return {ID, TITLE, PRICE} <= keys and bool(keys & {LINK, IMAGE, AVAILABILITY, GROUP})


@dataclass
class _Item:
    """One item of the feed (one variant): its cells by header name, its id and group."""

    line: int
    cells: dict[str, str]
    id: str
    group: str
    warnings: list[RowIssue] = field(default_factory=list)


def _sale_in_effect(interval: str, now: datetime) -> bool:
    """False when the ISO 8601 interval ``start/end`` has not begun or has ended."""
    bounds = [part.strip() for part in interval.split("/")]
    try:
        times = [_moment(part) if part else None for part in bounds[:2]]
    except ValueError:
        return True
    start = times[0]
    end = times[1] if len(times) > 1 else None
    return not ((start is not None and now < start) or (end is not None and now > end))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _money_pair(regular: str, sale: str) -> tuple[str, str]:
    """``price_pair`` for amounts with a currency code (``15.00 USD``)."""
    low, _ = parse_price(sale)
    high, _ = parse_price(regular)
    if low is None or high is None:
        return assembly.price_pair(regular, sale)
    return (sale, regular) if low < high else (regular, "")


def common_title(titles: list[str]) -> str:
    """The words every title starts with, trailing separators dropped ("" if none)."""
    words = [title.split() for title in titles]
    common: list[str] = []
    for column in zip(*words, strict=False):
        if any(w.casefold() != column[0].casefold() for w in column):
            break
        common.append(column[0])
    return " ".join(common).rstrip(_SEPARATORS)


def _link_slug(link: str) -> str:
    """The last segment of a URL's path, without a page suffix such as ``.html``."""
    path = urlsplit(link).path.rstrip("/")
    return _PAGE_SUFFIX.sub("", path.rsplit("/", 1)[-1]) if path else ""


def _last_segment(path: str) -> str:
    first = path.split(",")[0]
    return first.split(">")[-1].strip()


class _Reader(assembly.PlatformReader, platform=NAME, label=LABEL):
    """Reads one feed's items into products; holds what the reading needs to share."""

    def __init__(self, table: SourceTable, options: ProfileOptions, now: datetime) -> None:
        super().__init__(table, options)
        self.names: dict[str, str] = {}
        for header in self.rows.header:
            self.names.setdefault(attribute_key(header), header)
        self.now = now
        self.duplicates = 0

    def name(self, attribute: str) -> str:
        """The feed's header cell for an attribute (the attribute itself when absent)."""
        return self.names.get(attribute, attribute)

    def cell(self, item: _Item, attribute: str, multiline: bool = False) -> str:
        """The cleaned cell of an attribute for an item (empty when the feed lacks it)."""
        name = self.names.get(attribute)
        return clean_text(item.cells.get(name, ""), multiline) if name else ""

    def warn(self, item: _Item, attribute: str, check: str, value: str, message: str) -> RowIssue:
        return RowIssue(item.line, self.name(attribute), check, value, message)

    def items(self) -> list[_Item]:
        """The feed's items; one without an id is rejected, a repeated id warned about."""
        items: list[_Item] = []
        seen: dict[str, int] = {}
        for line, cells in self.rows:
            item = _Item(line, cells, "", "")
            item.id, item.group = self.cell(item, ID), self.cell(item, GROUP)
            if not item.id:
                self.rejections.append(
                    assembly.Rejection(
                        line, self.name(ID), "merchant_item_without_id", "",
                        "this item has no id; Merchant Center needs a unique id for every "
                        "item, and it is the variant's SKU here",
                    )
                )  # fmt: skip
                continue
            if item.id in seen:
                self.duplicates += 1
                item.warnings.append(
                    self.warn(
                        item, ID, "merchant_id_repeated", item.id,
                        f"this item repeats the id '{item.id}' of line {seen[item.id]}; "
                        "Merchant Center keeps only one item per id",
                    )
                )  # fmt: skip
            seen.setdefault(item.id, line)
            items.append(item)
        return items

    def extra(self, item: _Item, used: set[str]) -> dict[str, str]:
        """The item's non-empty cells of every attribute no field was read from."""
        out = {}
        for header, value in item.cells.items():
            key = attribute_key(header)
            if key in used and self.names.get(key) == header:
                continue
            text = clean_text(value, multiline=True)
            if text:
                out[header] = text
        return out

    def images(self, item: _Item) -> list[str]:
        """The item's additional images (a comma-separated list)."""
        return assembly.split_list(self.cell(item, ADDITIONAL_IMAGES))

    def variant(self, item: _Item) -> tuple[assembly.Variant, set[str]]:
        """An item's own fields as a variant, and the attributes they were read from."""
        used = {ID, GTIN, PRICE, IMAGE, ADDITIONAL_IMAGES}
        sale = self.cell(item, SALE_PRICE)
        if sale and _sale_in_effect(self.cell(item, SALE_DATES), self.now):
            used.add(SALE_PRICE)
        else:  # an ended or future sale stays an attribute
            sale = ""
        price, compare_at = _money_pair(self.cell(item, PRICE), sale)
        variant = assembly.Variant(
            line=item.line,
            values={
                "sku": item.id,
                "barcode": self.cell(item, GTIN),
                "price": price,
                "compare_at_price": compare_at,
                "inventory_qty": self.stock(item, used),
            },
            warnings=list(item.warnings),
        )
        variant.values["weight_grams"] = self.weight(item, variant, used)
        return variant, used

    def stock(self, item: _Item, used: set[str]) -> str:
        """A stock count the feed gives, else 0 for an out-of-stock item, else none."""
        for attribute in QUANTITIES:
            if value := self.cell(item, attribute):
                used.add(attribute)
                return value
        availability = self.cell(item, AVAILABILITY).lower().replace(" ", "_")
        return "0" if availability == "out_of_stock" else ""

    def weight(self, item: _Item, variant: assembly.Variant, used: set[str]) -> str:
        """Grams from ``shipping_weight`` (else ``product_weight``) such as ``1.5 lb``."""
        for attribute in WEIGHTS:
            text = self.cell(item, attribute)
            if not text:
                continue
            match = _WEIGHT.match(text)
            unit = _WEIGHT_UNITS.get(match.group(2).lower()) if match else None
            if match is None or unit is None:
                variant.warnings.append(
                    self.warn(
                        item, attribute, "merchant_weight_unreadable", text,
                        f"the weight '{text}' is not a number with one of the units lb, oz, "
                        "g or kg; it is kept as an attribute only",
                    )
                )  # fmt: skip
                return ""
            used.add(attribute)
            return assembly.grams(match.group(1), unit)
        return ""

    def field_sources(self) -> dict[str, str]:
        sources = {
            "handle": LINK if LINK in self.names else TITLE,
            "title": TITLE,
            "description_html": DESCRIPTION,
            "vendor": BRAND,
            "product_type": PRODUCT_TYPE,
            "category": GOOGLE_CATEGORY,
            "sku": ID,
            "barcode": GTIN,
            "price": PRICE,
            "compare_at_price": PRICE,
            "weight_grams": WEIGHTS[0] if WEIGHTS[0] in self.names else WEIGHTS[1],
            "image_src": IMAGE,
        }
        return {f: self.names[a] for f, a in sources.items() if a in self.names}


def _groups(items: list[_Item]) -> list[list[_Item]]:
    """Items grouped by ``item_group_id`` (in order of first appearance), others alone."""
    groups: dict[str, list[_Item]] = {}
    out: list[list[_Item]] = []
    for item in items:
        if not item.group:
            out.append([item])
        elif item.group in groups:
            groups[item.group].append(item)
        else:
            groups[item.group] = [item]
            out.append(groups[item.group])
    return out


def _title(reader: _Reader, items: list[_Item]) -> str:
    """The product's title: the group title, else what all item titles share."""
    given = next((t for item in items if (t := reader.cell(item, GROUP_TITLE))), "")
    titles = [reader.cell(item, TITLE) for item in items]
    if given or len(items) == 1:
        return given or titles[0]
    return common_title(titles) or titles[0]


def _handle(reader: _Reader, items: list[_Item], title: str) -> str:
    slugs = {_link_slug(reader.cell(item, LINK)) for item in items}
    shared = slugs.pop() if len(slugs) == 1 else ""
    return reader.handles.claim(shared, title, items[0].id)


def _product_values(reader: _Reader, items: list[_Item], title: str) -> dict[str, str]:
    first = items[0]
    category = reader.cell(first, GOOGLE_CATEGORY)
    return {
        "title": title,
        "description_html": reader.cell(first, DESCRIPTION, multiline=True),
        "vendor": reader.cell(first, BRAND) or (reader.options.default_vendor or ""),
        "product_type": _last_segment(reader.cell(first, PRODUCT_TYPE)),
        "category": "" if category.isdigit() else category,
    }


def _disagreements(reader: _Reader, items: list[_Item], variants: list[assembly.Variant]) -> None:
    """Warn on items whose brand, description or category differ from the first item's."""
    first = items[0]
    for item, variant in zip(items[1:], variants[1:], strict=True):
        for attribute in GROUP_FIELDS:
            own = reader.cell(item, attribute, multiline=True)
            kept = reader.cell(first, attribute, multiline=True)
            if not own or own == kept:
                continue
            variant.attributes[reader.name(attribute)] = own
            shown = own if len(own) <= 60 else own[:57] + "..."
            variant.warnings.append(
                reader.warn(
                    item, attribute, "merchant_group_disagrees", shown,
                    f"this item's {attribute} differs from the one on line {first.line}, the "
                    f"first item of group '{item.group}'; the product keeps the first one",
                )
            )  # fmt: skip


def _options(reader: _Reader, items: list[_Item]) -> list[tuple[str, str]]:
    """The variant attributes whose values differ within a group, as (attribute, name)."""
    varying = []
    for attribute, name in VARIANT_ATTRIBUTES:
        values = {reader.cell(item, attribute).casefold() for item in items}
        if len(values) > 1:
            varying.append((attribute, name))
    return varying


def _product(reader: _Reader, items: list[_Item]) -> assembly.Product:
    """A group of items (or one item) as a product with a variant per item."""
    title = _title(reader, items)
    product = assembly.Product(
        handle=_handle(reader, items, title),
        line=items[0].line,
        values=_product_values(reader, items, title),
    )
    sources = [reader.cell(item, IMAGE) for item in items]
    sources += [src for item in items for src in reader.images(item)]
    product.images = [assembly.Image(src) for src in dict.fromkeys(sources) if src]
    options = _options(reader, items) if len(items) > 1 else []
    _warn_too_many(reader, product, items[0], options)
    options = options[: assembly.MAX_OPTIONS]
    product.option_names = [name for _, name in options]
    used_by_product = _product_attributes(reader, product, items[0], options)
    extras = []
    for item in items:
        variant, extra = _item_variant(reader, item, options)
        extras.append(reader.extra(item, extra | used_by_product | set(GROUP_FIELDS)))
        if (own := reader.cell(item, TITLE)) and own != title:
            extras[-1][reader.name(TITLE)] = own
        product.variants.append(variant)
    _split_attributes(reader, product, items, extras, used_by_product)
    _disagreements(reader, items, product.variants)
    _default_option(reader, product, items, title)
    if options:
        assembly.option_warnings(product, reader.name(options[0][0]))
    return product


def _product_attributes(
    reader: _Reader, product: assembly.Product, first: _Item, options: list[tuple[str, str]]
) -> set[str]:
    """The attributes read into the product's fields and options (not kept as attributes)."""
    used = {TITLE, GROUP_TITLE, DESCRIPTION, BRAND, *(a for a, _ in options)}
    if product.values["product_type"] == reader.cell(first, PRODUCT_TYPE):
        used.add(PRODUCT_TYPE)
    if product.values["category"]:
        used.add(GOOGLE_CATEGORY)
    return used


def _item_variant(
    reader: _Reader, item: _Item, options: list[tuple[str, str]]
) -> tuple[assembly.Variant, set[str]]:
    """An item as a variant with its option values (and its image, in a group)."""
    variant, used = reader.variant(item)
    if item.group:
        variant.values["image_src"] = reader.cell(item, IMAGE)
    for attribute, name in options:
        variant.options[name] = reader.cell(item, attribute)
    return variant, used


def _split_attributes(
    reader: _Reader,
    product: assembly.Product,
    items: list[_Item],
    extras: list[dict[str, str]],
    used_by_product: set[str],
) -> None:
    """Attributes the same on every item are the product's; the rest stay on the items."""
    first = items[0]
    shared = {k: v for k, v in extras[0].items() if all(e.get(k) == v for e in extras[1:])}
    for attribute in (PRODUCT_TYPE, GOOGLE_CATEGORY):
        if attribute not in used_by_product and (value := reader.cell(first, attribute)):
            shared[reader.name(attribute)] = value
    product.attributes = shared
    for variant, extra in zip(product.variants, extras, strict=True):
        variant.attributes.update({k: v for k, v in extra.items() if shared.get(k) != v})


def _warn_too_many(
    reader: _Reader, product: assembly.Product, first: _Item, options: list[tuple[str, str]]
) -> None:
    if len(options) <= assembly.MAX_OPTIONS:
        return
    names = ", ".join(name for _, name in options)
    product.warnings.append(
        reader.warn(
            first, GROUP, "too_many_options", names,
            f"the items of group '{first.group}' vary by {len(options)} attributes ({names}); "
            f"only the first {assembly.MAX_OPTIONS} become options, the rest are kept as "
            "attributes",
        )
    )  # fmt: skip


def _default_option(
    reader: _Reader, product: assembly.Product, items: list[_Item], title: str
) -> None:
    """Items that differ in no variant attribute are told apart by their titles' own words."""
    if product.option_names or len(items) < 2:
        return
    product.option_names = ["Variant"]
    for variant, item in zip(product.variants, items, strict=True):
        own = reader.cell(item, TITLE)
        rest = own[len(title) :].strip(_SEPARATORS) if own.startswith(title) else own
        variant.options["Variant"] = rest or item.id
    attributes = ", ".join(name.lower() for _, name in VARIANT_ATTRIBUTES)
    product.warnings.append(
        reader.warn(
            items[0], GROUP, "merchant_group_without_variant_attributes", items[0].group,
            f"the items of group '{items[0].group}' differ in none of {attributes}; each is "
            "offered under the words of its own title as the option 'Variant'",
        )
    )  # fmt: skip


def read(
    table: SourceTable, options: ProfileOptions, now: datetime | None = None
) -> assembly.Reading:
    """Read a Merchant Center feed into products, each item group with its items."""
    reader = _Reader(table, options, now or datetime.now(UTC))
    products = [_product(reader, items) for items in _groups(reader.items())]
    grouping = _grouping(reader, products)
    return reader.reading(products, grouping, reader.field_sources())


def assemble(
    table: SourceTable, options: ProfileOptions, now: datetime | None = None
) -> assembly.Assembly:
    """Read a Merchant Center feed into the canonical frame, a row per item."""
    return read(table, options, now).assembly()


def _grouping(reader: _Reader, products: list[assembly.Product]) -> assembly.Grouping:
    """How the feed's items grouped, in numbers and in phrases."""
    grouped = [p for p in products if p.variants and len(p.variants) > 1]
    in_groups = sum(len(p.variants) for p in grouped)
    single = len(products) - len(grouped)
    details = []
    if grouped:
        details.append(
            f"{assembly.plural(in_groups, 'item')} in {assembly.plural(len(grouped), 'item group')}"
        )
    if single:
        details.append(assembly.plural(single, "single-item product"))
    if reader.duplicates:
        details.append(f"{assembly.plural(reader.duplicates, 'item')} repeating another's id")
    if reader.rejections:
        details.append(f"{assembly.plural(len(reader.rejections), 'item')} without an id")
    counts = {
        "item_groups": len(grouped),
        "items_in_groups": in_groups,
        "single_items": single,
        "repeated_ids": reader.duplicates,
    }
    return reader.summary(products, details, counts)


PLATFORM = Platform(name=NAME, label=LABEL, detect=detect, assemble=assemble)
