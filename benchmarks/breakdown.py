"""Scenario 2, breakdown: users x weekly buckets at 0 ms latency, the client's machinery alone.

Calls per second and CPU per call (``time.process_time`` of this process, every thread, frame
building included) of a plain loop, the thread pool, and the toolkit with the cache off
(``workers`` and 1 worker) and on (cold). The server runs in a child process, so its CPU is not
counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import statistics
import tempfile
import time
from pathlib import Path

import requests

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
    expected_frame,
    frames_equal,
    make_client,
    plain_loop,
    round_trip_seconds,
    thread_pool_frame,
    timed_cpu,
)
from .harness import ScenarioResult
from .server_process import ServerProcess

__all__ = ["STALL_SECONDS", "breakdown_scenario"]

#: A round trip slower than this at 0 ms latency is a server stall, not the client's work.
STALL_SECONDS = 0.02
STALL_NOTE = (
    "the demo server took {ms:.0f} ms per request at 0 ms latency (a stall of ~40 ms per "
    "response: Nagle's algorithm on the server socket meeting the client's delayed ACK; see "
    "BENCHMARKS.md). Scenario 2 measures the client's machinery and would only measure that "
    "stall (and take minutes), so it was skipped; its targets show n/a."
)


def breakdown_scenario(sizes: Sizes, enterprise: DemoEnterprise) -> ScenarioResult:
    """Scenario 2: ``users x weeks`` calls at 0 ms latency.

    Parameters
    ----------
    sizes : Sizes
        ``users``, ``weeks``, ``workers`` and ``runs`` are read.
    enterprise : DemoEnterprise
        The directory the user ids come from.

    Returns
    -------
    ScenarioResult
        Calls per second and CPU microseconds per call of each variant; targets: the toolkit
        (cache off) against the plain loop, and the CPU per call of a cold cache against no cache.
    """
    started = time.perf_counter()
    ids = breakdown_ids(enterprise, sizes.users)
    prefix = MADE_UP_IDS["user"].split("{")[0]
    made_up = sum(1 for user_id in ids if user_id.startswith(prefix))
    start = END - dt.timedelta(weeks=sizes.weeks)
    buckets = time_buckets(start, END, "week", now=END)
    calls = len(ids) * len(buckets)
    result = ScenarioResult(
        2,
        f"breakdown: {len(ids)} users x {len(buckets)} weekly buckets, 0 ms latency",
        f"{calls} calls: {len(ids) - made_up} directory users + {made_up} made-up ids x "
        f"{len(buckets)} ISO weeks; server in a child process; CPU = time.process_time of "
        "this process (all threads)",
    )
    queries = breakdown_queries(buckets, ids, "user")
    fetch = functools.partial(
        fetch_series,
        start=start,
        end=END,
        freq="week",
        by="user",
        ids=ids,
        progress=False,
        directory=Directory(),  # the ids as given (made-up ones too): no directory read
        allow_unknown_ids=True,
    )
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    requests_sent: dict[str, list[int]] = {}

    def record(name: str, seconds: float, cpu_seconds: float, sent: int) -> None:
        wall.setdefault(name, []).append(seconds)
        cpu.setdefault(name, []).append(cpu_seconds)
        requests_sent.setdefault(name, []).append(sent)

    toolkit_runs = {
        "toolkit": (None, sizes.workers),
        "toolkit_one_worker": (None, 1),
        "toolkit_cached": ("cache", sizes.workers),
    }
    with (
        ServerProcess(end=END, seed=SEED, latency=0.0) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        url = server.url + SESSION_METRICS_PATH
        round_trip = round_trip_seconds(url, queries[0])
        result.add("round_trip", "server round trip at 0 ms latency", "ms", [round_trip * 1000])
        stalled = round_trip > STALL_SECONDS
        if stalled:
            result.notes.append(STALL_NOTE.format(ms=round_trip * 1000))
        for run in range(0 if stalled else sizes.runs):
            before = server.request_count
            with requests.Session() as session:
                seconds, cpu_seconds, answers = timed_cpu(
                    functools.partial(plain_loop, session, url, queries)
                )
            record("plain", seconds, cpu_seconds, server.request_count - before)
            if run == 0:
                expected = expected_frame(buckets, answers, ids=ids)
            before = server.request_count
            seconds, cpu_seconds, frame = timed_cpu(
                functools.partial(thread_pool_frame, url, buckets, queries, sizes.workers, ids=ids)
            )
            record("pool", seconds, cpu_seconds, server.request_count - before)
            if run == 0:
                result.checks["thread pool frame == plain loop's frame"] = frames_equal(
                    frame, expected
                )
            for name, (cache, workers) in toolkit_runs.items():
                cache_dir = None if cache is None else Path(scratch) / f"{name}-{run}"
                with make_client(server.url, cache_dir) as client:
                    before = server.request_count
                    seconds, cpu_seconds, frame = timed_cpu(
                        functools.partial(fetch, client, workers=workers)
                    )
                record(name, seconds, cpu_seconds, server.request_count - before)
                if run == 0:
                    result.checks[f"{name} frame == plain loop's frame"] = frames_equal(
                        frame, expected
                    )
    if not stalled:
        result.checks["every run sends one request per call"] = all(
            n == calls for sent in requests_sent.values() for n in sent
        )
    _report(result, sizes, calls, wall, cpu)
    result.seconds = time.perf_counter() - started
    return result


def _report(
    result: ScenarioResult,
    sizes: Sizes,
    calls: int,
    wall: dict[str, list[float]],
    cpu: dict[str, list[float]],
) -> None:
    labels = {
        "plain": "plain loop, one Session",
        "pool": f"thread pool, {sizes.workers} sessions, + wide frame",
        "toolkit": f"toolkit, cache off, {sizes.workers} workers",
        "toolkit_one_worker": "toolkit, cache off, 1 worker",
        "toolkit_cached": f"toolkit, cache on (cold), {sizes.workers} workers",
    }

    def median(values: dict[str, list[float]], name: str) -> float:
        return statistics.median(values[name]) if name in values else math.nan

    for name, label in labels.items():
        if name in wall:
            result.add(
                f"{name}_calls_per_second",
                f"{label}: calls/s",
                "calls/s",
                [calls / seconds for seconds in wall[name]],
            )
    for name, label in labels.items():
        if name in cpu:
            result.add(
                f"{name}_cpu_per_call",
                f"{label}: CPU per call",
                "µs",
                [seconds / calls * 1e6 for seconds in cpu[name]],
            )
    result.judge(
        "toolkit_over_plain",
        "toolkit (cache off) calls/s vs plain loop",
        median(wall, "plain") / median(wall, "toolkit"),
        0.8,
        at_least=True,
    )
    result.judge(
        "cached_cpu_over_uncached",
        "CPU per call: toolkit cold cache / cache off",
        median(cpu, "toolkit_cached") / median(cpu, "toolkit"),
        1.3,
        at_least=False,
    )
