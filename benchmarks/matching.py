"""Benchmark the product matcher on public entity-resolution datasets, and at scale.

    python benchmarks/matching.py --dataset NAME  # abt-buy, amazon-google, walmart-amazon,
                                                  # abt-buy-dedupe
    python benchmarks/matching.py --all
    python benchmarks/matching.py --left A.csv --right B.csv --truth PAIRS.csv [--left-id COL]
    python benchmarks/matching.py --scale 1000000 [--workers 2]

Each dataset is matched in two-table mode, the two files being two incoming batches, and
scored on the "match" decisions: one line ``<name> precision=… recall=… f1=… seconds=…
merge=N@P review=N@P`` where seconds is the wall time of ``match`` alone, ``merge`` the
pairs in the merge band (``dedup.merge_band``: what deduplication merges unreviewed) and
their precision, ``review`` those deduplication would list for review and theirs.
``--scale N`` times ``match`` in within-frame mode on N synthetic rows (product variants
written several ways) and prints ``scale rows=… candidates=… seconds=… peak_rss_mib=…``.

The datasets are read from ``../shared/datasets`` beside the repository.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.dedup import (
    MATCH_COLUMNS,
    MatchSettings,
    candidate_pairs,
    match,
    merge_band,
)
from structr_pipeline.core.dedup.merge import REVIEW_MODEL_SIGNAL
from structr_pipeline.core.fields import PARSE_ERROR, SOURCE_LINE
from structr_pipeline.core.normalize import parse_price

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

# Source column names (lower-cased) for each matcher column; the first present wins.
COLUMN_NAMES = {
    "title": ("title", "name", "product name", "product_name"),
    "vendor": ("vendor", "brand", "manufacturer", "maker"),
    "description": ("description", "body", "body (html)"),
    "price": ("price", "variant price"),
    "sku": ("sku", "variant sku"),
    "barcode": ("barcode", "gtin", "upc", "ean", "variant barcode"),
    "model": ("model", "modelno", "model_no", "model number", "mpn"),
}


@dataclass(frozen=True)
class Dataset:
    """Where one benchmark's files are and how its ground truth is given."""

    folder: str
    left: str
    right: str
    truth: str | None  # a file of id pairs; None: records sharing the id are the truth
    delimiter: str | None = None
    id_column: str = "id"


NAMED = {
    "abt-buy": Dataset("pyjedai-abt-buy", "abt.csv", "buy.csv", "gt.csv", "|"),
    "amazon-google": Dataset("pyjedai-amazon-google", "amazon.csv", "gp.csv", "gt.csv", "#"),
    "walmart-amazon": Dataset("pyjedai-walmart-amazon", "walmart.csv", "amazon.csv", "gt.csv", "|"),
    "abt-buy-dedupe": Dataset(
        "dedupe-examples-abt-buy", "AbtBuy_Abt.csv", "AbtBuy_Buy.csv", None, ",", "unique_id"
    ),
}


@dataclass(frozen=True)
class Band:
    """How many pairs a band holds and the share of them that are true matches."""

    pairs: int
    precision: float

    def text(self) -> str:
        return f"{self.pairs}@{self.precision:.3f}"


@dataclass(frozen=True)
class Result:
    """Precision, recall and F1 of the "match" decisions, the seconds ``match`` took, and
    the merge and review bands."""

    precision: float
    recall: float
    f1: float
    seconds: float
    merge: Band
    review: Band

    def line(self, name: str) -> str:
        return (
            f"{name} precision={self.precision:.3f} recall={self.recall:.3f} "
            f"f1={self.f1:.3f} seconds={self.seconds:.3f} "
            f"merge={self.merge.text()} review={self.review.text()}"
        )


def _band(pairs: set[tuple[int, int]], truth: set[tuple[int, int]]) -> Band:
    return Band(len(pairs), len(pairs & truth) / len(pairs) if pairs else 0.0)


