"""Measure `structr import` end to end: wall time and peak memory (RSS) per file.

Each file is imported in a fresh process with its own empty STRUCTR_HOME and
DAGSTER_HOME, so the figures include start-up, every stage and the catalog upsert.

    python benchmarks/bench_import.py FILE [FILE ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(path: Path) -> tuple[float, float, int]:
    """Import one file in a child process; return (seconds, peak RSS in MiB, exit code)."""
    work = Path(tempfile.mkdtemp(prefix="structr-bench-"))
    env = {
        **os.environ,
        "STRUCTR_HOME": str(work / "home"),
        "DAGSTER_HOME": str(work / "dagster"),
    }
    env.pop("STRUCTR_DATABASE_URL", None)
    (work / "dagster").mkdir()
    structr = Path(sys.executable).with_name("structr")
    start = time.perf_counter()
    proc = subprocess.run(
        [str(structr), "import", str(path)], env=env, capture_output=True, text=True, cwd=work
    )
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    return seconds, peak_kib / 1024, proc.returncode


def main() -> None:
    """Measure each file from a fresh interpreter and print a table of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        seconds, mib, rc = measure(args.files[0].resolve())
        print(seconds, mib, rc)
        return
    print(f"{'file':<40} {'lines':>9} {'MB':>7} {'wall s':>8} {'peak RSS MiB':>13}")
    for path in args.files:
        # ru_maxrss of RUSAGE_CHILDREN is the maximum over all children so far, so each
        # file is measured by a fresh interpreter of this script.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], capture_output=True, text=True
        )
        seconds, mib, rc = out.stdout.split()[-3:]
        with path.open("rb") as f:
            n_lines = sum(1 for _ in f)
        status = "" if rc == "0" else f"  (exit {rc})"
        print(
            f"{path.name:<40} {n_lines:>9,} {path.stat().st_size / 1e6:>7.1f} "
            f"{float(seconds):>8.1f} {float(mib):>13.0f}{status}"
        )


if __name__ == "__main__":
    main()
