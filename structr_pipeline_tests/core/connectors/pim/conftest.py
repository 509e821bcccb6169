"""The imitation PIM server, started once for the PIM tests and reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from structr_pipeline_tests.core.connectors.pim.pim_server import PimServer


@pytest.fixture(scope="session")
def pim_server_session() -> Iterator[PimServer]:
    """One uvicorn server on 127.0.0.1 for the whole session."""
    server = PimServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pim(pim_server_session: PimServer) -> PimServer:
    """The server with fresh data, no auth demanded, no faults and an empty log."""
    pim_server_session.state.reset()
    return pim_server_session
