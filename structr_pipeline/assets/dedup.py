"""Stage 4: merge duplicates within the batch and against the catalog.

`deduplicated_products` holds the batch's products after merges, each marked new,
changed or unchanged against the catalog; `duplicate_merges` says what was merged into
what, by which rule, and which value of each field survived; `possible_duplicates`
lists the pairs the matcher was unsure about, for a person to review.
"""

import dagster as dg
import pandas as pd

from structr_pipeline.core.dedup.merge import CHANGE, deduplicate, default_matcher
from structr_pipeline.core.dedup.review import MERGE_LISTED_OPTION, listed_counts
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.metadata import md_table
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import change_status, read_catalog

PREVIEW_ROWS = 20


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    """The first rows of a frame as a markdown table."""
    more = f"{len(frame) - PREVIEW_ROWS} more" if len(frame) > PREVIEW_ROWS else ""
    return md_table(columns, frame[columns].head(PREVIEW_ROWS).itertuples(index=False), more)


@dg.multi_asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    outs={
        "deduplicated_products": dg.AssetOut(
            description=(
                "The batch's products after duplicates are merged (same SKU, same GTIN, same "
                "name and brand, or a confident fuzzy match), within the batch and into the "
                "catalog's products; each row marked `new`, `changed` or `unchanged` "
                "(`_change`) against the catalog, so later stages can skip what is unchanged."
            ),
            kinds={"pandas"},
            metadata=column_schema("deduplicated_products"),
        ),
        "duplicate_merges": dg.AssetOut(
            description=(
                "Every merge: the surviving product, the merged product or row (with its "
                "source lines), the rule or score that decided it, which value of each field "
                "survived and why, and the conflicting values."
            ),
            kinds={"pandas"},
            metadata=column_schema("duplicate_merges"),
        ),
        "possible_duplicates": dg.AssetOut(
            description=(
                "The review queue, ranked: products the file lists more than once first "
                "(grouped; `merge_listed_duplicates=true` merges them), then pairs in the "
                "matcher's uncertain band, each once with the evidence in words. Siblings "
                "(products that differ only in colour, size, karat, capacity, pack or "
                "edition) are not listed; their groups are in the `possible_variants` "
                "metadata."
            ),
            kinds={"pandas"},
            metadata=column_schema("possible_duplicates"),
        ),
    },
)
@mark_transient_failures
@collect_less
def deduplicate_batch(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    validated_products: pd.DataFrame,
    column_mapping: pd.DataFrame,
):
    """Link duplicates by exact keys, then by fuzzy matching, and merge each group.

    Products the file lists more than once under handles of its own are shown first in
    `possible_duplicates`; the batch option `merge_listed_duplicates=true` merges them.
    """
    db = catalog.db()
    derived = column_mapping[column_mapping["derived"]]
    options = get_batch(db, context.partition_key).options or {}
    result = deduplicate(
        validated_products,
        read_catalog(db),
        matcher=default_matcher(workers=catalog.settings.worker_count),
        handles_given="handle" not in set(derived["field"]),
        merge_listed=bool(options.get(MERGE_LISTED_OPTION)),
    )
    products = result.products
    status = change_status(db, products)
    products[CHANGE] = products["handle"].map(status).astype(object)
    counts = products.drop_duplicates("handle")[CHANGE].value_counts()
    yield dg.Output(
        products,
        output_name="deduplicated_products",
        metadata={
            "dagster/row_count": len(products),
            "rows_in": len(validated_products),
            "rows_merged": result.rows_merged,
            "products": int(products["handle"].nunique()),
            "products_new": int(counts.get("new", 0)),
            "products_changed": int(counts.get("changed", 0)),
            "products_unchanged": int(counts.get("unchanged", 0)),
        },
    )
    yield dg.Output(
        result.merges,
        output_name="duplicate_merges",
        metadata={
            "dagster/row_count": len(result.merges),
            "merges": dg.MetadataValue.md(
                _table(result.merges, ["survivor_handle", "merged_handle", "rule", "conflicts"])
            ),
        },
    )
    yield dg.Output(
        result.possible,
        output_name="possible_duplicates",
        metadata={
            "dagster/row_count": len(result.possible),
            "listed_more_than_once": listed_counts(result.possible)["listed_more_than_once"],
            "sibling_groups": len(result.variants),
            "to_review": dg.MetadataValue.md(
                _table(result.possible, ["rank", "kind", "handle", "other_handle", "score", "rule"])
            ),
            "possible_variants": dg.MetadataValue.md(
                _table(result.variants, ["title", "products", "handles", "differ_in"])
            ),
        },
    )
