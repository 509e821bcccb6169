"""Measure the whole deduplication stage on a large batch: wall time and peak memory.

    python benchmarks/dedup_scale.py --rows 1000000 [--against-catalog]

A synthetic Shopify export of N variant rows (devices of about 2,200 brands, each in
colours and editions) has duplicate listings planted in it: one product in 20 is listed
again under another handle, with its SKUs re-cased and padded, with its barcodes written
as GTIN-14, with the same title and vendor, or in another supplier's words (the model
number spelled apart, the words reordered). The file is read, mapped and validated once
(cached under ``benchmarks/out``); then a fresh process loads the validated batch and
runs ``deduplicate`` with the fuzzy matcher, as the ``deduplicated_products`` asset
does, and prints one line:

    dedup rows=… products=… rows_out=… merges=… possible=… seconds=… \
        input_rss_mib=… peak_rss_mib=… overhead_mib=…

``input_rss_mib`` is the process once the batch (and the catalog) is loaded, before
deduplication; ``overhead_mib`` is what deduplication adds on top of it at its peak.
``--against-catalog`` imports the batch a second time: the catalog then holds every
product of the file (read as the asset reads it), and every product is an update.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

from generate_shopify import HEADER, gtin13  # noqa: E402
from matching import _BRANDS, _TYPES  # noqa: E402

# One product in DUPLICATE_EVERY is listed again, in one of four ways.
DUPLICATE_EVERY = 20
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "to", "vu", "xe", "zo", "be", "di", "fa", "gu"]
BRANDS = [
    *_BRANDS,
    *((a + b + c).capitalize() for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES),
]
KINDS = list(_TYPES)
FEATURES = {kind: list(words) for kind, words in _TYPES.items()}
COLOURS = ["Black", "White", "Silver", "Red", "Blue", "Graphite"]
EDITIONS = ["Standard", "Pro", "Kit"]


def _resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _product_rows(rng: random.Random, n: int) -> list[dict[str, str]]:
    """The rows of product ``n``: a brand's device with colour and edition variants."""
    brand = BRANDS[rng.randrange(len(BRANDS))]
    kind = KINDS[rng.randrange(len(KINDS))]
    features = rng.sample(FEATURES[kind], 3)
    model = "".join(rng.choices("ABCDEHKLMNPRSTVWXZ", k=rng.randint(2, 3))) + str(
        rng.randint(10, 99999)
    )
    title = f"{brand} {' '.join(features[: rng.randint(1, 3)])} {kind} {model}"
    handle = f"{brand}-{kind}-{model}".lower().replace(" ", "-")
    price = round(rng.lognormvariate(4.5, 0.9), 2)
    colours = rng.sample(COLOURS, rng.randint(1, 3))
    editions = rng.sample(EDITIONS, rng.randint(1, 2))
    out = []
    for i, (colour, edition) in enumerate((c, e) for c in colours for e in editions):
        row = dict.fromkeys(HEADER, "")
        row.update({
            "Handle": handle,
            "Option1 Value": colour,
            "Option2 Value": edition,
            "Variant SKU": f"{model}-{colour[:2].upper()}{edition[:1]}",
            "Variant Price": f"{price + 10 * editions.index(edition):.2f}",
            "Variant Inventory Qty": str(rng.randint(0, 200)),
            "Variant Barcode": gtin13(n * 10 + i),
            "Variant Grams": str(rng.randint(100, 9000)),
            "Image Src": f"https://cdn.example.com/{handle}/{i + 1}.jpg",
        })  # fmt: skip
        if i == 0:
            row.update({
                "Title": title,
                "Body (HTML)": f"<p>The {kind.lower()} from {brand}: {', '.join(features)}.</p>",
                "Vendor": brand,
                "Type": kind,
                "Option1 Name": "Color",
                "Option2 Name": "Edition",
                "Status": "active",
            })  # fmt: skip
        out.append(row)
    return out


def _relisted(rows: list[dict[str, str]], way: int, rng: random.Random) -> list[dict[str, str]]:
    """The same product listed again under another handle, in one of four ways."""
    copies = []
    for row in rows:
        copy = dict(row, Handle=row["Handle"] + "-relisted")
        if way == 0:  # the same SKUs, re-cased and padded
            copy["Variant SKU"] = f" {row['Variant SKU'].lower()} "
        elif way == 1:  # the same barcodes as GTIN-14, no SKUs
            copy["Variant SKU"] = ""
            copy["Variant Barcode"] = "0" + row["Variant Barcode"]
        elif way == 2:  # the same title and vendor, no SKUs or barcodes
            copy["Variant SKU"] = copy["Variant Barcode"] = ""
        else:  # another supplier's words for it: the matcher's case
            copy["Variant SKU"] = copy["Variant Barcode"] = ""
            if row["Title"]:
                *words, model = row["Title"].split()
                copy["Title"] = f"{model[:2]}-{model[2:]} {' '.join(reversed(words))}"
        copy["Variant Price"] = f"{float(row['Variant Price']) + rng.choice([0, 1]):.2f}"
        copies.append(copy)
    return copies


