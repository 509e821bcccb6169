"""Where structr keeps its data, read from the environment (no Dagster imports).

``STRUCTR_HOME`` (default ``./.structr``) holds the catalog database, the landing
copies of every batch's input, the stored asset values and the export bundles.
``STRUCTR_DATABASE_URL`` overrides the catalog database (SQLite file by default).
``STRUCTR_LLM_PROVIDER`` (``offline`` by default, or ``openai``), ``STRUCTR_LLM_BASE_URL``,
``STRUCTR_LLM_MODEL`` and ``STRUCTR_LLM_MAX_IN_FLIGHT`` choose the model that writes copy;
the API key (``STRUCTR_LLM_API_KEY``) is never read here, only by the resource.
``STRUCTR_INBOX_DIR`` names the folder the inbox sensor watches (default ``STRUCTR_HOME/inbox``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StructrSettings:
    """Resolved locations of everything structr reads and writes."""

    home: Path
    database_url: str
    llm_provider: str = "offline"
    llm_base_url: str = "https://api.openai.com/v1"
    llm_model: str = "gpt-4o-mini"
    llm_max_in_flight: int = 8
    inbox_dir: Path | None = None

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
    def storage_dir(self) -> Path:
        """Asset values (Parquet, one file per asset and partition)."""
        return self.home / "storage"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StructrSettings:
        """Read the ``STRUCTR_*`` variables, with their defaults."""
        env = os.environ if environ is None else environ
        home = Path(env.get("STRUCTR_HOME") or ".structr").expanduser().resolve()
        url = env.get("STRUCTR_DATABASE_URL") or f"sqlite:///{home / 'catalog.db'}"
        inbox = env.get("STRUCTR_INBOX_DIR")
        return cls(
            home=home,
            database_url=url,
            llm_provider=env.get("STRUCTR_LLM_PROVIDER") or cls.llm_provider,
            llm_base_url=env.get("STRUCTR_LLM_BASE_URL") or cls.llm_base_url,
            llm_model=env.get("STRUCTR_LLM_MODEL") or cls.llm_model,
            llm_max_in_flight=int(env.get("STRUCTR_LLM_MAX_IN_FLIGHT") or cls.llm_max_in_flight),
            inbox_dir=Path(inbox).expanduser().resolve() if inbox else None,
        )
