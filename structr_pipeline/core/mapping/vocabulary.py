"""Header vocabulary: the names platforms and suppliers give each canonical field.

Plain data only; ``propose.py`` normalizes every entry the same way as a source header
(case, accents, separators, unit parentheses), so spelling variants such as ``Art.-Nr.``,
``art_nr`` and ``ArtNr`` need one entry at most. The sources are Shopify (both header
sets), WooCommerce, Magento 2, BigCommerce, Amazon flat files, Google Merchant feeds and
supplier sheets in German, French, Spanish, Italian and Dutch.
"""

from __future__ import annotations

# Names that mean the field. A header equal to one of them (after normalization) is an
# exact match; near spellings are fuzzy matches.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "handle": (
        "handle", "url handle", "product handle", "url key", "slug", "url slug", "permalink",
        "item group id", "seo url", "seo slug",
    ),
    "title": (
        "title", "name", "product name", "product title", "item name", "item title",
        "article name", "product", "bezeichnung", "artikelname", "artikelbezeichnung",
        "produktname", "produktbezeichnung", "titel", "désignation", "libellé", "nom",
        "nom du produit", "nom produit", "titre", "nombre", "nombre del producto",
        "nombre producto", "título", "nome", "nome prodotto", "nome articolo", "titolo",
        "denominazione", "naam", "productnaam", "artikelnaam", "benaming",
    ),
    "description_html": (
        "description", "body", "body html", "product description", "long description",
        "description html", "html description", "beschreibung", "artikelbeschreibung",
        "produktbeschreibung", "langtext", "langbeschreibung", "description longue",
        "descriptif", "description produit", "descripción", "descripción del producto",
        "descripción larga", "descrizione", "descrizione prodotto", "descrizione lunga",
        "beschrijving", "omschrijving", "productbeschrijving", "lange omschrijving",
    ),
    "vendor": (
        "vendor", "brand", "brand name", "manufacturer", "manufacturer name", "hersteller",
        "marke", "markenname", "herstellername", "marque", "fabricant", "marca",
        "fabricante", "produttore", "merk", "fabrikant", "merknaam",
    ),
    "product_type": (
        "type", "product type", "item type", "feed product type", "produkttyp", "produktart",
        "artikeltyp", "artikelart", "type de produit", "type produit", "tipo de producto",
        "tipo producto", "tipo prodotto", "tipo articolo", "producttype", "productsoort",
        "soort",
    ),
    "category": (
        "category", "categories", "product category", "category path", "google product category",
        "kategorie", "kategorien", "produktkategorie", "warengruppe", "artikelgruppe",
        "catégorie", "catégorie produit", "rubrique", "categoría", "categorías",
        "categoría del producto", "categoria prodotto", "productcategorie",
    ),
    "tags": (
        "tags", "tag", "product tags", "keywords", "search keywords", "schlagworte",
        "schlagwörter", "stichwörter", "étiquettes", "mots clés", "etiquetas",
        "palabras clave", "etichette", "parole chiave", "trefwoorden",
    ),
    "status": (
        "status", "product status", "statut", "estado", "stato", "produktstatus",
    ),
    "option1_name": ("option 1 name", "attribute 1 name", "variation 1 name", "variant 1 name"),
    "option1_value": (
        "option 1 value", "attribute 1 value", "attribute 1 values", "variation 1 value",
        "variant 1 value",
    ),
    "option2_name": ("option 2 name", "attribute 2 name", "variation 2 name", "variant 2 name"),
    "option2_value": (
        "option 2 value", "attribute 2 value", "attribute 2 values", "variation 2 value",
        "variant 2 value",
    ),
    "option3_name": ("option 3 name", "attribute 3 name", "variation 3 name", "variant 3 name"),
    "option3_value": (
        "option 3 value", "attribute 3 value", "attribute 3 values", "variation 3 value",
        "variant 3 value",
    ),
    "sku": (
        "sku", "variant sku", "item sku", "sku number", "sku code", "supplier sku",
        "vendor sku", "product code sku", "product code", "item code",
        "item number", "item no", "article number", "article no", "seller sku", "merchant sku",
        "artikelnummer", "art nr", "artikel nr", "artnr", "artikelnr", "artikel nummer",
        "bestellnummer", "artikelcode", "référence", "ref", "réf", "référence produit",
        "code article", "referencia", "código", "código de artículo", "codice articolo",
        "codice", "cod articolo", "codice prodotto", "artikel code", "productcode",
    ),
    "barcode": (
        "barcode", "variant barcode", "gtin", "ean", "upc", "ean code", "ean13", "ean 13",
        "gtin13", "gtin 13", "gtin 14", "upc ean", "product upc ean", "upc ean isbn", "isbn",
        "jan", "external product id", "strichcode", "code ean", "code-barre", "code-barres",
        "código de barras", "código ean", "codice a barre", "codice ean", "streepjescode",
        "ean nummer", "ean nr",
    ),
    "price": (
        "price", "variant price", "regular price", "standard price", "selling price",
        "unit price", "preis", "vk", "vk preis", "verkaufspreis",
        "vk brutto", "verkaufspreis brutto", "prix", "prix de vente", "prix ttc", "prix unitaire",
        "precio", "precio de venta", "pvp", "prezzo", "prezzo di vendita", "prezzo vendita",
        "prijs", "verkoopprijs", "verkoop prijs",
    ),
    "compare_at_price": (
        "compare at price", "variant compare at price", "compare price", "list price", "msrp",
        "msrp price", "rrp", "retail price", "was price", "original price", "old price",
        "uvp", "unverbindliche preisempfehlung", "listenpreis", "streichpreis", "alter preis",
        "prix barré", "prix conseillé", "prix public conseillé", "ancien prix",
        "precio anterior", "precio de lista", "precio tachado", "precio recomendado",
        "prezzo di listino", "prezzo listino", "prezzo consigliato", "prezzo barrato",
        "adviesprijs", "van prijs", "oude prijs", "catalogusprijs",
    ),
    "cost_per_item": (
        "cost per item", "cost", "cost price", "unit cost", "purchase price", "wholesale price",
        "buy price", "ek", "ek preis", "ek netto", "einkaufspreis", "einstandspreis",
        "prix d'achat", "prix achat", "coût", "coût unitaire", "prix de revient",
        "precio de coste", "precio de costo", "coste", "costo", "precio de compra",
        "prezzo d'acquisto", "prezzo di acquisto", "prezzo acquisto", "costo unitario",
        "inkoopprijs", "inkoop prijs", "kostprijs",
    ),
    "inventory_qty": (
        "inventory qty", "variant inventory qty", "inventory quantity", "inventory", "qty",
        "quantity", "stock", "stock quantity", "stock qty", "stock level", "current stock level",
        "on hand", "qty on hand", "available quantity", "bestand", "lagerbestand", "menge",
        "lagermenge", "verfügbar", "quantité", "qté", "quantité en stock", "existencias",
        "cantidad", "inventario", "giacenza", "quantità", "disponibilità", "voorraad",
        "aantal",
    ),
    "weight_grams": (
        "weight", "variant grams", "grams", "weight value", "product weight", "item weight",
        "shipping weight", "ship weight", "package weight", "net weight", "gewicht",
        "nettogewicht", "versandgewicht", "poids", "poids net", "peso", "peso neto",
        "peso netto",
    ),
    "image_src": (
        "image src", "image", "images", "image url", "image link", "main image url",
        "main image", "base image", "product image", "product image url", "product image url 1",
        "product image file 1", "picture", "picture url", "photo", "bild", "bild url", "bilder",
        "bildlink", "produktbild", "hauptbild", "url image", "image principale", "imagen",
        "url imagen", "url de la imagen", "imagen principal", "immagine", "url immagine",
        "immagine principale", "foto", "afbeelding", "afbeelding url", "hoofdafbeelding",
    ),
    "image_alt": (
        "image alt text", "image alt", "alt text", "image label", "base image label",
        "bild alt text", "texte alternatif", "texto alternativo", "testo alternativo",
    ),
    "seo_title": (
        "seo title", "meta title", "page title", "meta titel", "seo titel", "titre seo",
        "meta titre", "título seo", "meta título", "titolo seo", "meta titolo",
    ),
    "seo_description": (
        "seo description", "meta description", "meta beschreibung", "seo beschreibung",
        "description seo", "meta descripción", "descripción seo", "meta descrizione",
        "descrizione seo", "meta omschrijving", "seo omschrijving",
    ),
}  # fmt: skip

