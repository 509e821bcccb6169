"""Time the whole asset graph for one batch: every step, the wall, the peak memory.

Generates a realistic Shopify export of N rows (variants, image-only rows, HTML bodies,
prices and barcodes that are wrong at known rates, products listed twice under another
handle) or takes ``--file``, then materializes every stage for it in a fresh STRUCTR_HOME
and DAGSTER_HOME with the offline copy provider, in a child process: Dagster's own work
(IO manager writes and reads, event log, metadata, checks) is in the figures. A bare
``pyarrow.csv.read_csv`` of the same file is timed in the same run as the yardstick.

    python benchmarks/pipeline.py --rows 100000
    python benchmarks/pipeline.py --file export.csv
    python benchmarks/pipeline.py --sizes 10000,100000,1000000

The last line is ``rows=<n> wall_s=<w> peak_rss_mb=<m> pyarrow_read_s=<r> ratio=<w/r>``;
``--sizes`` prints it per size, then a table of every step's seconds per size and the
growth factor between consecutive sizes.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
INVALID_PRICE_RATE = 0.01
INVALID_BARCODE_RATE = 0.01
RELISTED_RATE = 0.02


def _generator():
    spec = importlib.util.spec_from_file_location("generate_shopify", HERE / "generate_shopify.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _products(rows: Iterator[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    group: list[dict[str, str]] = []
    for row in rows:
        if group and row["Handle"] != group[0]["Handle"]:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _wrong_check_digit(barcode: str) -> str:
    return barcode[:-1] + str((int(barcode[-1]) + 1) % 10)


def benchmark_rows(n_rows: int, seed: int = 7) -> Iterator[dict[str, str]]:
    """``n_rows`` rows of a Shopify export with known faults and planted relistings.

    On top of ``generate_shopify.rows``: 1% of variant prices are unreadable (rejected
    rows), 1% of barcodes have a wrong check digit (an audit error), and 2% of products are
    listed a second time under another handle with their SKUs lower-cased (merged by
    deduplication).
    """
    rng = random.Random(seed + 1)
    written = 0
    for group in _products(_generator().rows(n_rows, seed)):
        copies = [group]
        if rng.random() < RELISTED_RATE:
            copies.append(
                [
                    {
                        **row,
                        "Handle": f"{row['Handle']}-relisted",
                        "Variant SKU": row["Variant SKU"].lower(),
                    }
                    for row in group
                ]
            )
        for rows in copies:
            for row in rows:
                if written >= n_rows:
                    return
                row = dict(row)
                if row["Variant Price"] and rng.random() < INVALID_PRICE_RATE:
                    row["Variant Price"] = "call for price"
                if row["Variant Barcode"] and rng.random() < INVALID_BARCODE_RATE:
                    row["Variant Barcode"] = _wrong_check_digit(row["Variant Barcode"])
                yield row
                written += 1


def write_export(path: Path, n_rows: int, seed: int = 7) -> Path:
    """Write ``benchmark_rows`` to ``path`` as CSV."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=_generator().HEADER)
        writer.writeheader()
        writer.writerows(benchmark_rows(n_rows, seed))
    return path


def measure_in_this_process(path: Path) -> dict:
    """Run every stage for ``path`` here (STRUCTR_HOME and DAGSTER_HOME already set)."""
    import dagster as dg

    from structr_pipeline.definitions import build_defs
    from structr_pipeline.runner import register_batch, run_batch
    from structr_pipeline.settings import StructrSettings

    start = time.perf_counter()
    settings = StructrSettings.from_env()
    defs = build_defs(settings)
    instance = dg.DagsterInstance.get()
    registered = register_batch(defs.resources["catalog"], instance, path)
    batch_id = registered.manifest.batch_id
    run = run_batch(defs, instance, batch_id)
    wall = time.perf_counter() - start
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    records = instance.get_records_for_run(
        run.run_id,
        of_type={
            dg.DagsterEventType.STEP_START,
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        },
        limit=100_000,
    ).records
    for record in records:
        entry = record.event_log_entry
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif entry.step_key in starts:
            steps[entry.step_key] = entry.timestamp - starts[entry.step_key]
    summary_path = settings.exports_dir / batch_id / "summary.json"
    counts = json.loads(summary_path.read_text())["counts"] if summary_path.exists() else {}
    return {
        "success": run.success,
        "errors": run.errors + run.check_failures,
        "wall_s": wall,
        "steps": steps,
        "counts": counts,
        "own_peak_kib": max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        ),
    }


