"""The `structr` command line: import files and look at batches."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from structr_pipeline.webhooks.cli import webhooks_app

app = typer.Typer(
    help="structr: product catalogs in, clean, validated, publishable product data out.",
    no_args_is_help=True,
)
batches_app = typer.Typer(help="List and inspect import batches.", invoke_without_command=True)
app.add_typer(batches_app, name="batches")
app.add_typer(webhooks_app, name="webhooks")
console = Console()


def _prepare_dagster_home() -> None:
    """Use ./dagster.yaml's folder as DAGSTER_HOME when the user has not chosen one, and
    create the chosen folder when it does not exist yet."""
    chosen = os.environ.get("DAGSTER_HOME")
    if chosen:
        Path(chosen).expanduser().mkdir(parents=True, exist_ok=True)
        return
    here = Path.cwd()
    home = here if (here / "dagster.yaml").is_file() else here / ".structr" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)


def _dagster_instance():
    """The Dagster instance of DAGSTER_HOME, opened under a file lock in that folder.

    Opening an instance creates its storage on first use; imports started together on a
    fresh home would otherwise create the same SQLite tables at the same moment, and all
    but one fail.
    """
    import dagster as dg
    from filelock import FileLock

    with FileLock(Path(os.environ["DAGSTER_HOME"]) / ".structr-instance.lock"):
        return dg.DagsterInstance.get()


def parse_options(pairs: list[str]) -> dict:
    """Batch options from ``KEY=VALUE`` texts, each value read as YAML (``false``, ``{…}``)."""
    import yaml

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {pair!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as exc:
            raise ValueError(f"--option {pair!r}: the value is not valid YAML ({exc})") from exc
    return options


def _step_name(entry) -> str:
    return entry.step_key or entry.dagster_event.asset_key.to_user_string()


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    profile: Annotated[
        str | None,
        typer.Option(help="Read the file with this mapping profile (STRUCTR_HOME/profiles)."),
    ] = None,
    source_kind: Annotated[str, typer.Option(help="What kind of source the file is.")] = "csv",
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help=(
                "A batch option KEY=VALUE (VALUE read as YAML), repeatable: "
                "publish_generated_copy=false, publish_products_with_errors=true, "
                "'brand_voice={tone: warm, avoid: [cheap]}', 'audit={title_max_chars: 60}'."
            ),
        ),
    ] = None,
) -> None:
    """Register FILE as an import batch and run it through every stage, then print the bundle."""
    _prepare_dagster_home()

    from structr_pipeline.core.mapping.profiles import ProfileError, load_profile
    from structr_pipeline.definitions import build_defs
    from structr_pipeline.run_liveness import fail_dead_runs
    from structr_pipeline.runner import register_batch, run_batch, step_count
    from structr_pipeline.store.batches import get_batch

    defs = build_defs()
    catalog = defs.resources["catalog"]
    if profile is not None:
        try:
            load_profile(catalog.settings.profiles_dir, profile)
        except ProfileError as exc:
            console.print(f"[bold red]{exc}[/]")
            raise typer.Exit(code=2) from exc
    instance = _dagster_instance()
    options = {"profile": profile} if profile else {}
    try:
        options.update(parse_options(option or []))
    except ValueError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=2) from exc
    for dead in fail_dead_runs(instance, catalog.db()):
        console.print(
            f"[yellow]Earlier run {dead.run_id} of batch {dead.batch_id} marked failed:[/] "
            f"{dead.reason}",
            soft_wrap=True,
        )
    registered = register_batch(catalog, instance, file, source_kind=source_kind, options=options)
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

    for message in _read_warnings(instance, batch_id):
        console.print(f"[yellow]Warning[/] {file.name}: {message}", soft_wrap=True)
    for message in run.check_warnings:
        console.print(f"[yellow]Warning[/] {message}")
    if not run.success:
        console.print(f"[bold red]Batch {batch_id} failed[/] (run {run.run_id})")
        for message in run.errors + run.check_failures:
            console.print(f"  {message}")
        raise typer.Exit(code=1)

    manifest = get_batch(catalog.db(), batch_id)
    summary_path = catalog.settings.exports_dir / batch_id / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    console.print(f"Batch [bold]{batch_id}[/]")
    source_format = summary.get("source_format") or {}
    if source_format.get("sentence"):
        console.print(f"Format: {source_format['sentence']}", soft_wrap=True)
    table = Table(show_header=False)
    for key, value in (manifest.counts or {}).items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    console.print("Bundle:")
    for path in summary["files"].values():
        console.print(f"  {path}", soft_wrap=True)
    console.print(f"Catalog database: {catalog.url}", soft_wrap=True)
    console.print(
        f"Dagster run: {run.run_id} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})", soft_wrap=True
    )
    held = summary.get("held_back") or {}
    if held.get("products"):
        console.print(held_back_warning(held), soft_wrap=True)
    from structr_pipeline.core.dedup.review import listed_note

    note = listed_note(summary.get("counts") or {})
    if note:
        console.print(f"[yellow]Note[/] {note}", soft_wrap=True)


def held_back_warning(held: dict) -> str:
    """The warning line for products kept out of ``shopify_import.csv`` (from summary.json)."""
    top = held.get("top_reason")
    count = held["products"]
    reason = (
        f"; top reason {top} ({held.get('reasons', {}).get(top, 0)}): "
        f"{held.get('top_reason_summary') or ''}"
        if top
        else ""
    )
    return (
        f"[yellow]Warning[/] {count} product{'' if count == 1 else 's'} held back from "
        f"shopify_import.csv{reason} They are listed first in report.html; to publish them "
        f"anyway, run again with --option {held.get('override_option')}"
    )


@app.command("analyze")
def analyze(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the analysis as JSON.")] = False,
    save_as: Annotated[
        str | None,
        typer.Option(
            "--save-profile", help="Save the proposed mapping as this profile, to edit and reuse."
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="Apply this mapping profile to the proposal.")
    ] = None,
    rows: Annotated[int, typer.Option(help="How many rows to sample from the start.")] = 1000,
) -> None:
    """Propose how FILE's columns map onto the catalog, without importing anything."""
    from structr_pipeline.analysis import analyze_file, profile_from
    from structr_pipeline.core.connectors.platforms import PLATFORMS as PLATFORM_FORMATS
    from structr_pipeline.core.issues import SourceFileError
    from structr_pipeline.core.mapping.profiles import ProfileError, load_profile, save_profile
    from structr_pipeline.settings import StructrSettings

    settings = StructrSettings.from_env()
    try:
        chosen = load_profile(settings.profiles_dir, profile) if profile else None
        analysis = analyze_file(file, chosen, max_rows=rows)
    except (ProfileError, SourceFileError) as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=2) from exc
    saved = None
    if save_as:
        if analysis.source_format.startswith("shopify") or analysis.grouping.format in (
            PLATFORM_FORMATS
        ):
            console.print(
                f"[bold red]{file.name} is a {analysis.grouping.label}: it is read by that "
                "format's own column spec and needs no profile[/]"
            )
            raise typer.Exit(code=2)
        try:
            saved = save_profile(settings.profiles_dir, profile_from(analysis, save_as))
        except ProfileError as exc:
            console.print(f"[bold red]{exc}[/]")
            raise typer.Exit(code=2) from exc
    if as_json:
        sys.stdout.write(json.dumps(analysis.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_analysis(analysis)
    if saved is not None:
        console.print(f"Saved the mapping as profile [bold]{save_as}[/]: {saved}")
        console.print(f"Edit it, then: structr import {file} --profile {save_as}")


def _print_analysis(analysis) -> None:
    console.print(f"[bold]{analysis.grouping.sentence()}[/]", soft_wrap=True)
    if not analysis.whole_file:
        console.print("(judged on the start of the file only: it is large)")
    console.print(
        f"{analysis.file}: format {analysis.source_format}, encoding {analysis.encoding}, "
        f"delimiter {analysis.delimiter!r}, first {analysis.rows_sampled} rows validated"
    )
    for warning in analysis.read_warnings:
        console.print(f"[yellow]Warning[/] {warning}", soft_wrap=True)
    table = Table("source column", "field", "confidence", "evidence", title="Proposed mapping")
    for column, proposal in analysis.proposal.columns.items():
        if proposal.field is None:
            continue
        table.add_row(
            column, proposal.field, f"{proposal.confidence:.2f}", "; ".join(proposal.evidence)
        )
    console.print(table)
    if analysis.unmapped:
        console.print("Kept as extra attributes: " + ", ".join(analysis.unmapped))
    if analysis.missing_required:
        console.print(
            "[bold red]Not mapped, but required:[/] " + ", ".join(analysis.missing_required)
        )
    if analysis.preview:
        preview = Table(*analysis.preview[0].keys(), title="First rows, as they would import")
        for row in analysis.preview:
            preview.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(preview)
    if analysis.rejected_in_sample:
        console.print(f"{analysis.rejected_in_sample} sampled rows would be rejected, e.g.:")
        for reason in analysis.first_reasons:
            console.print(f"  {reason}")


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
    from structr_pipeline.store.stages import stage_records

    db = CatalogDB.from_settings(StructrSettings.from_env())
    batches = list_stored(db, limit=limit)
    if not batches:
        console.print("No batches yet. Run `structr import FILE`.")
        return
    formats = {
        k: r.produced_with.get("format", "") for k, r in stage_records(db, "mapping").items()
    }
    table = Table()
    table.add_column("batch", no_wrap=True)
    columns = ("file", "format", "status", "rows in", "accepted", "rejected", "products")
    for name in (*columns, "created (UTC)"):
        table.add_column(name)
    for b in batches:
        counts = b.counts or {}
        table.add_row(
            b.batch_id,
            b.original_name,
            formats.get(b.batch_id, ""),
            b.status,
            *(
                str(counts.get(k, ""))
                for k in ("rows_in", "rows_accepted", "rows_rejected", "products")
            ),
            b.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    # Batch ids are long; a narrow terminal wraps the lines rather than truncating ids.
    Console(width=max(console.width, 132)).print(table)


def _read_warnings(instance, batch_id: str) -> list[str]:
    """What reading the batch's file warned about, from its latest `source_rows`."""
    import dagster as dg

    from structr_pipeline.metadata import READ_WARNINGS

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("source_rows"), asset_partitions=[batch_id]),
        limit=1,
    ).records
    if not records:
        return []
    value = records[0].asset_materialization.metadata.get(READ_WARNINGS)
    return list(value.value) if value is not None else []


def _latest_materializations(instance, batch_id: str) -> dict[str, float]:
    """Asset key → timestamp of its latest materialization for the batch's partition."""
    import dagster as dg

    from structr_pipeline.definitions import defs
    from structr_pipeline.names import IMPORT_GROUP

    found = {}
    for key in sorted(dg.AssetSelection.groups(IMPORT_GROUP).resolve(defs.resolve_asset_graph())):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[batch_id]), limit=1
        ).records
        if records:
            found[key.to_user_string()] = records[0].timestamp
    return found


