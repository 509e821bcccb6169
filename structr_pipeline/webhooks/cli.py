"""``structr webhooks``: run the webhook receiver (Starlette under uvicorn, one worker).

The catalog database comes from ``STRUCTR_HOME`` / ``STRUCTR_DATABASE_URL``, the
endpoints' secrets and limits from the variables listed in ``webhooks.config``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

webhooks_app = typer.Typer(help="Receive product webhooks into the catalog database's queue.")
console = Console(stderr=True)


def app_from_env():
    """The receiver app for the current environment, and the database it writes to."""
    from structr_pipeline.settings import StructrSettings
    from structr_pipeline.store.db import CatalogDB
    from structr_pipeline.webhooks.app import create_app
    from structr_pipeline.webhooks.config import WebhookConfig

    config = WebhookConfig.from_env()
    db = CatalogDB.from_settings(StructrSettings.from_env())
    return create_app(db, config), db, config


@webhooks_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
) -> None:
    """Serve POST /webhooks/{shopify,contentful,generic} and GET /healthz."""
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    try:
        app, db, config = app_from_env()
    except ValueError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=2) from exc
    for name, endpoint in config.endpoints.items():
        state = "ready" if endpoint.configured else "not configured (answers 503)"
        console.print(f"POST /webhooks/{name}: {state}")
    console.print(f"Catalog database: {db!r}", soft_wrap=True)
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["structr_pipeline"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        log_level=log_level,
        log_config=log_config,
        access_log=access_log,
        server_header=False,
    )
