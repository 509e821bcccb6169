"""The catalog database and data folders as a Dagster resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from structr_pipeline.settings import DATABASE_URL_VARIABLE, StructrSettings
from structr_pipeline.store.db import CatalogDB


class CatalogStoreResource(dg.ConfigurableResource):
    """Where batches, the catalog and the bundles live.

    ``home`` is the data folder (``STRUCTR_HOME``); ``database_url`` the SQLAlchemy URL
    of the catalog database (``STRUCTR_DATABASE_URL``), by default a SQLite file in home.
    A URL from the environment is configured by its variable's name, so its password never
    shows as resource config. ``workers`` is how many processes and threads the heavy
    stages use (``STRUCTR_WORKERS``; 0, the default, is one per core).
    """

    home: str
    database_url: str
    workers: int = 0

    @classmethod
    def from_settings(cls, settings: StructrSettings) -> CatalogStoreResource:
        """Build the resource from resolved settings; a URL from the environment as an EnvVar."""
        url = settings.database_url
        if DATABASE_URL_VARIABLE in settings.secrets_in_env:
            url = dg.EnvVar(DATABASE_URL_VARIABLE)
        return cls(home=str(settings.home), database_url=url, workers=settings.workers)

    @property
    def url(self) -> str:
        """The database URL, also where the resource is used outside a run (the CLI).

        Dagster resolves an ``EnvVar`` when a run or tick starts; outside one the
        configured value is still the variable, read here.
        """
        url = self.database_url
        return (url.get_value() or "") if isinstance(url, dg.EnvVar) else url

    @property
    def settings(self) -> StructrSettings:
        """The data locations (home and database) as a plain settings object.

        The automation settings (inbox folder, policies) are on ``AutomationPolicyResource``.
        """
        return StructrSettings(home=Path(self.home), database_url=self.url, workers=self.workers)

    def db(self) -> CatalogDB:
        """Open the catalog database (creating its tables on first use)."""
        return CatalogDB.from_url(self.url)
