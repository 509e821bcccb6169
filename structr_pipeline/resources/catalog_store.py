"""The catalog database and data folders as a Dagster resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from structr_pipeline.settings import StructrSettings
from structr_pipeline.store.db import CatalogDB


class CatalogStoreResource(dg.ConfigurableResource):
    """Where batches, the catalog and the bundles live.

    ``home`` is the data folder (``STRUCTR_HOME``); ``database_url`` the SQLAlchemy URL
    of the catalog database (``STRUCTR_DATABASE_URL``), by default a SQLite file in home.
    """

    home: str
    database_url: str

    @classmethod
    def from_settings(cls, settings: StructrSettings) -> CatalogStoreResource:
        """Build the resource from resolved settings."""
        return cls(home=str(settings.home), database_url=settings.database_url)

    @property
    def settings(self) -> StructrSettings:
        """The same locations as a plain settings object."""
        return StructrSettings(home=Path(self.home), database_url=self.database_url)

    def db(self) -> CatalogDB:
        """Open the catalog database (creating its tables on first use)."""
        return CatalogDB.from_url(self.database_url)
