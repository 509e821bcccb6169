"""Sensors: they watch the world outside Dagster and turn what they find into batch runs.

Each sensor stays thin: the file and data logic it relies on lives in ``structr_pipeline.core``
and ``structr_pipeline.store``.
"""