def to_match_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Map a source table's columns to ``MATCH_COLUMNS`` by name (prices parsed)."""
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    if not any(n in by_name for n in COLUMN_NAMES["title"]):
        raise SystemExit(f"no title column among {list(frame.columns)}")
    out: dict[str, object] = {}
    for column in MATCH_COLUMNS:
        source = next((by_name[n] for n in COLUMN_NAMES[column] if n in by_name), None)
        if source is None:
            out[column] = np.nan if column == "price" else ""
            continue
        values = frame[source].fillna("").astype(str).tolist()
        if column == "price":
            amounts = (parse_price(v)[0] for v in values)
            out[column] = [np.nan if a is None else a for a in amounts]
        else:
            out[column] = values
    return pd.DataFrame(out, index=range(len(frame)))


def id_column(frame: pd.DataFrame, given: str | None) -> str:
    """The id column: ``given``, else the first column named like an id."""
    if given:
        if given not in frame.columns:
            raise SystemExit(f"no column {given!r} among {list(frame.columns)}")
        return given
    for column in frame.columns:
        if re.fullmatch(r"(?i)(.*[_ ])?id", str(column).strip()):
            return column
    raise SystemExit(f"no id column among {list(frame.columns)}: pass --left-id/--right-id")


def read(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    """A CSV file's cells as text (delimiter detected unless given)."""
    if not path.is_file():
        raise SystemExit(f"{path} not found")
    return read_table(path, delimiter=delimiter).frame.drop(columns=[SOURCE_LINE, PARSE_ERROR])


def truth_pairs(
    left_ids: pd.Series, right_ids: pd.Series, pairs: Iterable[tuple[str, str]]
) -> set[tuple[int, int]]:
    """Id pairs as (left position, right position); ids are compared as trimmed text."""
    left_at: dict[str, list[int]] = {}
    right_at: dict[str, list[int]] = {}
    for at, ids in ((left_at, left_ids), (right_at, right_ids)):
        for position, value in enumerate(ids.astype(str).str.strip()):
            at.setdefault(value, []).append(position)
    return {
        (i, j)
        for a, b in pairs
        for i in left_at.get(a.strip(), [])
        for j in right_at.get(b.strip(), [])
    }


def evaluate(
    left: pd.DataFrame, right: pd.DataFrame, truth: set[tuple[int, int]], workers: int = 1
) -> Result:
    """Match two tables and score the "match" decisions against the truth."""
    left_frame, right_frame = to_match_frame(left), to_match_frame(right)
    start = time.perf_counter()
    result = match(left_frame, right_frame, MatchSettings(workers=workers))
    seconds = time.perf_counter() - start
    pairs = list(zip(result["left"].tolist(), result["right"].tolist(), strict=True))
    matched = result["decision"].to_numpy() == "match"
    found = {pair for pair, hit in zip(pairs, matched, strict=True) if hit}
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    merged = merge_band(result)
    # Deduplication lists the rest, except pairs whose model numbers (on both) disagree.
    listed = ~merged & (result["model"].fillna(1.0).to_numpy() >= REVIEW_MODEL_SIGNAL)
    return Result(
        precision,
        recall,
        f1,
        seconds,
        _band({p for p, m in zip(pairs, merged, strict=True) if m}, truth),
        _band({p for p, m in zip(pairs, listed, strict=True) if m}, truth),
    )


def datasets_dir() -> Path:
    if not DATASETS.is_dir():
        raise SystemExit(
            f"shared datasets folder {DATASETS} is absent (expected beside the repository)"
        )
    return DATASETS


def run_named(name: str, root: Path | None = None, workers: int = 1) -> Result:
    """Run one named benchmark (``NAMED``) from the datasets folder."""
    spec = NAMED[name]
    folder = (root or datasets_dir()) / spec.folder
    left = read(folder / spec.left, spec.delimiter)
    right = read(folder / spec.right, spec.delimiter)
    left_ids, right_ids = left[spec.id_column], right[spec.id_column]
    if spec.truth is None:
        shared = sorted(set(left_ids.str.strip()) & set(right_ids.str.strip()))
        truth = truth_pairs(left_ids, right_ids, ((i, i) for i in shared))
    else:
        gt = read(folder / spec.truth, spec.delimiter)
        truth = truth_pairs(left_ids, right_ids, zip(gt.iloc[:, 0], gt.iloc[:, 1], strict=True))
    return evaluate(left, right, truth, workers)


def run_custom(args: argparse.Namespace) -> Result:
    left, right = read(args.left), read(args.right)
    left_ids = left[id_column(left, args.left_id)]
    right_ids = right[id_column(right, args.right_id)]
    gt = read(args.truth)
    if gt.shape[1] < 2:
        raise SystemExit(f"{args.truth} needs two columns of ids")
    truth = truth_pairs(left_ids, right_ids, zip(gt.iloc[:, 0], gt.iloc[:, 1], strict=True))
    return evaluate(left, right, truth, args.workers)


# --- synthetic catalog for --scale ---------------------------------------------------

_BRANDS = [
    "Sony",
    "Samsung",
    "LG",
    "Panasonic",
    "Philips",
    "Canon",
    "Nikon",
    "Olympus",
    "Bose",
    "Yamaha",
    "Denon",
    "Pioneer",
    "Onkyo",
    "Logitech",
    "Belkin",
    "Netgear",
    "Linksys",
    "Apple",
    "Dell",
    "HP",
    "Lenovo",
    "Asus",
    "Acer",
    "Toshiba",
    "Sharp",
    "JVC",
    "Kenwood",
    "Garmin",
    "TomTom",
    "Whirlpool",
    "Maytag",
    "Frigidaire",
    "Bosch",
    "KitchenAid",
    "Cuisinart",
    "Hoover",
    "Dyson",
    "Weber",
    "Brother",
    "Epson",
    "Lexmark",
    "Kodak",
    "Fujifilm",
    "Casio",
    "Seiko",
    "Citizen",
    "Sennheiser",
    "Shure",
    "Klipsch",
    "Polk",
]
_TYPES = {
    "LCD HDTV": ("32'", "40'", "46'", "52'", "1080p", "720p", "120Hz"),
    "Digital Camera": ("10 Megapixel", "12.1 Megapixel", "5x Zoom", "3' LCD", "Image Stabilizer"),
    "Headphones": ("Noise Cancelling", "In-Ear", "Over-Ear", "Wireless", "Bluetooth"),
    "Wireless Router": ("802.11n", "Gigabit", "4-Port", "Dual Band", "300Mbps"),
    "Laser Printer": ("Monochrome", "Duplex", "Network", "30ppm", "USB 2.0"),
    "Microwave Oven": ("1.6 Cu. Ft.", "1100 Watt", "Countertop", "Over-The-Range", "Sensor"),
    "Dishwasher": ("24'", "Built-In", "Stainless Steel", "Energy Star", "Quiet"),
    "Home Theater System": ("5.1 Channel", "1000 Watt", "DVD", "Blu-ray", "HDMI"),
    "Speaker System": ("2-Way", "Bookshelf", "Powered", "100 Watt", "Subwoofer"),
    "Memory Card": ("8GB", "16GB", "32GB", "SDHC", "Class 10"),
    "Notebook Computer": ("15.6'", "4GB RAM", "500GB", "Intel Core 2 Duo", "Windows Vista"),
    "Coffee Maker": ("12-Cup", "Programmable", "Thermal Carafe", "Stainless", "Drip"),
}
_COLOURS = ("Black", "White", "Silver", "Red", "Blue", "Stainless Steel")
_COLOUR_CODES = ("BK", "WH", "S", "R", "BL", "SS")


def _model(rng: np.random.Generator) -> str:
    letters = "".join(rng.choice(list("ABCDEFGHKLMNPRSTVWXZ"), size=int(rng.integers(2, 4))))
    digits = str(int(rng.integers(10, 99999)))
    tail = "".join(rng.choice(list("ABCDEHKLMNPSTUVWXZ"), size=int(rng.integers(0, 2))))
    return letters + digits + tail


def _spell_model(model: str, rng: np.random.Generator) -> str:
    way = int(rng.integers(0, 4))
    split = next((i for i, c in enumerate(model) if c.isdigit()), 2)
    if way == 1:
        return model[:split] + "-" + model[split:]
    if way == 2:
        return model[:split] + " " + model[split:]
    if way == 3:
        return model.lower()
    return model


def synthetic_catalog(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` product rows: each product written 1-4 ways, colours as separate products."""
    rng = np.random.default_rng(seed)
    # Many more brands than the list, made of syllables, so that not every brand is huge.
    syllables = ["ka", "lo", "mi", "ne", "ra", "to", "vu", "xe", "zo", "be", "di", "fa", "gu"]
    brands = list(_BRANDS) + [
        (a + b + c).capitalize() for a in syllables for b in syllables for c in syllables
    ]
    types = list(_TYPES)
    out: dict[str, list] = {c: [] for c in ("title", "vendor", "description", "model", "price")}
    while len(out["title"]) < rows:
        brand = brands[int(rng.integers(len(brands)))]
        kind = types[int(rng.integers(len(types)))]
        base_model = _model(rng)
        features = list(rng.choice(_TYPES[kind], size=3, replace=False))
        base_price = float(np.round(rng.lognormal(5, 1), 2))
        for colour_index in rng.choice(len(_COLOURS), size=int(rng.integers(1, 3)), replace=False):
            colour = _COLOURS[colour_index]
            model = base_model + _COLOUR_CODES[colour_index]
            for _ in range(int(rng.integers(1, 5))):
                words = [brand, *features[: int(rng.integers(1, 4))], colour, kind]
                rng.shuffle(words[1:-1])
                title = " ".join(words)
                layout = int(rng.integers(0, 3))
                if layout == 0:
                    title = f"{title} - {_spell_model(model, rng)}"
                elif layout == 1:
                    title = f"{brand} {_spell_model(model, rng)} {' '.join(words[1:])}"
                out["title"].append(title)
                out["vendor"].append(brand if rng.random() < 0.7 else "")
                out["model"].append(model if rng.random() < 0.3 else "")
                out["description"].append(
                    f"{kind} by {brand}, {', '.join(features)}." if rng.random() < 0.5 else ""
                )
                out["price"].append(round(base_price * float(rng.uniform(0.9, 1.1)), 2))
    frame = pd.DataFrame({c: v[:rows] for c, v in out.items()})
    for column in ("sku", "barcode"):
        frame[column] = ""
    return frame[list(MATCH_COLUMNS)]


def run_scale(rows: int, workers: int) -> str:
    frame = synthetic_catalog(rows)
    start = time.perf_counter()
    result = match(frame, settings=MatchSettings(workers=workers))
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del result
    candidates = len(candidate_pairs(frame))
    return (
        f"scale rows={rows} candidates={candidates} seconds={seconds:.3f} "
        f"peak_rss_mib={peak_mib:.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the benchmarks asked for and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(NAMED))
    parser.add_argument("--all", action="store_true", help="run every named dataset")
    parser.add_argument("--left", type=Path)
    parser.add_argument("--right", type=Path)
    parser.add_argument("--truth", type=Path, help="two columns of id pairs, with a header")
    parser.add_argument("--left-id")
    parser.add_argument("--right-id")
    parser.add_argument("--scale", type=int, metavar="N", help="time N synthetic rows")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.scale:
        print(run_scale(args.scale, args.workers))
    elif args.all:
        for name in NAMED:
            print(run_named(name, workers=args.workers).line(name))
    elif args.dataset:
        print(run_named(args.dataset, workers=args.workers).line(args.dataset))
    elif args.left and args.right and args.truth:
        print(run_custom(args).line("custom"))
    else:
        parser.error("give --dataset, --all, --scale, or --left, --right and --truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
