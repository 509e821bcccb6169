"""The partitions that structr's assets are split by."""

from __future__ import annotations

import os

import dagster as dg

# One partition per import batch; the key is the batch id
# (`<source>-<UTC yyyymmddThhmmss>-<short sha256>`), added when the batch is registered.
import_batch = dg.DynamicPartitionsDefinition(name="import_batch")

# The time zone of the nightly work and of the daily quality snapshot's days.
SCHEDULE_TIMEZONE = os.environ.get("STRUCTR_TIMEZONE") or "UTC"

# One catalog quality snapshot per day; today's partition exists too (the day so far).
quality_day = dg.DailyPartitionsDefinition(
    start_date="2026-01-01", timezone=SCHEDULE_TIMEZONE, end_offset=1
)