# Names that can mean the field but usually mean something else when a better column is
# present: they score below an exact synonym, so the better column wins the field.
WEAK_SYNONYMS: dict[str, tuple[str, ...]] = {
    # Google Merchant's item id is often the SKU; record ids are vetoed by their values.
    "sku": ("id", "item id", "offer id"),
    # A sale/special price is the price only when it is the file's one price column.
    "price": (
        "sale price", "special price", "offer price", "sonderpreis", "aktionspreis",
        "angebotspreis", "prix promo", "prix solde", "precio oferta", "precio rebajado",
        "prezzo scontato", "prezzo offerta", "aanbiedingsprijs", "actieprijs",
    ),
    # In WooCommerce the regular price is the price; beside another price it is the list price.
    "compare_at_price": ("regular price", "normal price"),
    "description_html": (
        "short description", "kurzbeschreibung", "kurztext", "description courte",
        "descripcion corta", "descrizione breve", "korte omschrijving", "korte beschrijving",
    ),
    "title": ("omschrijving", "short name", "kurzname"),
    "vendor": ("supplier", "lieferant", "fournisseur", "proveedor", "fornitore", "leverancier"),
    "image_src": ("variant image", "variant image url", "thumbnail", "image 1", "bild 1"),
    "category": ("department", "abteilung", "famille", "familia", "famiglia", "groep"),
}  # fmt: skip

