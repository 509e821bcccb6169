"""The partitions that structr's assets are split by."""

from __future__ import annotations

import dagster as dg

# One partition per import batch; the key is the batch id
# (`<source>-<UTC yyyymmddThhmmss>-<short sha256>`), added when the batch is registered.
import_batch = dg.DynamicPartitionsDefinition(name="import_batch")
