"""The inbox sensor: files dropped into the inbox folder become import batches and runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from pathlib import Path

import dagster as dg

from structr_pipeline.core.inbox import (
    InboxFile,
    Rejected,
    UnsafeName,
    decode_looks,
    encode_looks,
    inspect_ready,
    move_to_processed,
    move_to_rejected,
    prepare_inbox,
    ready_files,
    scan_inbox,
)
from structr_pipeline.core.safe_files import printable_name
from structr_pipeline.jobs import import_batch_job
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.automation import AutomationPolicyResource
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import register_file

# The same kind `structr import` gives a file, so both routes make the same batch.
SOURCE_KIND = "csv"
# Files registered in one tick; the others wait for the next tick (hashing takes time).
MAX_FILES_PER_TICK = 20


def inbox_run_key(sha256: str) -> str:
    """The run key of a file's bytes: the same bytes are never run twice by the sensor."""
    return f"inbox-{sha256}"


def _run_request(item: InboxFile, batch_id: str, sha256: str) -> dg.RunRequest:
    return dg.RunRequest(
        partition_key=batch_id,
        run_key=inbox_run_key(sha256),
        tags={"structr/source": "inbox", "structr/inbox_file": printable_name(item.name)},
    )


def evaluate_inbox(
    context: dg.SensorEvaluationContext,
    catalog: CatalogStoreResource,
    automation: AutomationPolicyResource,
) -> dg.SensorResult:
    """Turn CSV files dropped into the inbox folder into import batches and run them.

    The folder is STRUCTR_INBOX_DIR, or STRUCTR_HOME/inbox. A file is taken once its size
    and modification time are the same on two looks (about 15 s apart): its bytes are
    copied to landing as a batch, its partition is added and a run of import_batch_job
    is requested with the run key `inbox-<sha256>`, so the same bytes never run twice.
    It moves to inbox/processed/ once its partition exists. A file that cannot be read
    as a table, or whose sidecar `<file>.yaml` (`profile: <name>`, `options: {...}`)
    is wrong, moves to inbox/rejected/ with `<file>.reason.txt`; links leading outside
    the inbox are refused the same way, and so are named pipes, devices and sockets
    (never opened, so they cannot hang a tick) and sidecars over 64 KiB or with YAML
    aliases. Hidden files, partial uploads (.part, .tmp, .crdownload) and sidecars are
    never batches. File names are logged with control characters escaped.
    """
    settings = catalog.settings
    root = prepare_inbox(automation.inbox)
    scan = scan_inbox(root)
    looks = dict(scan.looks)

    def leave(names: tuple[str, ...], move: Callable[[], Path]) -> None:
        """Move a file (and its sidecars) out of the inbox and forget their looks."""
        shown = printable_name(names[0])
        try:
            moved = move()
        except OSError as exc:
            context.log.error(f"Could not move {shown} out of the inbox: {exc}")
            return
        for name in names:
            looks.pop(name, None)
        context.log.info(f"Moved {shown} to {printable_name(str(moved))}")

    for name, reason in scan.refused:
        context.log.warning(f"Refused {printable_name(name)}: {reason}")
        leave((name,), partial(move_to_rejected, root, name, reason))

    run_requests: dict[str, dg.RunRequest] = {}
    new_partitions: list[str] = []
    for item in ready_files(scan, decode_looks(context.cursor))[:MAX_FILES_PER_TICK]:
        shown = printable_name(item.name)
        try:
            inspection = inspect_ready(root, item, settings.profiles_dir)
        except (Rejected, UnsafeName) as exc:
            context.log.warning(f"Rejected {shown}: {exc}")
            names = (item.name, *item.sidecars)
            leave(names, partial(move_to_rejected, root, item.name, str(exc), item.sidecars))
            continue
        try:
            registered = register_file(
                catalog.db(),
                item.path,
                source_kind=SOURCE_KIND,
                landing_dir=settings.landing_dir,
                options=inspection.options,
                original_name=item.name,
            )
        except (OSError, ValueError) as exc:
            # Changed or removed while being copied: it needs two fresh looks again.
            looks.pop(item.name, None)
            context.log.info(f"{shown} is not taken yet: {printable_name(str(exc))}")
            continue
        batch_id = registered.manifest.batch_id
        run_requests.setdefault(batch_id, _run_request(item, batch_id, registered.manifest.sha256))
        if context.instance.has_dynamic_partition(import_batch.name, batch_id):
            # The partition exists, so the tick that requested this batch's run was
            # recorded: the file can leave the inbox.
            leave((item.name, *item.sidecars), partial(move_to_processed, root, item))
        elif batch_id not in new_partitions:
            new_partitions.append(batch_id)
            verb = "registered as" if registered.created else "is already"
            context.log.info(f"{shown} {verb} batch {batch_id}; requesting its run")
            for warning in inspection.warnings:
                context.log.warning(f"{shown}: {warning}")

    cursor = encode_looks(looks)
    if not run_requests:
        return dg.SensorResult(
            skip_reason=(
                f"No file ready in {printable_name(str(root))} ({len(looks)} being watched)"
            ),
            cursor=cursor,
        )
    return dg.SensorResult(
        run_requests=list(run_requests.values()),
        dynamic_partitions_requests=(
            [import_batch.build_add_request(new_partitions)] if new_partitions else []
        ),
        cursor=cursor,
    )


# On by default: it does nothing until a file is dropped into the folder, and an inbox that
# first has to be switched on in the UI would silently ignore files on a fresh deployment.
inbox_sensor = dg.sensor(
    name="inbox_sensor",
    target=import_batch_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=inspect.cleandoc(evaluate_inbox.__doc__ or ""),
)(evaluate_inbox)
