"""The catalog database (no Dagster): tables and engines in ``db``, import batches in
``batches``, the product catalog in ``catalog``."""
