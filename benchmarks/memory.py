"""Scenario 6, memory kept after a big fetch: 100 users x 365 daily buckets (36,500 calls).

The fetch runs once, at 0 ms latency, in a new Python process (:mod:`.probe` ``memory``) with
default settings and a fresh ``cache_dir``, so that the resident memory it reads is the
library's, not left over from other scenarios. The memory kept is the growth of the resident
set size (``/proc/self/statm``) from just before the fetch to after the frame is deleted,
``gc.collect()`` ran and glibc's ``malloc_trim(0)`` handed free pages back; the client stays
open, as in a notebook. Python's own allocations are traced as well (``tracemalloc``): the
objects still held once the frame is gone are what the toolkit keeps, and that is the target;
the resident set also holds the allocator's freed-but-kept pages and SQLite's page cache.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time

from metrics_toolkit.demo import DemoAPI

from .common import END, SEED, Sizes, breakdown_ids
from .harness import ScenarioResult
from .probe import run_probe
from .server_process import ServerProcess

__all__ = ["memory_scenario"]

MIB = 2**20


def memory_scenario(sizes: Sizes, api: DemoAPI) -> ScenarioResult:
    """Scenario 6: ``memory_ids x memory_days`` calls once, and the memory kept afterwards.

    Parameters
    ----------
    sizes : Sizes
        ``memory_ids``, ``memory_days`` and ``workers`` are read; it runs once.
    api : DemoAPI
        The simulator in this process, to check the fetched sessions add up.

    Returns
    -------
    ScenarioResult
        The fetch's wall seconds, calls per second and CPU per call; the resident memory (MiB)
        kept, held with the frame, and the process's peak; the target on the memory kept.
    """
    started = time.perf_counter()
    ids = breakdown_ids(api.enterprise, sizes.memory_ids)
    calls = len(ids) * sizes.memory_days
    result = ScenarioResult(
        6,
        f"memory kept after {calls:,} calls",
        f"{len(ids)} users x {sizes.memory_days} daily buckets at 0 ms latency, once, in a new "
        f"process: by='user', workers={sizes.workers}, default settings, fresh cache_dir; "
        "kept = Python objects still held (tracemalloc, a second run) and RSS growth after del "
        "frame, gc.collect() and malloc_trim(0), client still open",
    )
    with (
        ServerProcess(end=END, seed=SEED, latency=0.0) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        before = server.request_count
        probe = (
            "memory",
            f"--url={server.url}",
            f"--days={sizes.memory_days}",
            f"--workers={sizes.workers}",
            f"--ids={','.join(ids)}",
        )
        report = run_probe(
            *probe, f"--cache-dir={scratch}/plain", bytecode_cache=sizes.bytecode_cache
        )
        sent = server.request_count - before
        # again with Python's allocations traced (slower, so timed and measured apart)
        traced = run_probe(
            *probe, f"--cache-dir={scratch}/traced", "--trace", bytecode_cache=sizes.bytecode_cache
        )
        report["traced_with_frame_bytes"] = traced["traced_with_frame_bytes"]
        report["traced_kept_bytes"] = traced["traced_kept_bytes"]
    start = END - dt.timedelta(days=sizes.memory_days)
    sessions = api.session_metrics(int(start.timestamp()), int(END.timestamp()), user_ids=ids)[
        "sessions_created_count"
    ]
    result.checks["one row and one request per call (+1 warm-up)"] = (
        report["rows"] == calls and report["fetched"] == calls and sent == calls + 1
    )
    result.checks["the frame's sessions == the simulator's for those users"] = (
        report["sessions"] == sessions
    )

    seconds = report["seconds"]
    result.add("fetch_seconds", f"fetch of {calls:,} calls", "s", [seconds])
    result.add("calls_per_second", "calls/s", "calls/s", [calls / seconds])
    result.add(
        "cpu_per_call",
        "CPU per call (the probe process)",
        "µs",
        [report["cpu_seconds"] / calls * 1e6],
    )
    result.add(
        "with_frame_mib",
        "RSS growth while the frame is held",
        "MiB",
        [report["with_frame_bytes"] / MIB],
    )
    result.add(
        "kept_mib", "RSS growth kept after del frame + gc", "MiB", [report["kept_bytes"] / MIB]
    )
    result.add(
        "traced_with_frame_mib",
        "Python objects held with the frame (tracemalloc)",
        "MiB",
        [report["traced_with_frame_bytes"] / MIB],
    )
    kept = result.add(
        "traced_kept_mib",
        "Python objects still held after del frame + gc (tracemalloc)",
        "MiB",
        [report["traced_kept_bytes"] / MIB],
    )
    result.add(
        "peak_mib", "peak RSS of the process (ru_maxrss)", "MiB", [report["peak_bytes"] / MIB]
    )
    result.judge(
        "kept_mib",
        f"memory kept after {calls:,} calls",
        kept.median,
        5.0,
        at_least=False,
        unit="MiB",
    )
    result.seconds = time.perf_counter() - started
    return result
