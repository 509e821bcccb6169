"""Digests of the bundles the pipeline writes for a fixed set of inputs.

A refactoring or a speed-up must not change what a user takes away. This module imports
every shared real export (and the shipped sample, and a synthetic 10,000-row Shopify
file) in a fresh home, reads the seven bundle files, replaces the three values that
differ between two runs of the same bytes (the batch id, which holds the registration
time; the ``created_at`` time; the home folder in ``summary.json``'s file paths) with
placeholders, and hashes each file. ``bundles.json`` beside this module holds the digests
of the code as it was last accepted; ``test_bundle_digests.py`` compares against it.

    python -m structr_pipeline_tests.bundle_digests --write   # accept the current output
    python -m structr_pipeline_tests.bundle_digests           # print what differs
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
GOLDEN = Path(__file__).resolve().parent / "bundles.json"
SYNTHETIC_ROWS = 10_000


@dataclass(frozen=True)
class BundleCase:
    """One input and the batch options it is imported with."""

    name: str
    options: dict = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.name.startswith("synthetic:")


def cases() -> list[BundleCase]:
    """Every input whose bundle is pinned: the shared exports, the sample, a synthetic file."""
    shared = [
        "classic-commerce-sample-products/sample_products.csv",
        "levinmejia-shopify-product-csvs/Apparel.csv",
        "levinmejia-shopify-product-csvs/Bicycles.csv",
        "levinmejia-shopify-product-csvs/Fashion.csv",
        "levinmejia-shopify-product-csvs/SnowDevil.csv",
        "levinmejia-shopify-product-csvs/jewelry.csv",
        "magento2-sample-data/products.csv",
        "magento2-sample-data/products_gear_bags.csv",
        "magento2-sample-data/products_gear_fitness_equipment.csv",
        "magento2-sample-data/products_gear_fitness_equipment_ball.csv",
        "magento2-sample-data/products_gear_fitness_equipment_strap.csv",
        "magento2-sample-data/products_gear_watches.csv",
        "shopify-product-template/product_template.csv",
        "shopifypartners-product-csvs/apparel.csv",
        "shopifypartners-product-csvs/home-and-garden.csv",
        "shopifypartners-product-csvs/jewelery.csv",
        "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv",
        "woocommerce-sample-products/sample_products.csv",
    ]
    return [
        BundleCase("samples/shopify_sample.csv"),
        BundleCase(f"synthetic:shopify:{SYNTHETIC_ROWS}"),
        *(BundleCase(f"shared:{name}") for name in shared),
        BundleCase(
            "shared:woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv",
            {"merge_listed_duplicates": True},
        ),
    ]


def case_key(case: BundleCase) -> str:
    """The key of a case in ``bundles.json``: its name, and its options when it has any."""
    if not case.options:
        return case.name
    return f"{case.name} {json.dumps(case.options, sort_keys=True)}"


def _write_synthetic(path: Path, n_rows: int) -> Path:
    spec = importlib.util.spec_from_file_location(
        "benchmarks_generate_shopify", REPO_ROOT / "benchmarks" / "generate_shopify.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=module.HEADER)
        writer.writeheader()
        writer.writerows(module.rows(n_rows, seed=7))
    return path


def source_path(case: BundleCase, scratch: Path) -> Path:
    """The file a case imports (written into ``scratch`` for the synthetic one)."""
    if case.synthetic:
        return _write_synthetic(scratch / "synthetic_shopify.csv", SYNTHETIC_ROWS)
    if case.name.startswith("shared:"):
        return DATASETS / case.name.removeprefix("shared:")
    return REPO_ROOT / case.name


def normalized_digests(out_dir: Path, home: Path) -> dict[str, str]:
    """sha256 of each bundle file, with the run-specific values replaced by placeholders."""
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    replacements = [
        (str(home), "<home>"),
        (summary["batch_id"], "<batch>"),
        (summary["created_at"], "<created_at>"),
    ]
    digests = {}
    for path in sorted(out_dir.iterdir()):
        text = path.read_bytes()
        for value, placeholder in replacements:
            text = text.replace(value.encode(), placeholder.encode())
        digests[path.name] = hashlib.sha256(text).hexdigest()
    return digests


def bundle_digests(case: BundleCase, workdir: Path) -> dict[str, str]:
    """Import one case in a fresh home under ``workdir`` and digest its bundle."""
    from structr_pipeline.definitions import build_defs
    from structr_pipeline.runner import register_batch, run_batch
    from structr_pipeline.settings import StructrSettings

    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    settings = StructrSettings(home=home, database_url=f"sqlite:///{home / 'catalog.db'}")
    defs = build_defs(settings)
    source = source_path(case, workdir)
    # An in-memory instance: the bundle does not depend on where Dagster keeps its events,
    # and a SQLite event log on disk costs more than the smaller batches themselves.
    instance = dg.DagsterInstance.ephemeral()
    catalog = defs.resources["catalog"]
    registered = register_batch(catalog, instance, source, options=case.options or None)
    batch_id = registered.manifest.batch_id
    run = run_batch(defs, instance, batch_id)
    if not run.success:
        raise RuntimeError(f"{case_key(case)}: run failed: {run.errors + run.check_failures}")
    return normalized_digests(settings.exports_dir / batch_id, home)


def read_golden() -> dict[str, dict[str, str]]:
    """The accepted digests, by case key."""
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Print the cases whose bundle differs from ``bundles.json``, or rewrite it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="accept the current bundles")
    args = parser.parse_args(argv)
    if not DATASETS.is_dir():
        print(f"the shared datasets folder {DATASETS} is absent", file=sys.stderr)
        return 2
    golden = {} if args.write else read_golden()
    current = {}
    differing = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases()):
            key = case_key(case)
            current[key] = bundle_digests(case, Path(tmp) / str(i))
            changed = sorted(
                name
                for name in set(current[key]) | set(golden.get(key, {}))
                if current[key].get(name) != golden.get(key, {}).get(name)
            )
            if not args.write and changed:
                differing += 1
                print(f"{key}: {', '.join(changed)} differ")
    if args.write:
        GOLDEN.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(current)} bundles to {GOLDEN}")
        return 0
    print(f"{len(current) - differing} of {len(current)} bundles as accepted")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
