"""Where structr keeps its data, read from the environment (no Dagster imports).

``STRUCTR_HOME`` (default ``./.structr``) holds the catalog database, the landing
copies of every batch's input, the stored asset values and the export bundles.
``STRUCTR_DATABASE_URL`` overrides the catalog database (SQLite file by default).
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
    def storage_dir(self) -> Path:
        """Asset values (Parquet, one file per asset and partition)."""
        return self.home / "storage"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StructrSettings:
        """Read ``STRUCTR_HOME`` and ``STRUCTR_DATABASE_URL`` with their defaults."""
        env = os.environ if environ is None else environ
        home = Path(env.get("STRUCTR_HOME") or ".structr").expanduser().resolve()
        url = env.get("STRUCTR_DATABASE_URL") or f"sqlite:///{home / 'catalog.db'}"
        return cls(home=home, database_url=url)
