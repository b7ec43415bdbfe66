"""Scenario 1, latency: a year of daily buckets from a server that waits 50 ms per call.

(a) a sequential plain loop; (d) the competent baseline, a thread pool of ``workers`` sessions;
(b) the toolkit with a cold cache; (c) warm, same client; (c') warm, a new client on the same
``cache_dir``; (e) warm, a new Python process on the same ``cache_dir`` (the fetch call alone,
timed inside that process).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tempfile
import time
from pathlib import Path

import pandas as pd
import requests

from metrics_toolkit import fetch_series, time_buckets
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH

from .common import (
    END,
    SEED,
    Sizes,
    bucket_query,
    expected_frame,
    frames_equal,
    make_client,
    plain_loop,
    thread_pool_frame,
)
from .harness import ScenarioResult, timed
from .probe import run_probe
from .server_process import ServerProcess

__all__ = ["latency_scenario"]


def latency_scenario(sizes: Sizes) -> ScenarioResult:
    """Scenario 1: daily buckets at ``sizes.latency`` per call.

    Parameters
    ----------
    sizes : Sizes
        ``days``, ``latency`` (seconds), ``workers``, ``runs``, ``baseline_runs``,
        ``warm_repeats`` and ``new_process_repeats`` are read.

    Returns
    -------
    ScenarioResult
        Wall seconds of each variant (the warm ones in ms), the floor
        ``ceil(days / workers) x latency``, and the targets against the thread pool and the floor.
    """
    started = time.perf_counter()
    start = END - dt.timedelta(days=sizes.days)
    buckets = time_buckets(start, END, "day", now=END)
    calls = len(buckets)
    floor = math.ceil(calls / sizes.workers) * sizes.latency
    result = ScenarioResult(
        1,
        f"{calls} daily buckets, {sizes.latency * 1000:g} ms latency per call",
        f"{calls} calls, server latency {sizes.latency * 1000:g} ms, toolkit and thread pool "
        f"workers={sizes.workers}, default settings, cache in a fresh directory per run; "
        f"{sizes.warm_repeats} warm fetches per run, (c') each with a new client; "
        f"(e) {sizes.new_process_repeats} per run, each in a new process, fetch call timed alone",
    )
    fetch = functools.partial(
        fetch_series, start=start, end=END, freq="day", workers=sizes.workers, progress=False
    )
    queries = [bucket_query(bucket) for bucket in buckets]
    times: dict[str, list[float]] = {
        name: [] for name in ("plain", "pool", "cold", "warm", "reopened", "process")
    }
    sent: dict[str, list[int]] = {name: [] for name in ("cold", "warm", "reopened", "process")}
    frames: dict[str, pd.DataFrame] = {}
    process_calls_from_cache: list[bool] = []
    with (
        ServerProcess(end=END, seed=SEED, latency=sizes.latency) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        url = server.url + SESSION_METRICS_PATH

        def count(name: str, before: int) -> None:
            sent[name].append(server.request_count - before)

        for run in range(sizes.runs):
            if run < max(1, sizes.baseline_runs):
                with requests.Session() as session:
                    seconds, answers = timed(functools.partial(plain_loop, session, url, queries))
                times["plain"].append(seconds)
                if run == 0:
                    frames["plain"] = expected_frame(buckets, answers)
            seconds, frames["pool"] = timed(
                functools.partial(thread_pool_frame, url, buckets, queries, sizes.workers)
            )
            times["pool"].append(seconds)
            cache_dir = Path(scratch) / f"run-{run}"
            with make_client(server.url, cache_dir) as client:
                before = server.request_count
                seconds, frames["cold"] = timed(functools.partial(fetch, client))
                times["cold"].append(seconds)
                count("cold", before)
                for _ in range(sizes.warm_repeats):
                    before = server.request_count
                    seconds, frames["warm"] = timed(functools.partial(fetch, client))
                    times["warm"].append(seconds * 1000)
                    count("warm", before)
            for _ in range(sizes.warm_repeats):
                with make_client(server.url, cache_dir) as client:
                    before = server.request_count
                    seconds, frames["reopened"] = timed(functools.partial(fetch, client))
                times["reopened"].append(seconds * 1000)
                count("reopened", before)
            for repeat in range(sizes.new_process_repeats):
                pickled = Path(scratch) / f"process-{run}-{repeat}.pkl"
                before = server.request_count
                report = run_probe(
                    "warm",
                    f"--url={server.url}",
                    f"--cache-dir={cache_dir}",
                    f"--days={sizes.days}",
                    f"--workers={sizes.workers}",
                    f"--frame={pickled}",
                    bytecode_cache=sizes.bytecode_cache,
                )
                count("process", before)
                times["process"].append(report["seconds"] * 1000)
                process_calls_from_cache.append(
                    report["from_cache"] == calls and report["requests"] == 0
                )
                frames["process"] = pd.read_pickle(pickled)
            if run == 0:
                for name, what in (
                    ("pool", "thread pool"),
                    ("cold", "cold"),
                    ("warm", "warm"),
                    ("reopened", "reopened-cache"),
                    ("process", "new-process"),
                ):
                    if name in frames:
                        result.checks[f"{what} frame == plain loop's frame"] = frames_equal(
                            frames[name], frames["plain"]
                        )
    result.checks["cold run sends one request per bucket"] = all(n == calls for n in sent["cold"])
    result.checks["warm runs send no request"] = not any(sent["warm"] + sent["reopened"])
    result.checks["new process: no request, every bucket from the cache"] = not any(
        sent["process"]
    ) and all(process_calls_from_cache)
    _report(result, sizes, calls, floor, times, sent)
    result.seconds = time.perf_counter() - started
    return result


def _report(
    result: ScenarioResult,
    sizes: Sizes,
    calls: int,
    floor: float,
    times: dict[str, list[float]],
    sent: dict[str, list[int]],
) -> None:
    a = result.add("plain_seconds", "(a) plain loop, sequential Session.get", "s", times["plain"])
    result.add(
        "plain_per_call",
        "(a) per call (latency + round trip)",
        "ms",
        [s / calls * 1000 for s in times["plain"]],
    )
    d = result.add(
        "pool_seconds",
        f"(d) thread pool, {sizes.workers} sessions, + wide frame",
        "s",
        times["pool"],
    )
    b = result.add(
        "cold_seconds", f"(b) toolkit, cold cache, {sizes.workers} workers", "s", times["cold"]
    )
    result.add(
        "floor_seconds",
        f"floor: ceil({calls}/{sizes.workers}) x {sizes.latency * 1000:g} ms",
        "s",
        [floor],
    )
    result.add("pool_over_floor", "(d)/floor: thread pool vs floor", "x", [d.median / floor])
    c = result.add("warm_seconds", "(c) toolkit, warm cache, same client", "ms", times["warm"])
    result.add("warm_requests", "(c) requests the server received", "requests", sent["warm"])
    result.add(
        "reopened_seconds",
        "(c') warm cache, new client on the same cache_dir",
        "ms",
        times["reopened"],
    )
    result.add(
        "reopened_requests", "(c') requests the server received", "requests", sent["reopened"]
    )
    e = result.add(
        "process_seconds",
        "(e) warm cache, new process: the fetch call alone",
        "ms",
        times["process"],
    )
    result.add("process_requests", "(e) requests the server received", "requests", sent["process"])
    result.judge(
        "cold_over_pool",
        "(b)/(d): toolkit cold vs thread pool",
        b.median / d.median,
        1.0,
        at_least=False,
    )
    result.judge("cold_over_floor", "(b)/floor", b.median / floor, 1.05, at_least=False)
    result.judge(
        "plain_over_cold",
        "(a)/(b): toolkit cold vs plain loop",
        a.median / b.median,
        6.0,
        at_least=True,
    )
    result.judge(
        "cold_over_warm", "(b)/(c): warm vs cold", b.median / (c.median / 1000), 50.0, at_least=True
    )
    result.judge(
        "warm_requests",
        "(c) requests during the warm run",
        max(sent["warm"]),
        0,
        at_least=False,
        unit="requests",
    )
    result.judge(
        "process_ms", "(e) warm fetch in a new process", e.median, 30.0, at_least=False, unit="ms"
    )
