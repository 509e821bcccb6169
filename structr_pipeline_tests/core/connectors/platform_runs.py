"""What the platform tests share: running a file through a strategy or the whole registry
path, and reading the results back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from structr_pipeline.core.connectors.platforms import Platform
from structr_pipeline.core.connectors.platforms.assembly import Assembly
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.csv_reading import SourceTable, read_table
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.validation import ValidationResult, validate_products

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "platforms"


@dataclass(frozen=True)
class Run:
    """What a platform's strategy gives for one file, validated."""

    table: SourceTable
    assembly: Assembly
    result: ValidationResult


def run_strategy(platform: Platform, path: Path, options: ProfileOptions | None = None) -> Run:
    """``read_table`` → ``platform.assemble`` → ``validate_products``."""
    table = read_table(path)
    assembly = platform.assemble(table, options or ProfileOptions())
    result = validate_products(assembly.frame, table.frame, assembly.field_sources, path.name)
    return Run(table, assembly, result)


def pipeline(path: Path) -> ValidationResult:
    """``read_table`` → ``map_source_frame`` → ``validate_products``."""
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    return validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)


def by_handle(valid: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each product's variant rows, by handle, in file order."""
    return {h: g.reset_index(drop=True) for h, g in valid.groupby("handle", sort=False)}


def attributes(product: pd.DataFrame, n: int = 0) -> dict[str, str]:
    """The attributes of a product's ``n``-th variant row."""
    return json.loads(product["attributes"].iat[n])


def warnings(result: ValidationResult) -> list[dict]:
    """Every warning on the valid rows."""
    return [w for text in result.valid["warnings"] for w in json.loads(text)]


def issues(result: ValidationResult, line: int) -> list[dict]:
    """The reasons the row on ``line`` was rejected."""
    rejected = result.rejected.set_index("_source_line")
    return json.loads(rejected.loc[line, "errors"])


def assert_reimports_unchanged(first: pd.DataFrame, folder: Path, fields: list[str]) -> None:
    """``shopify_import.csv`` written from ``first`` imports back with ``fields`` unchanged."""
    exported = folder / "shopify_import.csv"
    write_shopify_csv(first, exported)
    second = pipeline(exported)

    assert len(second.rejected) == 0
    pd.testing.assert_frame_equal(
        second.valid[fields].reset_index(drop=True), first[fields].reset_index(drop=True)
    )
