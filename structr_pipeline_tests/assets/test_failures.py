"""Transient failures of asset and check functions come out as `dg.Failure` marked transient."""

from __future__ import annotations

import inspect
import sqlite3

import dagster as dg
import pytest
import sqlalchemy as sa

from structr_pipeline.failures import TRANSIENT, mark_transient_failures


def locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "INSERT INTO stages", {}, sqlite3.OperationalError("database is locked")
    )


def test_a_transient_error_becomes_a_failure_marked_transient() -> None:
    error = locked()

    @mark_transient_failures
    def stage() -> int:
        raise error

    with pytest.raises(dg.Failure) as caught:
        stage()
    failure = caught.value
    assert failure.__cause__ is error  # the original stays in the log, with its traceback
    assert failure.metadata[TRANSIENT].value is True
    assert failure.metadata["error"].value == "sqlalchemy.exc.OperationalError"
    assert "database is locked" in failure.description


@pytest.mark.parametrize(
    "error",
    [ValueError("no handle or SKU column"), dg.Failure("a check said no"), KeyboardInterrupt()],
)
def test_other_exceptions_pass_unchanged(error: BaseException) -> None:
    @mark_transient_failures
    def stage() -> int:
        raise error

    with pytest.raises(type(error)) as caught:
        stage()
    assert caught.value is error


def test_results_signature_and_docstring_are_the_function_s() -> None:
    def stage(context, catalog, source_rows: int) -> int:
        """The stage's own docstring."""
        return source_rows + 1

    wrapped = mark_transient_failures(stage)
    assert wrapped(None, None, source_rows=1) == 2
    assert inspect.signature(wrapped) == inspect.signature(stage)
    assert wrapped.__doc__ == stage.__doc__ and wrapped.__name__ == "stage"


def test_generator_functions_stay_generators() -> None:
    @mark_transient_failures
    def outputs():
        yield 1
        raise ConnectionResetError("reset by peer")

    assert inspect.isgeneratorfunction(outputs)
    produced = outputs()
    assert next(produced) == 1
    with pytest.raises(dg.Failure) as caught:
        next(produced)
    assert caught.value.metadata[TRANSIENT].value is True
    assert isinstance(caught.value.__cause__, ConnectionResetError)
