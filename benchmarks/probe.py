"""Measurements that need a process of their own: ``python -m benchmarks.probe``.

The parent (:mod:`.latency`, :mod:`.memory`) starts this module in a new Python and reads one
JSON line from its standard output. Each command does its imports and opens its client first,
then measures only what it names:

- ``warm``: a new client on an existing ``cache_dir`` fetches the daily buckets that a previous
  process fetched; the wall seconds of that one ``fetch_series`` call (interpreter start,
  imports and opening the client excluded). The frame is pickled for the parent to check.
- ``memory``: one big breakdown by user; its wall and CPU seconds, then the resident memory the
  process still holds once the frame is deleted and ``gc.collect()`` ran (the client stays
  open, as in a notebook), against the resident memory before the fetch.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from metrics_toolkit import fetch_series
from metrics_toolkit.directory import Directory

from .common import END, make_client
from .server_process import REPOSITORY

__all__ = ["PYCACHE", "child_env", "main", "resident_bytes", "run_probe", "trim_heap"]

#: Where children keep their bytecode (see :func:`child_env`): outside the source tree.
PYCACHE = Path(tempfile.gettempdir()) / "metrics-toolkit-bench-pycache"
#: ``ru_maxrss`` unit: KiB on Linux, bytes on macOS.
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024


def resident_bytes() -> float:
    """Resident set size of this process now, bytes (NaN where ``/proc`` is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return float("nan")
    return float(pages * os.sysconf("SC_PAGE_SIZE"))


def trim_heap() -> None:
    """``gc.collect()``, then hand free heap pages back to the system (glibc ``malloc_trim``).

    Without the trim, memory that is free but sits between live blocks still counts as
    resident, and the measurement would be the allocator's, not the library's.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: no trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _warm(args: argparse.Namespace) -> dict[str, Any]:
    start = END - dt.timedelta(days=args.days)
    started = time.perf_counter()
    client = make_client(args.url, Path(args.cache_dir))
    opened = time.perf_counter() - started
    with client:
        started = time.perf_counter()
        frame = fetch_series(client, start, END, "day", workers=args.workers, progress=False)
        seconds = time.perf_counter() - started
    frame.to_pickle(args.frame)
    stats = frame.attrs["fetch_stats"]
    return {
        "seconds": seconds,
        "open_seconds": opened,
        "calls": stats.calls,
        "from_cache": stats.from_cache,
        "requests": stats.requests,
    }


def _memory(args: argparse.Namespace) -> dict[str, Any]:
    ids = args.ids.split(",")
    start = END - dt.timedelta(days=args.days)
    with make_client(args.url, Path(args.cache_dir)) as client:
        # One small fetch first, so that lazy imports, the connection pool and the cache's
        # files are in place before the baseline is read.
        fetch_series(
            client,
            start - dt.timedelta(days=1),
            start,
            "day",
            by="user",
            ids=ids[:1],
            workers=args.workers,
            progress=False,
            directory=Directory(),  # the ids as given (made-up ones too): no directory read
            allow_unknown_ids=True,
        )
        trim_heap()
        before = resident_bytes()
        if args.trace:
            tracemalloc.start()
        traced_before = tracemalloc.get_traced_memory()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        frame = fetch_series(
            client,
            start,
            END,
            "day",
            by="user",
            ids=ids,
            workers=args.workers,
            progress=False,
            directory=Directory(),
            allow_unknown_ids=True,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats = frame.attrs["fetch_stats"]
        report = {
            "seconds": wall,
            "cpu_seconds": cpu,
            "rows": len(frame),
            "sessions": int(frame["sessions_created_count"].sum()),
            "calls": stats.calls,
            "fetched": stats.fetched,
            "with_frame_bytes": resident_bytes() - before,
        }
        report["traced_with_frame_bytes"] = tracemalloc.get_traced_memory()[0] - traced_before
        del frame, stats
        trim_heap()
        # what Python objects the process still holds: the toolkit's own keeping, if any
        report["traced_kept_bytes"] = tracemalloc.get_traced_memory()[0] - traced_before
        tracemalloc.stop()
        trim_heap()
        report["kept_bytes"] = resident_bytes() - before
    report["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MAXRSS_UNIT
    report["before_bytes"] = before
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe")
    commands = parser.add_subparsers(dest="command", required=True)
    warm = commands.add_parser("warm", help="time a warm fetch in this new process")
    warm.add_argument("--frame", required=True, help="where to pickle the frame")
    memory = commands.add_parser("memory", help="memory kept after a big fetch")
    memory.add_argument("--ids", required=True, help="user ids, comma-separated")
    memory.add_argument(
        "--trace", action="store_true", help="trace Python allocations (tracemalloc) too"
    )
    for command in (warm, memory):
        command.add_argument("--url", required=True, help="the server's base URL")
        command.add_argument("--cache-dir", required=True)
        command.add_argument("--days", type=int, required=True, help="daily buckets before END")
        command.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    report = _warm(args) if args.command == "warm" else _memory(args)
    print(json.dumps(report), flush=True)
    return 0


def child_env(bytecode_cache: bool) -> dict[str, str]:
    """The environment of a child Python; with ``bytecode_cache``, one that keeps bytecode.

    A user's Python compiles a module once and reads its bytecode afterwards. Where the
    environment forbids writing it (``PYTHONDONTWRITEBYTECODE``), every new process would
    compile the toolkit again; with ``bytecode_cache`` the children write and read it under
    :data:`PYCACHE` (``PYTHONPYCACHEPREFIX``), outside the source tree. The first child then
    compiles everything it imports, once per machine.
    """
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def run_probe(
    *args: str, bytecode_cache: bool = True, module: str = "benchmarks.probe"
) -> dict[str, Any]:
    """Run ``python -m benchmarks.probe ARGS`` in a new process and return its JSON report.

    ``bytecode_cache``: see :func:`child_env`; ``module``: another probe module run the same way
    (its last line of output is its JSON report).
    """
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPOSITORY,
        env=child_env(bytecode_cache),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {args[0]} failed:\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


if __name__ == "__main__":
    raise SystemExit(main())