# Words in a price header that make the column a sale/special price: never the list
# price or the cost, and the price only when no other price column is found.
SALE_PRICE_WORDS: frozenset[str] = frozenset(
    {
        "sale", "special", "offer", "promo", "promotion", "sonderpreis", "aktionspreis",
        "angebotspreis", "angebot", "aktion", "solde", "soldes", "oferta", "rebajado",
        "scontato", "offerta", "aanbieding", "aanbiedingsprijs", "actieprijs", "actie",
    }
)  # fmt: skip

# Known columns that are not canonical fields: record ids, flags, dates, dimensions,
# shipping and tax settings, model numbers. A header matching one of these stays unmapped
# whatever its values look like.
NOT_FIELDS: tuple[str, ...] = (
    "unique id", "record id", "row id", "entity id", "post id", "product id", "variant id",
    "internal id", "parent", "parent sku", "parent id", "parent child", "relationship type",
    "variation theme", "grouped products", "upsells", "cross sells", "related products",
    "published", "published on online store", "is featured", "featured", "visibility",
    "visibility in catalog", "product online", "enabled", "active", "is active",
    "in stock", "is in stock", "stock status", "availability", "backorders allowed",
    "allow backorders", "sold individually", "low stock amount", "out of stock qty",
    "min cart qty", "max cart qty", "tax status", "tax class", "tax class name", "tax code",
    "charge tax", "taxable", "shipping class", "requires shipping", "length", "width",
    "height", "depth", "dimensions", "size chart", "date sale price starts",
    "date sale price ends", "special price from date", "special price to date", "created at",
    "updated at", "new from date", "new to date", "allow customer reviews", "purchase note",
    "download limit", "download expiry days", "external url", "button text", "position",
    "image position", "mpn", "manufacturer part number", "part number", "model", "model number",
    "modelno", "model no", "model name", "herstellernummer", "hersteller artikelnummer",
    "link", "product url", "product link", "condition", "gender", "age group", "bullet point",
    "attribute set", "attribute set code", "store view code", "website id",
    "product websites", "map price", "country of manufacture", "country of origin",
    "inventory tracker", "inventory policy", "fulfillment service", "gift card",
    "weight unit", "variant weight unit", "weight unit for display", "additional images",
    "additional image link", "other image url", "additional attributes", "meta keywords",
    "variant inventory tracker", "variant inventory policy", "variant fulfillment service",
    "variant requires shipping", "variant taxable", "variant tax code",
    "continue selling when out of stock", "unit price total measure",
    "unit price base measure", "google shopping gender", "google shopping age group",
    "google shopping mpn", "google shopping condition", "google shopping custom product",
    "currency", "währung", "devise", "moneda", "valuta", "mwst", "vat", "tva", "iva", "btw",
)  # fmt: skip

