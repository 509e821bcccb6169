"""The partitions that structr's assets are split by."""

from __future__ import annotations

import dagster as dg

# One partition per import batch; the key is the batch id
# (`<source>-<UTC yyyymmddThhmmss>-<short sha256>`), added when the batch is registered.
import_batch = dg.DynamicPartitionsDefinition(name="import_batch")


def quality_days(timezone: str) -> dg.DailyPartitionsDefinition:
    """One catalog quality snapshot per day in ``timezone`` (``STRUCTR_TIMEZONE``).

    Today's partition exists too (the day so far).
    """
    return dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone=timezone, end_offset=1)
