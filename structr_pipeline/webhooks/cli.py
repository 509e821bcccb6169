"""``structr webhooks``: run the webhook receiver (Starlette under uvicorn, one worker).

The catalog database comes from ``STRUCTR_HOME`` / ``STRUCTR_DATABASE_URL``, the
endpoints' secrets and limits from the variables listed in ``webhooks.config``.

uvicorn runs its h11 HTTP implementation, chosen explicitly so that the request head is
bounded by a known limit (``h11_max_incomplete_event_size``: h11 stops reading a head
longer than that and answers 400) rather than by whatever parser happens to be
installed; the app then refuses too many headers (431) before it looks at any of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from structr_pipeline.webhooks.config import WebhookConfig

# Seconds an idle keep-alive connection stays open (uvicorn's default, made explicit).
KEEP_ALIVE_S = 5

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


def uvicorn_options(config: WebhookConfig) -> dict[str, Any]:
    """The ``uvicorn.Config`` settings that bound what one connection may cost."""
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": config.max_header_bytes,
        "limit_concurrency": config.max_connections,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "workers": 1,
        "server_header": False,
    }


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
        log_level=log_level,
        log_config=log_config,
        access_log=access_log,
        **uvicorn_options(config),
    )
