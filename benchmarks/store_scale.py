"""Scenario 9, the store at scale: 500 users x 365 days synced by user into a DuckDB file.

A demo enterprise of ``scale_users`` people (``generate_enterprise(users=...)``) is served at
0 ms latency by the loopback server in a child process, each answer computed afresh (none
kept), so that every client pays the same server. Everything measured runs in a new Python
(:mod:`.store_probe`) whose peak resident memory (``VmHWM``) is its own:

1. ``mt.sync(client, path, END - scale_days, by="user")`` into a fresh file, the client's now
   ``END``: wall seconds, calls, calls per second, peak memory and the file's size;
2. the next day's re-sync of the same file, the client's now ``END`` + 1 day: its calls must be
   the provisional days' (those that ended less than the settle period before ``END``) and the
   new day's, for every user;
3. the thread-pool baseline on every ``scale_baseline_every``-th user (the same calls for
   those users): calls per second, to set against the sync's;
4. the same sync for ``scale_small_users`` people, ``runs`` times (each into a fresh file),
   whose peak memory the big one's is compared with: a store that streams its answers in
   batches keeps its Python objects flat (the resident set also holds the blocks DuckDB keeps
   of the tables it writes, which grow with the rows).

From the measured rate it projects the sync of 2,000 users (calls = users x days). The other
parts run once: a run of the full size takes minutes.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import metrics_toolkit as mt
from metrics_toolkit._constants import DEFAULT_SETTLE_PERIOD, STORE_MEMORY_LIMIT
from metrics_toolkit.demo import DemoAPI, generate_enterprise

from .common import END, SEED, Sizes
from .harness import ScenarioResult
from .server_process import ServerProcess
from .store_probe import run_store_probe

__all__ = ["PROJECTED_USERS", "expected_resync_calls", "store_scale_scenario"]

MIB = 2**20
DAY = dt.timedelta(days=1)
#: The size the README's projection speaks of.
PROJECTED_USERS = 2000
#: DuckDB's memory while a sync writes, in MiB (``STORE_MEMORY_LIMIT``, in DuckDB's MB of
#: 10**6 bytes): the bound on what the big sync's peak may grow beyond the small one's. The
#: Python objects a sync holds stay flat (batches); DuckDB's cache of the table fills up to its
#: cap as the table grows (measured: at 146,400 calls a cap of 32 MB grows the peak by 34 MiB,
#: 64 MB by 61 MiB, 1 GB by 74 MiB), so a 5x longer history may add at most the cap.
DUCKDB_CAP_MIB = int(STORE_MEMORY_LIMIT.removesuffix("MB")) * 10**6 / 2**20


def expected_resync_calls(users: int, start: dt.datetime, first: dt.datetime) -> int:
    """Calls of a re-sync one day after a sync at ``first`` of the days from ``start``.

    Every day that had ended less than the settle period before ``first`` (provisional) is
    asked again, and the day that began at ``first`` is new; for each of ``users``.
    """
    days = int((first - start) / DAY)
    provisional = sum(
        1 for k in range(days) if start + (k + 1) * DAY > first - DEFAULT_SETTLE_PERIOD
    )
    return users * (provisional + 1)


def _sync(url: str, db: Path, start: dt.datetime, now: dt.datetime, sizes: Sizes) -> Any:
    return run_store_probe(
        "sync",
        f"--url={url}",
        f"--db={db}",
        f"--start={start.isoformat()}",
        f"--now={now.isoformat()}",
        f"--workers={sizes.workers}",
        bytecode_cache=sizes.bytecode_cache,
    )


def _store_sessions(db: Path, start: dt.datetime, ids: list[str] | None = None) -> int:
    """Sessions created in the store's daily rows from ``start`` to ``END`` (``ids``' only)."""
    frame = mt.Store(db, now=END).frame(start, END, "day", by="user")
    if ids is not None:
        frame = frame[frame["user_id"].isin(ids)]
    return int(frame["sessions_created_count"].sum())


def store_scale_scenario(sizes: Sizes, api: DemoAPI) -> ScenarioResult:
    """Scenario 9: the store's sync of ``scale_users`` x ``scale_days``, its re-sync a day
    later, the thread-pool baseline and the peak memory at two sizes.

    Parameters
    ----------
    sizes : Sizes
        ``scale_users``, ``scale_days``, ``scale_small_users``, ``scale_baseline_every``,
        ``workers`` and ``bytecode_cache`` are read; each part runs once.
    api : DemoAPI
        Unused: this scenario has an enterprise of its own size.

    Returns
    -------
    ScenarioResult
        Seconds, calls and calls per second of the sync, the re-sync and the baseline; peak
        memory (MiB) of each syncing process; the store's size; the projection to 2,000 users.
    """
    del api
    started = time.perf_counter()
    users, days = sizes.scale_users, sizes.scale_days
    start = END - days * DAY
    resync_now = END + DAY
    calls = users * days
    enterprise = generate_enterprise(seed=SEED, end=resync_now, users=users)
    ids = [user.user_id for user in enterprise.users]
    sample = ids[:: sizes.scale_baseline_every]
    result = ScenarioResult(
        9,
        f"store sync of {users} users x {days} days",
        f"demo enterprise of {users} people, loopback server at 0 ms, every answer computed "
        f"afresh; mt.sync(by='user', workers={sizes.workers} where sync takes it) into a fresh "
        f"DuckDB file in a new process, client now {END:%Y-%m-%d}, then {resync_now:%Y-%m-%d} "
        f"for the re-sync; thread pool of {sizes.workers} sessions on one user in "
        f"{sizes.scale_baseline_every} ({len(sample)} users); "
        f"peak memory also at {sizes.scale_small_users} users ({sizes.runs} runs); "
        "the rest once",
    )
    simulator = DemoAPI(enterprise)
    start_ts, end_ts = int(start.timestamp()), int(END.timestamp())
    with tempfile.TemporaryDirectory(prefix="metrics-bench-store-") as scratch:
        db = Path(scratch) / "history.duckdb"
        with ServerProcess(
            end=resync_now, seed=SEED, latency=0.0, users=users, keep_answers=False
        ) as server:
            sync = _sync(server.url, db, start, END, sizes)
            store_bytes = sum(path.stat().st_size for path in Path(scratch).glob("history.*"))
            stored = _store_sessions(db, start)
            resync = _sync(server.url, db, start, resync_now, sizes)
            pool = run_store_probe(
                "pool",
                f"--url={server.url}",
                f"--db={Path(scratch) / 'pool.duckdb'}",
                f"--start={start.isoformat()}",
                f"--days={days}",
                f"--workers={sizes.workers}",
                f"--ids={','.join(sample)}",
                bytecode_cache=sizes.bytecode_cache,
            )
        small_users = sizes.scale_small_users
        with ServerProcess(
            end=resync_now, seed=SEED, latency=0.0, users=small_users, keep_answers=False
        ) as server:
            smalls = [
                _sync(server.url, Path(scratch) / f"small-{run}.duckdb", start, END, sizes)
                for run in range(sizes.runs)
            ]

    def sessions(user_ids: list[str]) -> int:
        counts = simulator.session_metrics(start_ts, end_ts, user_ids=user_ids)
        return int(counts["sessions_created_count"])

    expected = expected_resync_calls(users, start, END)
    result.checks["sync: one call and one row per (user, day)"] = (
        sync["calls"] == calls and sync["rows"] == calls
    )
    result.checks["the store's sessions == the simulator's"] = stored == sessions(ids)
    result.checks[f"the next day's re-sync asks {expected:,} calls (provisional days + new)"] = (
        resync["calls"] == expected
    )
    result.checks["the thread pool's sessions == the simulator's for its users"] = pool[
        "calls"
    ] == len(sample) * days and pool["sessions"] == sessions(sample)
    result.checks["the smaller sync: one call per (user, day)"] = all(
        small["calls"] == small_users * days for small in smalls
    )

    rate = sync["calls"] / sync["seconds"]
    pool_rate = pool["calls"] / pool["seconds"]
    growth = (sync["peak_bytes"] - sync["before_bytes"]) / MIB
    small_growths = [(small["peak_bytes"] - small["before_bytes"]) / MIB for small in smalls]
    result.add(
        "sync_seconds", f"sync of {calls:,} calls ({users} x {days})", "s", [sync["seconds"]]
    )
    result.add("sync_calls_per_second", "sync calls/s", "calls/s", [rate])
    result.add(
        "sync_cpu_per_call",
        "sync CPU per call (the syncing process)",
        "µs",
        [sync["cpu_seconds"] / sync["calls"] * 1e6],
    )
    result.add(
        "sync_peak_mib",
        "sync: peak RSS of the process (VmHWM)",
        "MiB",
        [sync["peak_bytes"] / MIB],
    )
    result.add(
        "sync_growth_mib", f"sync: peak RSS above before the sync, {users} users", "MiB", [growth]
    )
    small_growth = result.add(
        "small_growth_mib",
        f"sync: peak RSS above before the sync, {small_users} users",
        "MiB",
        small_growths,
    ).median
    result.add("store_mib", "store file size", "MiB", [store_bytes / MIB])
    result.add("resync_calls", "next day's re-sync: calls", "calls", [resync["calls"]])
    result.add("resync_seconds", "next day's re-sync", "s", [resync["seconds"]])
    result.add(
        "pool_calls_per_second",
        f"thread pool + DataFrame + DuckDB, {len(sample)} users: calls/s",
        "calls/s",
        [pool_rate],
    )
    result.add(
        "pool_peak_mib", "thread pool: peak RSS of the process", "MiB", [pool["peak_bytes"] / MIB]
    )
    projected_calls = PROJECTED_USERS * days
    result.add(
        "projected_minutes",
        f"projection: {PROJECTED_USERS:,} users x {days} days ({projected_calls:,} calls)",
        "min",
        [projected_calls / rate / 60],
    )
    result.judge(
        "sync_over_pool", "store sync calls/s vs thread pool", rate / pool_rate, 1.0, at_least=True
    )
    result.add(
        "memory_ratio",
        f"sync peak memory growth, {users} / {small_users} users",
        "x",
        [growth / small_growth if small_growth > 0 else float("nan")],
    )
    result.judge(
        "memory_bounded",
        f"sync peak memory growth, {users} minus {small_users} users",
        growth - small_growth,
        DUCKDB_CAP_MIB,
        at_least=False,
        unit="MiB",
    )
    result.notes.append(
        f"the thread pool asked for one user in {sizes.scale_baseline_every} only "
        f"({len(sample) * days:,} of {calls:,} calls); sync passed "
        f"{', '.join(sync['options']) or 'no worker count (this sync takes none)'}"
    )
    projected_resync = expected_resync_calls(PROJECTED_USERS, start, END)
    result.notes.append(
        f"projection to {PROJECTED_USERS:,} users x {days} days: {projected_calls:,} calls, "
        f"{projected_calls / rate / 60:.1f} min at the {rate:,.0f} calls/s measured; the next "
        f"day's re-sync {projected_resync:,} calls, "
        f"{projected_resync / (resync['calls'] / resync['seconds']):.0f} s at its measured rate; "
        f"a store of about {store_bytes / MIB * PROJECTED_USERS / users:.0f} MiB (rows grow "
        f"with users x days); peak memory growth {small_growth:.0f} MiB at {small_users} users, "
        f"{growth:.0f} MiB at {users}: at most {small_growth + DUCKDB_CAP_MIB:.0f} MiB at any "
        f"size, DuckDB's cache being capped at {STORE_MEMORY_LIMIT}"
    )
    result.seconds = time.perf_counter() - started
    return result