def rows_with_duplicates(n_rows: int, seed: int = 7) -> Iterator[dict[str, str]]:
    """``n_rows`` variant rows; one product in ``DUPLICATE_EVERY`` is listed twice."""
    rng = random.Random(seed)
    written = 0
    n = 0
    while True:
        n += 1
        rows = _product_rows(rng, n)
        if n % DUPLICATE_EVERY == 0:
            rows += _relisted(rows, n // DUPLICATE_EVERY % 4, rng)
        for row in rows:
            if written == n_rows:
                return
            yield row
            written += 1


def validated_batch(n_rows: int) -> Path:
    """The validated batch of ``n_rows`` rows as Parquet, built once and cached."""
    from structr_pipeline.core.connectors.registry import map_table
    from structr_pipeline.core.csv_reading import read_table
    from structr_pipeline.core.validation import validate_products

    parquet = OUT / f"dedup_{n_rows}.parquet"
    if parquet.exists():
        return parquet
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"dedup_{n_rows}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows_with_duplicates(n_rows))
    table = read_table(path)
    mapping = map_table(table)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    if len(result.rejected):
        raise SystemExit(f"{len(result.rejected)} rows rejected: {result.rejected.head()}")
    result.valid.to_parquet(parquet)
    path.unlink()
    return parquet


def _deduplicate(batch: pd.DataFrame, catalog: pd.DataFrame):
    from structr_pipeline.core.dedup.merge import deduplicate, default_matcher

    return deduplicate(batch, catalog, matcher=default_matcher(), handles_given=True)


def _catalog_columns(frame: pd.DataFrame) -> pd.DataFrame:
    from structr_pipeline.core.fields import ATTRIBUTES, CANONICAL_FIELDS, IMAGES

    return frame[[*CANONICAL_FIELDS, IMAGES, ATTRIBUTES]]


def catalog_after_first_import(parquet: Path) -> Path:
    """The catalog after importing the batch once (its deduplicated products), cached."""
    path = parquet.with_name(parquet.stem + "_catalog.parquet")
    if not path.exists():
        batch = pd.read_parquet(parquet)
        products = _deduplicate(batch, _catalog_columns(batch.iloc[:0])).products
        _catalog_columns(products).sort_values("handle", kind="stable").reset_index(
            drop=True
        ).to_parquet(path)
    return path


def measure(parquet: Path, catalog_path: Path | None) -> str:
    """Deduplicate the cached batch in this process; one line of figures."""
    batch = pd.read_parquet(parquet)
    if catalog_path is None:
        catalog = _catalog_columns(batch.iloc[:0])
    else:
        catalog = pd.read_parquet(catalog_path)
    gc.collect()
    before = _resident_mib()
    start = time.perf_counter()
    result = _deduplicate(batch, catalog)
    seconds = time.perf_counter() - start
    peak = _peak_mib()
    return (
        f"dedup rows={len(batch)} products={batch['handle'].nunique()} "
        f"rows_out={len(result.products)} merges={len(result.merges)} "
        f"possible={len(result.possible)} seconds={seconds:.1f} input_rss_mib={before:.0f} "
        f"peak_rss_mib={peak:.0f} overhead_mib={peak - before:.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the validated batch, then measure in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--against-catalog", action="store_true")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make-catalog", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make-batch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make_batch:
        validated_batch(args.rows)
        return 0
    if args.measure:
        print(measure(args.measure, args.catalog))
        return 0
    if args.make_catalog:
        catalog_after_first_import(args.make_catalog)
        return 0
    # Each step in its own process, so that the peak measured is deduplication's alone
    # (a child started by a large parent would report the parent's peak as its own).
    rows = ["--rows", str(args.rows)]
    subprocess.run([sys.executable, __file__, "--make-batch", *rows], check=True)
    parquet = validated_batch(args.rows)
    command = [sys.executable, __file__, "--measure", str(parquet)]
    if args.against_catalog:
        subprocess.run([sys.executable, __file__, "--make-catalog", str(parquet)], check=True)
        command += ["--catalog", str(parquet.with_name(parquet.stem + "_catalog.parquet"))]
    return subprocess.run(command).returncode


if __name__ == "__main__":
    sys.exit(main())
