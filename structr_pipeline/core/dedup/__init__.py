"""Duplicate products: blocking, scoring and match decisions, without training labels."""

from structr_pipeline.core.dedup.matching import (
    MATCH_COLUMNS,
    SIGNAL_COLUMNS,
    MatchSettings,
    candidate_pairs,
    match,
    merge_band,
    score_pairs,
)

__all__ = [
    "MATCH_COLUMNS",
    "SIGNAL_COLUMNS",
    "MatchSettings",
    "candidate_pairs",
    "match",
    "merge_band",
    "score_pairs",
]
