"""Automatic column mapping: propose a canonical field for each column of any product CSV."""

from structr_pipeline.core.mapping.propose import (
    CANONICAL_TARGETS,
    ColumnProposal,
    MappingProposal,
    propose_mapping,
    with_overrides,
)

__all__ = [
    "CANONICAL_TARGETS",
    "ColumnProposal",
    "MappingProposal",
    "propose_mapping",
    "with_overrides",
]
