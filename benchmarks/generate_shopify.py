"""Write a synthetic Shopify product export (legacy header set) with N rows.

Products have 1–6 variants (Color × Size options), a few extra image-only rows, HTML
descriptions, valid GTIN-13 barcodes, market prices and a metafield column, so every
stage has realistic work. Deterministic for a given seed.

    python benchmarks/generate_shopify.py --rows 100000 --out benchmarks/out/shopify_100k.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
    "Option3 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service",
    "Variant Price", "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
    "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card",
    "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit", "Cost per item",
    "Price / International", "Status", "Material (product.metafields.custom.material)",
]  # fmt: skip
ADJECTIVES = ["Classic", "Organic", "Everyday", "Vintage", "Slim", "Relaxed", "Heavy", "Soft"]
NOUNS = ["Tee", "Hoodie", "Jacket", "Sneaker", "Backpack", "Beanie", "Scarf", "Chino", "Mug"]
VENDORS = ["Northwind", "Harbor Goods", "Ridgeline", "Kiln & Co.", "Fieldhouse"]
COLORS = ["Black", "White", "Navy", "Olive", "Sand", "Rust"]
SIZES = ["XS", "S", "M", "L", "XL"]


def gtin13(n: int) -> str:
    """A valid GTIN-13 built from a 12-digit body."""
    body = f"{400000000000 + n:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def rows(n_rows: int, seed: int):
    """Yield up to n_rows rows of a Shopify export."""
    rng = random.Random(seed)
    written = 0
    product = 0
    while written < n_rows:
        product += 1
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {product}"
        handle = title.lower().replace(" ", "-")
        colors = rng.sample(COLORS, rng.randint(1, 2))
        sizes = rng.sample(SIZES, rng.randint(1, 3))
        price = rng.choice([19, 24, 29, 39, 49, 89]) + 0.99
        variants = [(c, s) for c in colors for s in sizes]
        n_images = rng.randint(1, len(variants) + 2)
        for i, (color, size) in enumerate(variants):
            if written >= n_rows:
                return
            first = i == 0
            row = dict.fromkeys(HEADER, "")
            row.update({
                "Handle": handle,
                "Option1 Value": color,
                "Option2 Value": size,
                "Variant SKU": f"SKU-{product:07d}-{i:02d}",
                "Variant Grams": str(rng.randint(100, 2000)),
                "Variant Inventory Tracker": "shopify",
                "Variant Inventory Qty": str(rng.randint(-2, 200)),
                "Variant Inventory Policy": "deny",
                "Variant Fulfillment Service": "manual",
                "Variant Price": f"{price:.2f}",
                "Variant Compare At Price": f"{price + 10:.2f}" if rng.random() < 0.3 else "",
                "Variant Requires Shipping": "true",
                "Variant Taxable": "true",
                "Variant Barcode": gtin13(product * 100 + i),
                "Variant Weight Unit": "g",
                "Cost per item": f"{price / 2:.2f}",
                "Price / International": f"{price + 5:.2f}",
            })  # fmt: skip
            if first:
                row.update({
                    "Title": title,
                    "Body (HTML)": (
                        f"<p>The {title.lower()} in {', '.join(colors)}.</p>\n"
                        f"<ul><li>Sizes {', '.join(sizes)}</li><li>Ships in 2 days</li></ul>"
                    ),
                    "Vendor": rng.choice(VENDORS),
                    "Product Category": "Apparel & Accessories > Clothing",
                    "Type": title.split()[1],
                    "Tags": "synthetic, benchmark",
                    "Published": "true",
                    "Option1 Name": "Color",
                    "Option2 Name": "Size",
                    "Gift Card": "false",
                    "SEO Title": title,
                    "Status": "active",
                    "Material (product.metafields.custom.material)": "Cotton",
                })  # fmt: skip
            if i < n_images:
                row["Image Src"] = f"https://cdn.example.com/p/{product}/{i + 1}.jpg"
                row["Image Position"] = str(i + 1)
                row["Image Alt Text"] = f"{title} view {i + 1}"
            yield row
            written += 1
        for j in range(len(variants), n_images):
            if written >= n_rows:
                return
            row = dict.fromkeys(HEADER, "")
            row.update({
                "Handle": handle,
                "Image Src": f"https://cdn.example.com/p/{product}/{j + 1}.jpg",
                "Image Position": str(j + 1),
            })  # fmt: skip
            yield row
            written += 1


def main() -> None:
    """Parse arguments and write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/shopify_100k.csv"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows(args.rows, args.seed))
    print(f"wrote {args.rows:,} rows to {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
