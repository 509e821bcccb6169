"""The whole Definitions loads, with the assets, checks, jobs and resources users rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from structr_pipeline.definitions import defs as module_defs

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH_ASSETS = {
    "source_rows",
    "source_deletes",
    "mapped_products",
    "column_mapping",
    "validated_products",
    "rejected_rows",
    "deduplicated_products",
    "duplicate_merges",
    "possible_duplicates",
    "generated_copy",
    "audited_products",
    "product_bundle",
    "pim_sync",
}
CATALOG_ASSETS = {"catalog_export", "catalog_quality_snapshot", "reprocessing_report"}


def test_definitions_expose_the_batch_graph(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == BATCH_ASSETS | CATALOG_ASSETS
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description for the UI"
        if key.to_user_string() in BATCH_ASSETS:
            assert node.partitions_def is not None
            assert node.partitions_def.name == "import_batch"
    assert graph.get(dg.AssetKey("catalog_export")).partitions_def is None
    snapshot = graph.get(dg.AssetKey("catalog_quality_snapshot")).partitions_def
    assert isinstance(snapshot, dg.DailyPartitionsDefinition)
    check_keys = {k.name for k in graph.asset_check_keys}
    assert {
        "required_fields_mapped",
        "rows_conserved",
        "matches_product_schema",
        "rows_conserved_after_dedup",
        "generation_failure_rate",
        "grade_c_or_better_share",
        "no_error_products_published",
    } <= check_keys
    assert {s.name for s in defs.sensors} >= {
        "inbox_sensor",
        "reprocess_sensor",
        "staleness_sensor",
    }
    assert {s.name for s in defs.schedules} == {
        "nightly_catalog_export",
        "nightly_quality_snapshot",
    }
    job = defs.resolve_job_def("import_batch_job")
    assert job.partitions_def.name == "import_batch"
    assert set(defs.resources) >= {"catalog", "io_manager", "llm"}


def test_lineage_runs_from_source_to_bundle(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    parents = {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert parents["mapped_products"] == {"source_rows"}
    assert parents["column_mapping"] == {"source_rows"}
    assert parents["validated_products"] == {"mapped_products", "column_mapping", "source_rows"}
    assert parents["deduplicated_products"] == {"validated_products", "column_mapping"}
    assert parents["product_bundle"] == {
        "deduplicated_products",
        "duplicate_merges",
        "possible_duplicates",
        "generated_copy",
        "audited_products",
        "rejected_rows",
        "source_rows",
        "source_deletes",
    }
    assert parents["generated_copy"] == {"deduplicated_products"}
    assert parents["audited_products"] == {"deduplicated_products", "generated_copy"}


def test_module_definitions_validate() -> None:
    dg.Definitions.validate_loadable(module_defs)


@pytest.mark.slow
def test_dagster_cli_validates_the_workspace(tmp_path) -> None:
    env = {"DAGSTER_HOME": str(tmp_path), "STRUCTR_HOME": str(tmp_path / "home"), "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_secrets_from_the_environment_show_by_name_only(tmp_path, monkeypatch) -> None:
    # The snapshot is what the code server sends the webserver: resource config as the UI
    # shows it. Reading it needs Dagster's (private) snapshot classes.
    from dagster._core.remote_representation.external_data import (
        RepositorySnap,
        ResourceConfigEnvVarSnap,
    )
    from dagster_shared.serdes import serialize_value

    from structr_pipeline.definitions import build_defs
    from structr_pipeline.settings import StructrSettings

    password = "Pa55-w0rd-not-for-the-ui"
    url = f"postgresql+psycopg2://structr:{password}@db.internal:5432/structr"
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STRUCTR_DATABASE_URL", url)
    monkeypatch.setenv("STRUCTR_LLM_API_KEY", "sk-key-not-for-the-ui")
    defs = build_defs(StructrSettings.from_env())

    snapshot = RepositorySnap.from_def(defs.get_repository_def())
    shown = serialize_value(snapshot)
    assert password not in shown and "sk-key-not-for-the-ui" not in shown
    resources = {r.name: r for r in snapshot.resources or []}
    assert resources["catalog"].configured_values["database_url"] == ResourceConfigEnvVarSnap(
        name="STRUCTR_DATABASE_URL"
    )
    assert resources["llm"].configured_values["api_key"] == ResourceConfigEnvVarSnap(
        name="STRUCTR_LLM_API_KEY"
    )
    # Outside a run (the CLI) the resource still reaches the database the variable names.
    assert defs.resources["catalog"].url == url


def test_a_url_given_in_settings_stays_a_literal(settings, monkeypatch) -> None:
    from structr_pipeline.definitions import build_defs

    monkeypatch.setenv("STRUCTR_DATABASE_URL", "postgresql://elsewhere/other")
    catalog = build_defs(settings).resources["catalog"]
    assert catalog.database_url == settings.database_url == catalog.url


def test_schedules_and_snapshot_days_follow_the_settings(settings) -> None:
    import dataclasses

    from structr_pipeline.definitions import build_defs

    local = dataclasses.replace(settings, timezone="Europe/Berlin", nightly_cron="30 3 * * *")
    defs = build_defs(local)
    for name in ("nightly_catalog_export", "nightly_quality_snapshot"):
        schedule = defs.resolve_schedule_def(name)
        assert (schedule.cron_schedule, schedule.execution_timezone) == (
            "30 3 * * *",
            "Europe/Berlin",
        )
    days = defs.resolve_assets_def("catalog_quality_snapshot").partitions_def
    assert isinstance(days, dg.DailyPartitionsDefinition) and days.timezone == "Europe/Berlin"
