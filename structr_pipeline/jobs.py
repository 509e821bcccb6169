"""Jobs users launch from the UI, the CLI and sensors."""

from __future__ import annotations

import dagster as dg

# Everything one import batch goes through, checks included.
import_batch_job = dg.define_asset_job(
    name="import_batch_job",
    selection=dg.AssetSelection.groups("import_batch"),
    description="Run one import batch through every stage, from source rows to the bundle.",
)
