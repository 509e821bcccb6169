"""Stages run with fewer garbage collections, and leave the collector as they found it."""

from __future__ import annotations

import gc
import inspect

import pytest

from structr_pipeline.gc_budget import STAGE_THRESHOLDS, collect_less, fewer_collections


def test_thresholds_are_raised_inside_and_restored_after_a_failure() -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError), fewer_collections():
        assert gc.get_threshold() == STAGE_THRESHOLDS
        raise ValueError("the stage failed")
    assert gc.get_threshold() == before


def test_a_generator_stage_stays_a_generator_and_holds_the_thresholds_while_it_runs() -> None:
    before = gc.get_threshold()

    @collect_less
    def stage():
        yield gc.get_threshold()
        yield gc.get_threshold()

    @collect_less
    def plain():
        return gc.get_threshold()

    assert inspect.isgeneratorfunction(stage)
    assert list(stage()) == [STAGE_THRESHOLDS, STAGE_THRESHOLDS]
    assert plain() == STAGE_THRESHOLDS
    assert gc.get_threshold() == before
