"""The `structr` command line: import files and look at batches."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="structr: product catalogs in, clean, validated, publishable product data out.",
    no_args_is_help=True,
)
batches_app = typer.Typer(help="List and inspect import batches.", invoke_without_command=True)
app.add_typer(batches_app, name="batches")
console = Console()


def _prepare_dagster_home() -> None:
    """Use ./dagster.yaml's folder as DAGSTER_HOME when the user has not chosen one."""
    if not os.environ.get("DAGSTER_HOME"):
        here = Path.cwd()
        home = here if (here / "dagster.yaml").is_file() else here / ".structr" / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        os.environ["DAGSTER_HOME"] = str(home)


def _step_name(entry) -> str:
    return entry.step_key or entry.dagster_event.asset_key.to_user_string()


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source_kind: Annotated[
        str, typer.Option(help="What kind of source the file is.")
    ] = "shopify_csv",
) -> None:
    """Register FILE as an import batch and run it through every stage, then print the bundle."""
    _prepare_dagster_home()
    import dagster as dg

    from structr_pipeline.definitions import build_defs
    from structr_pipeline.runner import register_batch, run_batch, step_count
    from structr_pipeline.store.batches import get_batch

    defs = build_defs()
    catalog = defs.resources["catalog"]
    instance = dg.DagsterInstance.get()
    registered = register_batch(catalog, instance, file, source_kind=source_kind)
    batch_id = registered.manifest.batch_id
    if registered.created:
        console.print(f"Registered [bold]{file.name}[/] as batch [bold]{batch_id}[/]")
    else:
        console.print(f"Same bytes as batch [bold]{batch_id}[/]; running it again")

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("starting", total=step_count(defs))

        def on_event(entry) -> None:
            event = entry.dagster_event
            if event.is_step_start:
                progress.update(task, description=f"running {_step_name(entry)}")
            elif event.is_step_success or event.is_step_failure:
                progress.advance(task)

        run = run_batch(defs, instance, batch_id, on_event=on_event)
        progress.update(task, description="done" if run.success else "failed")

    if not run.success:
        console.print(f"[bold red]Batch {batch_id} failed[/] (run {run.run_id})")
        for message in run.errors + run.check_failures:
            console.print(f"  {message}")
        raise typer.Exit(code=1)

    manifest = get_batch(catalog.db(), batch_id)
    summary_path = catalog.settings.exports_dir / batch_id / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    table = Table(title=f"Batch {batch_id}", show_header=False)
    for key, value in (manifest.counts or {}).items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    console.print("Bundle:")
    for path in summary["files"].values():
        console.print(f"  {path}")
    console.print(f"Catalog database: {catalog.database_url}")
    console.print(f"Dagster run: {run.run_id} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})")


@batches_app.callback()
def list_batches(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="Show at most this many batches.")] = 50,
) -> None:
    """List import batches, newest first, with their status and counts."""
    if ctx.invoked_subcommand is not None:
        return
    from structr_pipeline.settings import StructrSettings
    from structr_pipeline.store.batches import list_batches as list_stored
    from structr_pipeline.store.db import CatalogDB

    db = CatalogDB.from_settings(StructrSettings.from_env())
    batches = list_stored(db, limit=limit)
    if not batches:
        console.print("No batches yet. Run `structr import FILE`.")
        return
    table = Table()
    table.add_column("batch", no_wrap=True)
    for name in ("file", "status", "rows in", "accepted", "rejected", "products", "created (UTC)"):
        table.add_column(name)
    for b in batches:
        counts = b.counts or {}
        table.add_row(
            b.batch_id,
            b.original_name,
            b.status,
            *(
                str(counts.get(k, ""))
                for k in ("rows_in", "rows_accepted", "rows_rejected", "products")
            ),
            b.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    # Batch ids are long; a narrow terminal wraps the lines rather than truncating ids.
    Console(width=max(console.width, 132)).print(table)


if __name__ == "__main__":
    app()
