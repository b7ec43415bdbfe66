"""The four benchmark scenarios, each a function from sizes to a :class:`ScenarioResult`.

1. **Latency**: a year of daily buckets from a server that waits 50 ms per call. A plain
   sequential ``requests`` loop against the toolkit with a cold cache (8 workers) and again
   with a warm one.
2. **Breakdown**: 200 users x 13 weekly buckets (2,600 calls) at 0 ms latency: the toolkit's
   machinery (calls per second, CPU per call) against a plain loop over one ``requests.Session``.
3. **Frames**: 10,000 answers into the wide frame and the long frame.
4. **Simulator**: one aggregation over the whole demo log, and its memory.

Every HTTP scenario talks to the demo server in a child process (:mod:`.server_process`), so the
server's CPU is neither in the client's GIL nor in its ``time.process_time``. The enterprise is
generated with a fixed end (a Monday, 00:00 UTC), which is also "now" for the simulator and for
the client, so every bucket is complete and cacheable and every run sees the same data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from metrics_toolkit import MetricsClient, fetch_series, long_frame, time_buckets, wide_frame
from metrics_toolkit.buckets import Bucket
from metrics_toolkit.demo import DEFAULT_SEED, DEMO_API_KEY, DemoAPI, DemoEnterprise
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH
from metrics_toolkit.frames import Row
from metrics_toolkit.models import SessionMetrics

from .harness import ScenarioResult, timed
from .server_process import ServerProcess

__all__ = [
    "END",
    "FULL",
    "QUICK",
    "SEED",
    "Sizes",
    "breakdown_ids",
    "breakdown_scenario",
    "expected_frame",
    "frames_equal",
    "frames_scenario",
    "latency_scenario",
    "plain_loop",
    "simulator_scenario",
]

#: End of the generated enterprise and the simulator's "now": a Monday, so weeks are whole.
END = dt.datetime(2025, 6, 2, tzinfo=dt.timezone.utc)
SEED = DEFAULT_SEED
#: Seconds a plain-loop request may take before it counts as failed.
REQUEST_TIMEOUT = 30.0
#: Made-up user ids (the server answers them with zeros) pad the directory's users.
MADE_UP_USER = "user-bench-{:04d}"
#: Requests timed to measure the server's round trip at 0 ms latency.
ROUND_TRIPS = 20
#: A round trip slower than this at 0 ms latency is a server stall, not the client's work.
STALL_SECONDS = 0.02
STALL_NOTE = (
    "the demo server took {ms:.0f} ms per request at 0 ms latency (a stall of ~40 ms per "
    "response: Nagle's algorithm on the server socket meeting the client's delayed ACK; see "
    "BENCHMARKS.md). Scenario 2 measures the client's machinery and would only measure that "
    "stall (and take minutes), so it was skipped; its target shows n/a."
)


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is and how often it is repeated."""

    days: int = 365
    """Scenario 1: daily buckets."""
    latency: float = 0.05
    """Scenario 1: seconds the server waits per call."""
    workers: int = 8
    """Scenarios 1 and 2: the toolkit's workers."""
    users: int = 200
    """Scenario 2: user ids (the directory's, then made-up ones)."""
    weeks: int = 13
    """Scenario 2: weekly buckets."""
    frame_groups: int = 200
    """Scenario 3: groups (users) of the frame."""
    frame_weeks: int = 50
    """Scenario 3: weekly buckets per group (groups x weeks answers)."""
    simulator_calls: int = 300
    """Scenario 4: aggregations timed per variant."""
    runs: int = 3
    """Runs per measurement (the median is reported)."""
    baseline_runs: int = 3
    """Runs of scenario 1's plain loop (at most ``runs``; it is the slowest part)."""
    warm_repeats: int = 5
    """Scenario 1: warm fetches per run (they take milliseconds, so one hiccup of a busy
    machine would move a median of three)."""


#: The full benchmark (``python -m benchmarks``).
FULL = Sizes()
#: Small sizes, one run: checks that every scenario works (``--quick``, the test suite).
QUICK = Sizes(
    days=16,
    latency=0.01,
    users=12,
    weeks=3,
    frame_groups=20,
    frame_weeks=10,
    simulator_calls=20,
    runs=1,
    baseline_runs=1,
    warm_repeats=2,
)


# -- shared pieces -------------------------------------------------------------------------------


