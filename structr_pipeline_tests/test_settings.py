"""The settings: every variable read in one place, with its default."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from structr_pipeline.core.parallel import available_cores
from structr_pipeline.settings import QueuePolicy, RetryPolicy, StructrSettings


def test_defaults(tmp_path) -> None:
    settings = StructrSettings.from_env({"STRUCTR_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'catalog.db'}"
    assert settings.inbox == tmp_path / "inbox"
    assert (settings.timezone, settings.nightly_cron) == ("UTC", "0 2 * * *")
    assert settings.retry == RetryPolicy(max_attempts=3, backoff_seconds=300)
    assert settings.queue == QueuePolicy(max_events=500, max_wait_seconds=60)
    assert settings.contentful_pim_source is None
    assert settings.secrets_in_env == frozenset()
    assert settings.workers == 0
    assert settings.worker_count == available_cores() >= 1


def test_every_variable(tmp_path) -> None:
    settings = StructrSettings.from_env(
        {
            "STRUCTR_HOME": str(tmp_path),
            "STRUCTR_DATABASE_URL": "postgresql+psycopg2://u:p@h/db",
            "STRUCTR_INBOX_DIR": str(tmp_path / "drop"),
            "STRUCTR_TIMEZONE": "Europe/Berlin",
            "STRUCTR_NIGHTLY_CRON": "30 3 * * *",
            "STRUCTR_REPROCESS_MAX_ATTEMPTS": "5",
            "STRUCTR_REPROCESS_BACKOFF_SECONDS": "42.5",
            "STRUCTR_QUEUE_MAX_EVENTS": "9",
            "STRUCTR_QUEUE_MAX_WAIT_SECONDS": "0",
            "STRUCTR_CONTENTFUL_PIM_SOURCE": "cms",
            "STRUCTR_LLM_MAX_IN_FLIGHT": "2",
            "STRUCTR_WORKERS": "3",
        }
    )
    assert settings.database_url == "postgresql+psycopg2://u:p@h/db"
    assert settings.inbox == Path(tmp_path / "drop")
    assert (settings.timezone, settings.nightly_cron) == ("Europe/Berlin", "30 3 * * *")
    assert settings.retry == RetryPolicy(max_attempts=5, backoff_seconds=42.5)
    assert settings.queue == QueuePolicy(max_events=9, max_wait_seconds=0)
    assert settings.contentful_pim_source == "cms"
    assert settings.llm_max_in_flight == 2
    assert settings.worker_count == 3
    # A mapping in place of the process environment: its secrets are taken as values.
    assert settings.secrets_in_env == frozenset()


def test_secrets_set_in_the_process_environment_are_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path))
    monkeypatch.setenv("STRUCTR_DATABASE_URL", "postgresql+psycopg2://u:p@h/db")
    monkeypatch.delenv("STRUCTR_LLM_API_KEY", raising=False)
    assert StructrSettings.from_env().secrets_in_env == {"STRUCTR_DATABASE_URL"}


def test_retry_spacing_grows() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_seconds=300)
    assert [policy.spacing(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]


def test_the_catalog_resource_carries_the_worker_count(tmp_path) -> None:
    from structr_pipeline.resources.catalog_store import CatalogStoreResource

    settings = StructrSettings.from_env({"STRUCTR_HOME": str(tmp_path), "STRUCTR_WORKERS": "1"})
    assert CatalogStoreResource.from_settings(settings).settings.worker_count == 1
