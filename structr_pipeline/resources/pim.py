"""One Dagster resource per PIM source configured in ``STRUCTR_HOME/pim_sources.yaml``."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from structr_pipeline.core.connectors.pim import PimClient, PimSource, load_sources


class PimResource(dg.ConfigurableResource):
    """A PIM or headless CMS that batches can come from, named in ``pim_sources.yaml``.

    The source's URL, preset, paging, rate limit and field map are read from the file
    each time a client is made, so an edit applies at the next tick; its secrets are
    read from the environment variables the file names, never stored in the config.
    """

    source_name: str
    sources_file: str

    def source(self) -> PimSource:
        """The source's current configuration."""
        sources = load_sources(Path(self.sources_file))
        if self.source_name not in sources:
            raise KeyError(f"PIM source {self.source_name!r} is no longer in {self.sources_file}")
        return sources[self.source_name]

    def client(self) -> PimClient:
        """A client for the source (close it, or use it as a context manager)."""
        return PimClient(self.source())


def resource_key(source_name: str) -> str:
    """The resource key of a PIM source (``pim_<name>``, as a Python identifier)."""
    return "pim_" + "".join(c if c.isalnum() else "_" for c in source_name.lower())
