"""Scenario 5, a breakdown by organization: 20 orgs x 52 weekly buckets at 20 ms per call.

The demo enterprise has fewer organizations than 20; made-up org ids (answered with zeros)
pad the directory's. The toolkit (``by="org"``, a fresh ``cache_dir`` per run) and the thread
pool (the same calls, the same frame) are each compared with the floor
``ceil(calls / workers) x latency``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tempfile
import time
from pathlib import Path

import pandas as pd

from metrics_toolkit import fetch_series, time_buckets
from metrics_toolkit.demo import DemoEnterprise
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH
from metrics_toolkit.directory import Directory

from .common import (
    END,
    MADE_UP_IDS,
    SEED,
    Sizes,
    breakdown_ids,
    breakdown_queries,
    frames_equal,
    make_client,
    thread_pool_frame,
)
from .harness import ScenarioResult, timed
from .server_process import ServerProcess

__all__ = ["orgs_scenario"]


def orgs_scenario(sizes: Sizes, enterprise: DemoEnterprise) -> ScenarioResult:
    """Scenario 5: ``orgs x org_weeks`` calls at ``org_latency`` seconds per call.

    Parameters
    ----------
    sizes : Sizes
        ``orgs``, ``org_weeks``, ``org_latency`` (seconds), ``workers`` and ``runs`` are read.
    enterprise : DemoEnterprise
        The directory the organization ids come from.

    Returns
    -------
    ScenarioResult
        Wall seconds of the toolkit (cold cache) and of the thread pool, the floor, and the
        target toolkit / floor.
    """
    started = time.perf_counter()
    ids = breakdown_ids(enterprise, sizes.orgs, "org")
    prefix = MADE_UP_IDS["org"].split("{")[0]
    made_up = [org_id for org_id in ids if org_id.startswith(prefix)]
    start = END - dt.timedelta(weeks=sizes.org_weeks)
    buckets = time_buckets(start, END, "week", now=END)
    calls = len(ids) * len(buckets)
    floor = math.ceil(calls / sizes.workers) * sizes.org_latency
    ms = f"{sizes.org_latency * 1000:g} ms"
    result = ScenarioResult(
        5,
        f"breakdown by org: {len(ids)} orgs x {len(buckets)} weekly buckets, {ms} latency",
        f"{calls} calls: {len(ids) - len(made_up)} directory orgs + {len(made_up)} made-up ids x "
        f"{len(buckets)} ISO weeks, server latency {ms}, toolkit (by='org', default settings, "
        f"fresh cache_dir per run) and thread pool with workers={sizes.workers}",
    )
    queries = breakdown_queries(buckets, ids, "org")
    fetch = functools.partial(
        fetch_series,
        start=start,
        end=END,
        freq="week",
        by="org",
        ids=ids,
        workers=sizes.workers,
        progress=False,
        directory=Directory(),  # the ids as given (made-up ones too): no directory read
        allow_unknown_ids=True,
    )
    pool_times: list[float] = []
    cold_times: list[float] = []
    sent: list[int] = []
    with (
        ServerProcess(end=END, seed=SEED, latency=sizes.org_latency) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        url = server.url + SESSION_METRICS_PATH
        for run in range(sizes.runs):
            before = server.request_count
            seconds, pool_frame = timed(
                functools.partial(
                    thread_pool_frame, url, buckets, queries, sizes.workers, ids=ids, kind="org"
                )
            )
            pool_times.append(seconds)
            sent.append(server.request_count - before)
            with make_client(server.url, Path(scratch) / f"run-{run}") as client:
                before = server.request_count
                seconds, frame = timed(functools.partial(fetch, client))
                cold_times.append(seconds)
                sent.append(server.request_count - before)
            if run == 0:
                result.checks["toolkit frame == thread pool's frame"] = frames_equal(
                    frame, pool_frame
                )
                result.checks["made-up orgs answer zeros"] = _zeros(frame, made_up)
    result.checks["every run sends one request per call"] = all(n == calls for n in sent)

    cold = result.add(
        "cold_seconds", f"toolkit, cold cache, {sizes.workers} workers", "s", cold_times
    )
    pool = result.add(
        "pool_seconds", f"thread pool, {sizes.workers} sessions, + wide frame", "s", pool_times
    )
    result.add("floor_seconds", f"floor: ceil({calls}/{sizes.workers}) x {ms}", "s", [floor])
    result.add("pool_over_floor", "thread pool / floor", "x", [pool.median / floor])
    result.add("cold_over_pool", "toolkit cold / thread pool", "x", [cold.median / pool.median])
    result.judge(
        "cold_over_floor", "toolkit cold / floor", cold.median / floor, 1.10, at_least=False
    )
    result.seconds = time.perf_counter() - started
    return result


def _zeros(frame: pd.DataFrame, org_ids: list[str]) -> bool:
    """Every made-up org is in the frame, with no session."""
    rows = frame[frame["org_id"].isin(org_ids)]
    return set(rows["org_id"]) == set(org_ids) and bool(rows["sessions_created_count"].eq(0).all())