@batches_app.command("show")
def show_batch(batch_id: Annotated[str, typer.Argument(help="The batch id.")]) -> None:
    """Show one batch: its stages and their counts, failed items with reasons, reprocessing."""
    _prepare_dagster_home()
    from datetime import UTC, datetime

    from structr_pipeline.settings import StructrSettings
    from structr_pipeline.store.batches import get_batch
    from structr_pipeline.store.db import CatalogDB
    from structr_pipeline.store.reprocessing import attempts_of
    from structr_pipeline.store.stages import failed_items_of, stages_of

    db = CatalogDB.from_settings(StructrSettings.from_env())
    try:
        manifest = get_batch(db, batch_id)
    except KeyError as exc:
        console.print(f"[bold red]{exc.args[0]}[/]")
        raise typer.Exit(code=2) from exc
    wide = Console(width=max(console.width, 132))
    console.print(f"Batch [bold]{manifest.batch_id}[/]: {manifest.original_name}", soft_wrap=True)
    console.print(
        f"status {manifest.status}, source {manifest.source_kind}, "
        f"created {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    if manifest.error:
        console.print(f"[red]error:[/] {manifest.error}", soft_wrap=True)
    if manifest.options:
        console.print(f"options: {json.dumps(manifest.options, ensure_ascii=False)}")

    stages = stages_of(db, batch_id)
    table = Table(title="Stages")
    for name in ("stage", "updated (UTC)", "produced with", "counts"):
        table.add_column(name)
    for stage in stages.values():
        table.add_row(
            stage.stage,
            f"{stage.updated_at:%Y-%m-%d %H:%M:%S}",
            ", ".join(
                f"{k}={v.get('sentence', v) if isinstance(v, dict) else v}"
                for k, v in stage.produced_with.items()
            )
            or "–",
            ", ".join(f"{k}={v}" for k, v in stage.counts.items()),
        )
    if manifest.counts:
        table.add_row("bundle", "", "", ", ".join(f"{k}={v}" for k, v in manifest.counts.items()))
    wide.print(table)

    materialized = _latest_materializations(_dagster_instance(), batch_id)
    assets = Table(title="Assets (latest materialization)")
    assets.add_column("asset")
    assets.add_column("materialized (UTC)")
    for key, at in materialized.items():
        assets.add_row(key, f"{datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M:%S}")
    if materialized:
        wide.print(assets)

    failed = failed_items_of(db, batch_id)
    if failed:
        items = Table(title="Failed items")
        for name in ("stage", "item", "attempts", "reason"):
            items.add_column(name)
        for stage, entries in failed.items():
            for item in entries:
                items.add_row(stage, item.item, str(item.attempts), item.reason)
        wide.print(items)
    else:
        console.print("No failed items.")
    for attempts in attempts_of(db, batch_id):
        state = "gave up" if attempts.exhausted else "retrying"
        when = (
            f", next after {attempts.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            if attempts.next_attempt_at and not attempts.exhausted
            else ""
        )
        console.print(
            f"Reprocessing ({attempts.reason}): {attempts.attempts} attempts, {state}{when}: "
            f"{attempts.detail}",
            soft_wrap=True,
        )


@batches_app.command("reprocess")
def reprocess_batch(
    batch_id: Annotated[str, typer.Argument(help="The batch id.")],
    failed_only: Annotated[
        bool,
        typer.Option(
            "--failed-only",
            help="Only retry the batch's failed items: re-run generation and the stages after it.",
        ),
    ] = False,
) -> None:
    """Run a batch again now, in this process: all stages, or from generation with --failed-only.

    Resets the batch's reprocessing attempts, so the sensor may retry it again later.
    """
    _prepare_dagster_home()

    from structr_pipeline.definitions import build_defs
    from structr_pipeline.runner import run_batch
    from structr_pipeline.store.batches import get_batch
    from structr_pipeline.store.reprocessing import clear_attempts
    from structr_pipeline.store.stages import failed_items_of

    defs = build_defs()
    catalog = defs.resources["catalog"]
    db = catalog.db()
    try:
        get_batch(db, batch_id)
    except KeyError as exc:
        console.print(f"[bold red]{exc.args[0]}[/]")
        raise typer.Exit(code=2) from exc
    before = sum(len(v) for v in failed_items_of(db, batch_id).values())
    if failed_only and not before:
        console.print(f"Batch {batch_id} has no failed items; nothing to retry.")
        return
    instance = _dagster_instance()
    if not instance.has_dynamic_partition("import_batch", batch_id):
        instance.add_dynamic_partitions("import_batch", [batch_id])
    clear_attempts(db, batch_id)
    start = "generation" if failed_only else "ingestion"
    console.print(f"Reprocessing {batch_id} from {start} ({before} failed items before)")
    run = run_batch(defs, instance, batch_id, start=start)
    after = sum(len(v) for v in failed_items_of(db, batch_id).values())
    for message in run.check_warnings:
        console.print(f"[yellow]Warning[/] {message}")
    if not run.success:
        console.print(f"[bold red]Batch {batch_id} failed again[/] (run {run.run_id})")
        for message in run.errors + run.check_failures:
            console.print(f"  {message}")
        raise typer.Exit(code=1)
    console.print(
        f"Batch {batch_id} reprocessed (run {run.run_id}): {after} failed items remain",
        soft_wrap=True,
    )


if __name__ == "__main__":
    app()
