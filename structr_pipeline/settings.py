"""Everything structr is configured with, read from the environment here and nowhere else.

No Dagster imports: the code location (``definitions.build_defs``), the CLI and the webhook
receiver all start from one ``StructrSettings.from_env()``.

``STRUCTR_HOME`` (default ``./.structr``) holds the catalog database, the landing
copies of every batch's input, the stored asset values and the export bundles.
``STRUCTR_DATABASE_URL`` overrides the catalog database (SQLite file by default).
``STRUCTR_LLM_PROVIDER`` (``offline`` by default, or ``openai``), ``STRUCTR_LLM_BASE_URL``,
``STRUCTR_LLM_MODEL`` and ``STRUCTR_LLM_MAX_IN_FLIGHT`` choose the model that writes copy;
the API key (``STRUCTR_LLM_API_KEY``) is never read here, only by the resource.
``STRUCTR_INBOX_DIR`` names the folder the inbox sensor watches (default ``STRUCTR_HOME/inbox``).
``STRUCTR_TIMEZONE`` (default ``UTC``) and ``STRUCTR_NIGHTLY_CRON`` (default ``0 2 * * *``)
say when the nightly export and quality snapshot run, and the snapshot's days.
``STRUCTR_REPROCESS_MAX_ATTEMPTS`` (3) and ``STRUCTR_REPROCESS_BACKOFF_SECONDS`` (300) bound
the reprocessing sensor; ``STRUCTR_QUEUE_MAX_EVENTS`` (500) and
``STRUCTR_QUEUE_MAX_WAIT_SECONDS`` (60) say when webhook deliveries become a batch;
``STRUCTR_CONTENTFUL_PIM_SOURCE`` names the PIM source that maps Contentful entries.
``STRUCTR_WORKERS`` (0: one per core) is how many processes and threads the heavy stages use.

The secrets (the database URL, which may carry a password, and the API key) are handed to
Dagster by variable name when they come from the environment, so the UI shows the name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from structr_pipeline.core.parallel import available_cores

T = TypeVar("T")

DATABASE_URL_VARIABLE = "STRUCTR_DATABASE_URL"
LLM_API_KEY_VARIABLE = "STRUCTR_LLM_API_KEY"
SECRET_VARIABLES = (DATABASE_URL_VARIABLE, LLM_API_KEY_VARIABLE)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart a batch is reprocessed."""

    max_attempts: int = 3
    backoff_seconds: float = 300.0

    def spacing(self, attempts_made: int) -> timedelta:
        """The wait after ``attempts_made`` attempts before the next one."""
        return timedelta(seconds=self.backoff_seconds * 2 ** max(attempts_made - 1, 0))


@dataclass(frozen=True)
class QueuePolicy:
    """When pending webhook deliveries become a batch."""

    max_events: int = 500
    max_wait_seconds: float = 60.0


@dataclass(frozen=True)
class StructrSettings:
    """Resolved locations of everything structr reads and writes, and how it automates."""

    home: Path
    database_url: str
    llm_provider: str = "offline"
    llm_base_url: str = "https://api.openai.com/v1"
    llm_model: str = "gpt-4o-mini"
    llm_max_in_flight: int = 8
    inbox_dir: Path | None = None
    timezone: str = "UTC"
    nightly_cron: str = "0 2 * * *"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    queue: QueuePolicy = field(default_factory=QueuePolicy)
    contentful_pim_source: str | None = None
    workers: int = 0
    # The names in SECRET_VARIABLES that are set in the process environment: the resources
    # take those as Dagster EnvVars (read when a run starts), never as literal values.
    secrets_in_env: frozenset[str] = frozenset()

    @property
    def landing_dir(self) -> Path:
        """Immutable copies of every batch's input, one folder per batch."""
        return self.home / "landing"

    @property
    def exports_dir(self) -> Path:
        """The bundles users take away, one folder per batch."""
        return self.home / "exports"

    @property
    def profiles_dir(self) -> Path:
        """Mapping profiles (``<name>.yaml``), written by users or by ``structr analyze``."""
        return self.home / "profiles"

    @property
    def inbox(self) -> Path:
        """The folder watched for new files: ``inbox_dir`` when set, else ``home/inbox``."""
        return self.inbox_dir if self.inbox_dir is not None else self.home / "inbox"

    @property
    def pim_sources_file(self) -> Path:
        """The PIM sources a batch can come from (``pim_sources.yaml``)."""
        return self.home / "pim_sources.yaml"

    @property
    def audit_file(self) -> Path:
        """Audit weights and thresholds (``audit.yaml``); the defaults when absent."""
        return self.home / "audit.yaml"

    @property
    def worker_count(self) -> int:
        """Processes and threads the heavy stages use: ``workers``, or one per core when 0."""
        return self.workers if self.workers > 0 else available_cores()

    @property
    def storage_dir(self) -> Path:
        """Asset values (Parquet, one file per asset and partition)."""
        return self.home / "storage"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StructrSettings:
        """Read the ``STRUCTR_*`` variables, with their defaults.

        ``environ`` replaces the process environment (tests); the secrets are then taken as
        literal values, since a Dagster ``EnvVar`` would read the process environment.
        """
        env = os.environ if environ is None else environ

        def value(name: str, kind: Callable[[str], T], default: T) -> T:
            raw = env.get(name)
            return kind(raw) if raw else default

        home = Path(env.get("STRUCTR_HOME") or ".structr").expanduser().resolve()
        inbox = env.get("STRUCTR_INBOX_DIR")
        return cls(
            home=home,
            database_url=env.get(DATABASE_URL_VARIABLE) or f"sqlite:///{home / 'catalog.db'}",
            llm_provider=env.get("STRUCTR_LLM_PROVIDER") or cls.llm_provider,
            llm_base_url=env.get("STRUCTR_LLM_BASE_URL") or cls.llm_base_url,
            llm_model=env.get("STRUCTR_LLM_MODEL") or cls.llm_model,
            llm_max_in_flight=value("STRUCTR_LLM_MAX_IN_FLIGHT", int, cls.llm_max_in_flight),
            inbox_dir=Path(inbox).expanduser().resolve() if inbox else None,
            timezone=env.get("STRUCTR_TIMEZONE") or cls.timezone,
            nightly_cron=env.get("STRUCTR_NIGHTLY_CRON") or cls.nightly_cron,
            retry=RetryPolicy(
                max_attempts=value("STRUCTR_REPROCESS_MAX_ATTEMPTS", int, RetryPolicy.max_attempts),
                backoff_seconds=value(
                    "STRUCTR_REPROCESS_BACKOFF_SECONDS", float, RetryPolicy.backoff_seconds
                ),
            ),
            queue=QueuePolicy(
                max_events=value("STRUCTR_QUEUE_MAX_EVENTS", int, QueuePolicy.max_events),
                max_wait_seconds=value(
                    "STRUCTR_QUEUE_MAX_WAIT_SECONDS", float, QueuePolicy.max_wait_seconds
                ),
            ),
            contentful_pim_source=env.get("STRUCTR_CONTENTFUL_PIM_SOURCE") or None,
            workers=value("STRUCTR_WORKERS", int, cls.workers),
            secrets_in_env=frozenset(
                name for name in SECRET_VARIABLES if environ is None and env.get(name)
            ),
        )