def plain_loop(
    session: requests.Session, url: str, queries: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The baseline: one ``GET`` after the other on one session, each body parsed to a dict."""
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}", "Accept": "application/json"}
    answers = []
    for query in queries:
        response = session.get(url, params=query, headers=headers, timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        answers.append(response.json())
    return answers


def expected_frame(
    buckets: Sequence[Bucket],
    answers: Sequence[dict[str, Any]],
    *,
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The wide frame the toolkit should return, built from the plain loop's answers.

    With ``ids`` the answers are per user, users outer and buckets inner (as the toolkit plans).
    """
    groups: Sequence[str | None] = [None] if ids is None else ids
    keys = [(group, bucket) for group in groups for bucket in buckets]
    rows = [
        Row(bucket, group, SessionMetrics.model_validate(answer))
        for (group, bucket), answer in zip(keys, answers, strict=True)
    ]
    return wide_frame(rows, group_by=None if ids is None else "user")


def frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """Same index, columns, dtypes and values (``attrs`` ignored)."""
    try:
        pd.testing.assert_frame_equal(left, right)
    except AssertionError:
        return False
    return True


def breakdown_ids(enterprise: DemoEnterprise, count: int) -> list[str]:
    """``count`` user ids: the directory's first, then made-up ones (answered with zeros)."""
    ids = [user.user_id for user in enterprise.users[:count]]
    return ids + [MADE_UP_USER.format(i) for i in range(count - len(ids))]


def _bucket_query(bucket: Bucket, **filters: Any) -> dict[str, Any]:
    return {"time_after": bucket.time_after, "time_before": bucket.time_before, **filters}


def round_trip_seconds(url: str, query: dict[str, Any], count: int = ROUND_TRIPS) -> float:
    """Median seconds of ``count`` sequential requests on one session (after one to connect)."""
    with requests.Session() as session:
        plain_loop(session, url, [query])
        times = [
            timed(functools.partial(plain_loop, session, url, [query]))[0] for _ in range(count)
        ]
    return statistics.median(times)


def _timed_cpu(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and CPU seconds (every thread of this process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _client(server_url: str, cache_dir: Path | None) -> MetricsClient:
    """The toolkit's client as a user would make it; no cache when ``cache_dir`` is None."""
    if cache_dir is None:
        return MetricsClient(DEMO_API_KEY, base_url=server_url, cache=False, now=END)
    return MetricsClient(DEMO_API_KEY, base_url=server_url, cache_dir=cache_dir, now=END)


# -- 1. latency -----------------------------------------------------------------------------------


def latency_scenario(sizes: Sizes) -> ScenarioResult:
    """Scenario 1: daily buckets at ``sizes.latency`` per call, sequential vs cold vs warm."""
    started = time.perf_counter()
    start = END - dt.timedelta(days=sizes.days)
    buckets = time_buckets(start, END, "day", now=END)
    calls = len(buckets)
    floor = math.ceil(calls / sizes.workers) * sizes.latency
    result = ScenarioResult(
        1,
        f"{calls} daily buckets, {sizes.latency * 1000:g} ms latency per call",
        f"{calls} calls, server latency {sizes.latency * 1000:g} ms, toolkit workers="
        f"{sizes.workers}, default settings, cache in a fresh directory per run; "
        f"{sizes.warm_repeats} warm fetches per run, (c') each with a new client",
    )
    fetch = functools.partial(fetch_series, start=start, end=END, freq="day", progress=False)
    queries = [_bucket_query(bucket) for bucket in buckets]
    plain, cold, warm, reopened = [], [], [], []
    cold_requests, warm_requests, reopened_requests = [], [], []
    with (
        ServerProcess(end=END, seed=SEED, latency=sizes.latency) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        url = server.url + SESSION_METRICS_PATH
        for run in range(sizes.runs):
            if run < max(1, sizes.baseline_runs):
                with requests.Session() as session:
                    seconds, answers = timed(functools.partial(plain_loop, session, url, queries))
                plain.append(seconds)
                if run == 0:
                    expected = expected_frame(buckets, answers)
            cache_dir = Path(scratch) / f"run-{run}"
            with _client(server.url, cache_dir) as client:
                before = server.request_count
                seconds, cold_frame = timed(functools.partial(fetch, client, workers=sizes.workers))
                cold.append(seconds)
                cold_requests.append(server.request_count - before)
                for _ in range(sizes.warm_repeats):
                    before = server.request_count
                    seconds, warm_frame = timed(
                        functools.partial(fetch, client, workers=sizes.workers)
                    )
                    warm.append(seconds)
                    warm_requests.append(server.request_count - before)
            for _ in range(sizes.warm_repeats):
                with _client(server.url, cache_dir) as client:
                    before = server.request_count
                    seconds, reopened_frame = timed(
                        functools.partial(fetch, client, workers=sizes.workers)
                    )
                reopened.append(seconds)
                reopened_requests.append(server.request_count - before)
            if run == 0:
                result.checks["cold frame == plain loop's frame"] = frames_equal(
                    cold_frame, expected
                )
                result.checks["warm frame == plain loop's frame"] = frames_equal(
                    warm_frame, expected
                )
                result.checks["reopened-cache frame == plain loop's frame"] = frames_equal(
                    reopened_frame, expected
                )
    result.checks["cold run sends one request per bucket"] = all(n == calls for n in cold_requests)
    result.checks["warm runs send no request"] = not any(warm_requests + reopened_requests)

    a = result.add("plain_seconds", "(a) plain loop, sequential Session.get", "s", plain)
    result.add(
        "plain_per_call",
        "(a) per call (latency + round trip)",
        "ms",
        [s / calls * 1000 for s in plain],
    )
    b = result.add("cold_seconds", f"(b) toolkit, cold cache, {sizes.workers} workers", "s", cold)
    result.add(
        "floor_seconds",
        f"floor: ceil({calls}/{sizes.workers}) x {sizes.latency * 1000:g} ms",
        "s",
        [floor],
    )
    c = result.add(
        "warm_seconds", "(c) toolkit, warm cache, same client", "ms", [s * 1000 for s in warm]
    )
    result.add("warm_requests", "(c) requests the server received", "requests", warm_requests)
    result.add(
        "reopened_seconds",
        "(c') warm cache, new client on the same cache_dir",
        "ms",
        [s * 1000 for s in reopened],
    )
    result.add(
        "reopened_requests", "(c') requests the server received", "requests", reopened_requests
    )
    result.judge(
        "plain_over_cold",
        "(a)/(b): toolkit cold vs plain loop",
        a.median / b.median,
        6.0,
        at_least=True,
    )
    result.judge("cold_over_floor", "(b)/floor", b.median / floor, 1.3, at_least=False)
    result.judge(
        "cold_over_warm", "(b)/(c): warm vs cold", b.median / (c.median / 1000), 50.0, at_least=True
    )
    result.judge(
        "warm_requests",
        "(c) requests during the warm run",
        max(warm_requests),
        0,
        at_least=False,
        unit="requests",
    )
    result.seconds = time.perf_counter() - started
    return result


# -- 2. breakdown ----------------------------------------------------------------------------------


def breakdown_scenario(sizes: Sizes, enterprise: DemoEnterprise) -> ScenarioResult:
    """Scenario 2: users x weeks at 0 ms latency; the toolkit's machinery vs a plain loop."""
    started = time.perf_counter()
    ids = breakdown_ids(enterprise, sizes.users)
    made_up = sum(1 for user_id in ids if user_id.startswith("user-bench-"))
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
    queries = [_bucket_query(bucket, user_ids=[user_id]) for user_id in ids for bucket in buckets]
    fetch = functools.partial(
        fetch_series, start=start, end=END, freq="week", by="user", ids=ids, progress=False
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
                seconds, cpu_seconds, answers = _timed_cpu(
                    functools.partial(plain_loop, session, url, queries)
                )
            record("plain", seconds, cpu_seconds, server.request_count - before)
            if run == 0:
                expected = expected_frame(buckets, answers, ids=ids)
            for name, (cache, workers) in toolkit_runs.items():
                cache_dir = None if cache is None else Path(scratch) / f"{name}-{run}"
                with _client(server.url, cache_dir) as client:
                    before = server.request_count
                    seconds, cpu_seconds, frame = _timed_cpu(
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

    labels = {
        "plain": "plain loop, one Session",
        "toolkit": f"toolkit, cache off, {sizes.workers} workers",
        "toolkit_one_worker": "toolkit, cache off, 1 worker",
        "toolkit_cached": f"toolkit, cache on (cold), {sizes.workers} workers",
    }
    rates = {
        name: calls / statistics.median(wall[name]) if name in wall else math.nan for name in labels
    }
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
        rates["toolkit"] / rates["plain"],
        0.8,
        at_least=True,
    )
    result.seconds = time.perf_counter() - started
    return result


# -- 3. frames ------------------------------------------------------------------------------------


def answer_rows(api: DemoAPI, groups: int, weeks: int) -> list[Row]:
    """``groups x weeks`` answers from the simulator (in process), as a breakdown by user."""
    buckets = time_buckets(END - dt.timedelta(weeks=weeks), END, "week", now=END)
    rows = []
    for user_id in breakdown_ids(api.enterprise, groups):
        for bucket in buckets:
            answer = api.session_metrics(bucket.time_after, bucket.time_before, user_ids=[user_id])
            rows.append(Row(bucket, user_id, SessionMetrics.model_validate(answer)))
    return rows


def frames_scenario(sizes: Sizes, api: DemoAPI) -> ScenarioResult:
    """Scenario 3: answers -> ``wide_frame`` -> ``long_frame``."""
    started = time.perf_counter()
    rows = answer_rows(api, sizes.frame_groups, sizes.frame_weeks)
    count = len(rows)
    result = ScenarioResult(
        3,
        f"frames from {count:,} answers",
        f"{sizes.frame_groups} users x {sizes.frame_weeks} weeks of SessionMetrics from the "
        "simulator, as a breakdown by user (group_by='user')",
    )
    wide_times, long_times = [], []
    for run in range(sizes.runs):
        seconds, wide = timed(functools.partial(wide_frame, rows, group_by="user"))
        wide_times.append(seconds)
        seconds, tidy = timed(functools.partial(long_frame, wide))
        long_times.append(seconds)
        if run == 0:
            sessions = sum(row.metrics.sessions_created_count for row in rows if row.metrics)
            result.checks["wide frame: one row per answer"] = len(wide) == count
            result.checks["wide frame: sessions add up"] = (
                int(wide["sessions_created_count"].sum()) == sessions
            )
            per_answer = tidy.groupby(["user_id", "bucket_start"]).size()
            result.checks["long frame: same metrics for every answer"] = (
                len(per_answer) == count and per_answer.nunique() == 1
            )
    wide_median = result.add("wide_seconds", f"wide_frame, {count:,} answers", "s", wide_times)
    long_median = result.add("long_seconds", "long_frame of that wide frame", "s", long_times)
    result.judge(
        "wide_seconds",
        f"wide_frame for {count:,}",
        wide_median.median,
        0.5,
        at_least=False,
        unit="s",
    )
    result.judge(
        "long_seconds",
        f"long_frame for {count:,}",
        long_median.median,
        0.5,
        at_least=False,
        unit="s",
    )
    result.seconds = time.perf_counter() - started
    return result


# -- 4. simulator ---------------------------------------------------------------------------------


def simulator_variants(enterprise: DemoEnterprise) -> dict[str, dict[str, Any]]:
    """The filters of scenario 4: none, one organization, 20 users and a playbook."""
    return {
        "no filter": {},
        "org_ids (1 org)": {"org_ids": [enterprise.organizations[0].org_id]},
        "user_ids (20) + playbook_id": {
            "user_ids": [user.user_id for user in enterprise.users[:20]],
            "playbook_id": enterprise.playbooks[0].playbook_id,
        },
    }


def simulator_scenario(sizes: Sizes, api: DemoAPI) -> ScenarioResult:
    """Scenario 4: ``DemoAPI.session_metrics`` over the whole log: time and memory."""
    started = time.perf_counter()
    enterprise = api.enterprise
    log = enterprise.sessions
    log_bytes = sum(getattr(log, f.name).nbytes for f in dataclasses.fields(log))
    result = ScenarioResult(
        4,
        f"simulator: one aggregation over the whole log ({len(log):,} sessions)",
        f"DemoAPI.session_metrics(start, end) over the full {len(log):,}-session year, "
        f"{sizes.simulator_calls} calls per variant, each timed alone",
    )
    window = (enterprise.start, enterprise.end)
    result.add("log_mib", "session log arrays (nbytes)", "MiB", [log_bytes / 2**20])
    for name, filters in simulator_variants(enterprise).items():
        aggregate = functools.partial(api.session_metrics, *window, **filters)
        aggregate()  # warm up
        times = [timed(aggregate)[0] * 1000 for _ in range(sizes.simulator_calls)]
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            aggregate()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        slug = name.split(" ")[0].replace("_ids", "")
        median = result.add(f"{slug}_ms", f"{name}: time per call", "ms", times)
        result.add(f"{slug}_peak_kib", f"{name}: tracemalloc peak", "KiB", [peak / 1024])
        result.judge(
            f"{slug}_ms", f"aggregation, {name}", median.median, 1.0, at_least=False, unit="ms"
        )
    total = api.session_metrics(*window)["sessions_created_count"]
    result.checks["unfiltered count == sessions in the log"] = total == len(log)
    result.seconds = time.perf_counter() - started
    return result