# Header words that carry no meaning: ``col_3``, ``Column 5``, ``Unnamed: 2``, ``Feld1``.
PLACEHOLDER_WORDS: frozenset[str] = frozenset(
    {
        "col", "column", "field", "feld", "spalte", "colonne", "columna", "colonna", "kolom",
        "kolonne", "unnamed", "var", "attr", "header", "untitled", "unknown", "data", "value",
        "x", "c", "f", "v",
    }
)  # fmt: skip

# Header words naming a variant option (colour, size): such a column fills an option
# value; the option name is the header itself.
OPTION_WORDS: tuple[str, ...] = (
    "color", "colour", "color name", "colour name", "farbe", "couleur", "colore", "kleur",
    "size", "size name", "größe", "groesse", "taille", "talla", "taglia", "maat",
)  # fmt: skip

# Weight units a header (``Weight (kg)``, ``weight_lbs``, ``Gewicht in kg``) or a value
# (``2.3 kg``) may name, and the factor that turns a number in that unit into grams.
WEIGHT_UNITS: dict[str, float] = {
    "g": 1.0, "gr": 1.0, "grs": 1.0, "gram": 1.0, "grams": 1.0, "gramm": 1.0,
    "gramme": 1.0, "grammes": 1.0, "gramos": 1.0, "grammi": 1.0, "grammen": 1.0,
    "kg": 1000.0, "kgs": 1000.0, "kilo": 1000.0, "kilos": 1000.0, "kilogram": 1000.0,
    "kilograms": 1000.0, "kilogramm": 1000.0, "kilogramme": 1000.0, "kilogrammes": 1000.0,
    "kilogramos": 1000.0, "chilogrammi": 1000.0, "chili": 1000.0,
    "lb": 453.59237, "lbs": 453.59237, "pound": 453.59237, "pounds": 453.59237,
    "oz": 28.349523125, "ounce": 28.349523125, "ounces": 28.349523125,
    "mg": 0.001,
}  # fmt: skip

# Little words between a measure and its unit: ``Gewicht in kg``, ``poids en g``.
UNIT_PREPOSITIONS: frozenset[str] = frozenset({"in", "en", "em", "im", "per", "pro", "i"})

# Values of a product status.
STATUS_VALUES: frozenset[str] = frozenset(
    {
        "active", "draft", "archived", "aktiv", "entwurf", "archiviert", "actif", "brouillon",
        "archive", "activo", "borrador", "archivado", "attivo", "bozza", "archiviato",
        "actief", "concept", "gearchiveerd", "enabled", "disabled", "inactive",
    }
)  # fmt: skip

# Values of a platform's product structure type (WooCommerce ``Type``, Magento
# ``product_type``): they describe how the record is built, not what the product is.
STRUCTURE_TYPES: frozenset[str] = frozenset(
    {
        "simple", "variable", "variation", "grouped", "external", "configurable", "bundle",
        "virtual", "downloadable", "giftcard", "gift card", "composite", "subscription",
        "variable subscription", "parent", "child",
    }
)  # fmt: skip
