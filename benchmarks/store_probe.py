"""Scenario 9's measurements in processes of their own: ``python -m benchmarks.store_probe``.

The parent (:mod:`.store_scale`) starts this module in a new Python and reads one JSON line from
its standard output. Each command does its imports (pandas, DuckDB, requests) and opens its
client first, reads its resident memory, then measures only what it names; the peak is the
process's resident high-water mark (:func:`peak_bytes`), so it holds the imports as well, and
the growth is the peak minus the memory before.

- ``sync``: ``mt.sync(client, db, start, metrics=("sessions",), by="user")`` into a DuckDB
  file, the client's "now" given; ``workers`` is passed when ``sync`` takes it. The day before
  ``start`` is synced into a scratch file first, by a client whose now is ``start`` (its calls
  are not counted), so that the memory before holds the imports and DuckDB.
- ``pool``: the thread-pool baseline: a ``ThreadPoolExecutor`` with one ``requests.Session``
  per thread asks the sessions endpoint for every (user, day) given, collects the JSON bodies
  into a DataFrame (``pandas.json_normalize``) and writes it into a DuckDB file once at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd

import metrics_toolkit as mt
from metrics_toolkit.demo import DEMO_API_KEY
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH

from .common import breakdown_queries, thread_pool_loop
from .probe import resident_bytes, run_probe, trim_heap

__all__ = ["main", "peak_bytes", "run_store_probe", "sync_options"]

#: ``ru_maxrss`` unit: KiB on Linux, bytes on macOS.
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024
#: The breakdown synced.
BY: Final = "user"
#: The families synced: the sessions, the endpoint the thread pool asks.
METRICS: Final = ("sessions",)


def sync_options(workers: int) -> dict[str, Any]:
    """The keywords of ``mt.sync`` beyond its arguments: ``workers`` (and no progress bar)
    where this version of ``sync`` takes them."""
    parameters = inspect.signature(mt.sync).parameters
    options: dict[str, Any] = {}
    if "workers" in parameters:
        options["workers"] = workers
    if "progress" in parameters:
        options["progress"] = False
    return options


def peak_bytes() -> float:
    """This process's resident high-water mark since it started its program, bytes.

    ``VmHWM`` of ``/proc/self/status`` where there is one: ``ru_maxrss`` also counts the parent
    this process was forked from (Linux keeps the larger mark across ``exec``), so a child of
    a big parent would report the parent's memory. Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(int(line.split()[1]) * 1024)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MAXRSS_UNIT)


def _warm_up(url: str, scratch: Path, start: dt.datetime, options: dict[str, Any]) -> None:
    """Sync the day before ``start`` into a scratch file (a client whose now is ``start``), so
    that lazy imports and DuckDB are in place before the memory before is read."""
    with mt.MetricsClient(
        DEMO_API_KEY, base_url=url, cache_dir=scratch / "warm-up", now=start
    ) as client:
        mt.sync(
            client,
            scratch / "warm-up.duckdb",
            start - dt.timedelta(days=1),
            metrics=METRICS,
            by=BY,
            **options,
        )


def _sync(args: argparse.Namespace) -> dict[str, Any]:
    now = dt.datetime.fromisoformat(args.now)
    options = sync_options(args.workers)
    with (
        tempfile.TemporaryDirectory(prefix="metrics-bench-cache-") as cache_dir,
        mt.MetricsClient(DEMO_API_KEY, base_url=args.url, cache_dir=cache_dir, now=now) as client,
    ):
        _warm_up(args.url, Path(cache_dir), dt.datetime.fromisoformat(args.start), options)
        trim_heap()
        before = resident_bytes()
        wall, cpu = time.perf_counter(), time.process_time()
        summary = mt.sync(client, args.db, args.start, metrics=METRICS, by=BY, **options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "calls": summary.calls,
        "rows": summary.rows,
        "before_bytes": before,
        "peak_bytes": peak_bytes(),
        "options": sorted(options),
    }


def _pool(args: argparse.Namespace) -> dict[str, Any]:
    ids = args.ids.split(",")
    start = pd.Timestamp(args.start)
    end = start + pd.Timedelta(days=args.days)
    buckets = mt.time_buckets(start, end, "day", now=end)
    queries = breakdown_queries(buckets, ids, BY)
    url = f"{args.url}{SESSION_METRICS_PATH}"
    trim_heap()
    before = resident_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    answers = thread_pool_loop(url, queries, args.workers)
    frame = pd.json_normalize(answers)
    frame.insert(0, "user_id", [id_ for id_ in ids for _ in buckets])
    frame.insert(1, "day", [bucket.start for _ in ids for bucket in buckets])
    with duckdb.connect(args.db) as con:
        con.register("incoming", frame)
        con.execute("CREATE TABLE sessions_by_user AS SELECT * FROM incoming").fetchall()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "calls": len(queries),
        "rows": len(frame),
        "sessions": int(frame["sessions_created_count"].sum()),
        "before_bytes": before,
        "peak_bytes": peak_bytes(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store_probe")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="mt.sync by user into a DuckDB file")
    sync.add_argument("--now", required=True, help="the client's now, tz-aware ISO")
    pool = commands.add_parser("pool", help="the thread-pool baseline")
    pool.add_argument("--ids", required=True, help="user ids, comma-separated")
    pool.add_argument("--days", type=int, required=True, help="daily windows from --start")
    for command in (sync, pool):
        command.add_argument("--url", required=True, help="the server's base URL")
        command.add_argument("--db", required=True, help="the DuckDB file")
        command.add_argument("--start", required=True, help="the first day, tz-aware ISO")
        command.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    report = _sync(args) if args.command == "sync" else _pool(args)
    print(json.dumps(report), flush=True)
    return 0


def run_store_probe(*args: str, bytecode_cache: bool = True) -> dict[str, Any]:
    """Run ``python -m benchmarks.store_probe ARGS`` in a new process; its JSON report."""
    return run_probe(*args, bytecode_cache=bytecode_cache, module="benchmarks.store_probe")


if __name__ == "__main__":
    raise SystemExit(main())