class _TreeRss:
    """The largest summed resident memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> _TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _tree_kib(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            rss[pid] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo.extend(children.get(pid, []))
        return total

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._tree_kib())
            self._stop.wait(self.every)


def measure(path: Path) -> dict:
    """Run every stage for ``path`` in a fresh child process and home; time pyarrow's read."""
    import pyarrow.csv as pacsv

    with tempfile.TemporaryDirectory(prefix="structr-pipeline-") as tmp:
        work = Path(tmp)
        (work / "dagster").mkdir()
        (work / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {
            **os.environ,
            "STRUCTR_HOME": str(work / "home"),
            "DAGSTER_HOME": str(work / "dagster"),
            "STRUCTR_LLM_PROVIDER": "offline",
        }
        env.pop("STRUCTR_DATABASE_URL", None)
        out = work / "result.json"
        child = subprocess.Popen(
            [sys.executable, __file__, "--measure", str(path), "--result", str(out)],
            env=env,
            cwd=work,
        )
        with _TreeRss(child.pid) as tree:
            child.wait()
        if child.returncode != 0:
            raise SystemExit(f"the measured run exited with {child.returncode}")
        result = json.loads(out.read_text())
    # The sampled sum over the process tree; the child's own peak when sampling missed it.
    result["peak_rss_mb"] = max(tree.peak_kib, result.pop("own_peak_kib")) / 1024
    start = time.perf_counter()
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True))
    result["pyarrow_read_s"] = time.perf_counter() - start
    result["rows"] = table.num_rows
    return result


def _line(result: dict) -> str:
    ratio = result["wall_s"] / result["pyarrow_read_s"]
    return (
        f"rows={result['rows']} wall_s={result['wall_s']:.1f} "
        f"peak_rss_mb={result['peak_rss_mb']:.0f} "
        f"pyarrow_read_s={result['pyarrow_read_s']:.3f} ratio={ratio:.0f}"
    )


def report(result: dict) -> None:
    """Print one measurement: every step, the conservation counts, the summary line."""
    if not result["success"]:
        print("the run failed: " + "; ".join(result["errors"]))
    width = max([len(step) for step in result["steps"]] + [20])
    print(f"{'step':<{width}} {'seconds':>9}")
    for step, seconds in sorted(result["steps"].items(), key=lambda item: -item[1]):
        print(f"{step:<{width}} {seconds:>9.2f}")
    counts = result["counts"]
    if counts:
        accounted = counts["rows_accepted"] + counts["rows_rejected"]
        print(
            f"rows in {counts['rows_in']:,} = accepted {counts['rows_accepted']:,} "
            f"+ rejected {counts['rows_rejected']:,} ({accounted:,}); "
            f"merged {counts.get('rows_merged', 0):,}; products {counts['products']:,}, "
            f"variants {counts['variants']:,}; pairs to review "
            f"{counts.get('possible_duplicates', 0):,}"
        )
    print(_line(result))


def report_sizes(results: list[dict]) -> None:
    """Print every step's seconds per size and its growth between consecutive sizes."""
    steps = sorted(
        {step for r in results for step in r["steps"]},
        key=lambda s: -results[-1]["steps"].get(s, 0.0),
    )
    sizes = [r["rows"] for r in results]
    head = "".join(f"{n:>12,}" for n in sizes)
    growth = "".join(f"{'×' + format(b / a, '.1f'):>10}" for a, b in itertools.pairwise(sizes))
    width = max([len(step) for step in steps] + [20]) + 1
    print(f"{'step':<{width}}{head}{growth}")

    def row(name: str, values: list[float]) -> str:
        cells = "".join(f"{v:>12.2f}" for v in values)
        factors = "".join(
            f"{(b / a if a > 0 else float('nan')):>10.1f}" for a, b in itertools.pairwise(values)
        )
        return f"{name:<{width}}{cells}{factors}"

    for step in steps:
        print(row(step, [r["steps"].get(step, 0.0) for r in results]))
    print(row("wall", [r["wall_s"] for r in results]))
    print(row("peak RSS (MB)", [r["peak_rss_mb"] for r in results]))
    print(row("pyarrow read", [r["pyarrow_read_s"] for r in results]))


def main(argv: list[str] | None = None) -> int:
    """Generate or take a file, measure the pipeline on it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--rows", type=int, default=10_000, help="rows of the generated export")
    source.add_argument("--file", type=Path, help="measure this file instead")
    source.add_argument("--sizes", help="comma-separated row counts, e.g. 10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        args.result.write_text(json.dumps(measure_in_this_process(args.measure)))
        return 0
    if args.file:
        result = measure(args.file.resolve())
        report(result)
        return 0 if result["success"] else 1
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [args.rows]
    results = []
    with tempfile.TemporaryDirectory(prefix="structr-export-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = write_export(folder / f"shopify_{n}.csv", n, args.seed)
            result = measure(path)
            results.append(result)
            report(result)
            print()
    if len(results) > 1:
        report_sizes(results)
        for result in results:
            print(_line(result))
    return 0 if all(r["success"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
