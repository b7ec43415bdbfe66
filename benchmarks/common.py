"""What the scenarios share: the fixed enterprise, the sizes, the baselines and the checks.

Two baselines stand beside the toolkit:

- :func:`plain_loop`: one ``GET`` after the other on one ``requests.Session``;
- :func:`thread_pool_loop`: what a competent user writes by hand, a
  ``concurrent.futures.ThreadPoolExecutor`` with one ``requests.Session`` per thread
  (``threading.local``), the toolkit's worker count, each body parsed with ``.json()``.
  :func:`thread_pool_frame` adds the wide frame the toolkit returns, so that both do the
  same work and the baseline's frame is checked against the toolkit's (:func:`frames_equal`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from metrics_toolkit import MetricsClient, wide_frame
from metrics_toolkit.buckets import Bucket
from metrics_toolkit.demo import DEFAULT_SEED, DEMO_API_KEY, DemoEnterprise
from metrics_toolkit.frames import Row
from metrics_toolkit.models import SessionMetrics

from .harness import timed

__all__ = [
    "END",
    "FILTERS",
    "FULL",
    "MADE_UP_IDS",
    "QUICK",
    "REQUEST_TIMEOUT",
    "SEED",
    "Sizes",
    "breakdown_ids",
    "breakdown_queries",
    "bucket_query",
    "expected_frame",
    "frames_equal",
    "make_client",
    "plain_loop",
    "round_trip_seconds",
    "thread_pool_frame",
    "thread_pool_loop",
    "timed_cpu",
]

#: End of the generated enterprise and the simulator's "now": a Monday, so weeks are whole, 52
#: weeks after the demo's first day (its history begins on Monday 2025-12-01).
END = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
SEED = DEFAULT_SEED
# The 365 daily buckets before END begin one day before the demo's history (that day counts 0
# for every client alike); the demo's notice of it would only be noise in every run's output.
logging.getLogger("metrics_toolkit.demo").setLevel(logging.ERROR)
#: Seconds a baseline request may take before it counts as failed.
REQUEST_TIMEOUT = 30.0
#: Made-up ids (the server answers them with zeros) pad the directory's, per breakdown kind.
MADE_UP_IDS = {"user": "user-bench-{:04d}", "org": "org-bench-{:04d}"}
#: The query parameter that filters by one id of each breakdown kind.
FILTERS = {"user": "user_ids", "org": "org_ids"}
#: Requests timed to measure the server's round trip at 0 ms latency.
ROUND_TRIPS = 20


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is and how often it is repeated (seconds are wall seconds)."""

    days: int = 365
    """Scenario 1: daily buckets."""
    latency: float = 0.05
    """Scenario 1: seconds the server waits per call."""
    workers: int = 8
    """Scenarios 1, 2, 5 and 6: the toolkit's workers, and the thread pool's."""
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
    orgs: int = 20
    """Scenario 5: organization ids (the directory's, then made-up ones)."""
    org_weeks: int = 52
    """Scenario 5: weekly buckets."""
    org_latency: float = 0.02
    """Scenario 5: seconds the server waits per call."""
    overview_weeks: int = 52
    """Scenario 8: weekly buckets of the common table (x the demo's 5 orgs x 4 endpoints)."""
    overview_latency: float = 0.05
    """Scenario 8: seconds the server waits per call."""
    memory_ids: int = 100
    """Scenario 6: user ids of the big fetch."""
    memory_days: int = 365
    """Scenario 6: daily buckets of the big fetch (ids x days calls)."""
    import_runs: int = 7
    """Scenario 7: fresh interpreters per import measured."""
    scale_users: int = 500
    """Scenario 9: people of the demo enterprise the store syncs by user."""
    scale_days: int = 365
    """Scenario 9: days synced (users x days calls)."""
    scale_small_users: int = 100
    """Scenario 9: people of the smaller sync whose peak memory the big one's is compared with."""
    scale_baseline_every: int = 10
    """Scenario 9: the thread pool asks for every k-th user only (users / k x days calls)."""
    runs: int = 3
    """Runs per measurement (the median is reported)."""
    baseline_runs: int = 1
    """Runs of scenario 1's sequential plain loop (at most ``runs``; 365 x 50 ms is slow)."""
    warm_repeats: int = 5
    """Scenario 1: warm fetches per run (they take milliseconds, so one hiccup of a busy
    machine would move a median of three)."""
    new_process_repeats: int = 2
    """Scenario 1: warm fetches per run, each in a new Python process."""
    bytecode_cache: bool = True
    """Scenarios 1, 6 and 7: child Pythons keep their bytecode, as a user's do (see
    :func:`benchmarks.probe.child_env`); the quick sizes leave the environment as it is."""


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
    orgs=7,
    org_weeks=3,
    org_latency=0.005,
    overview_weeks=2,
    overview_latency=0.005,
    memory_ids=3,
    memory_days=10,
    import_runs=1,
    scale_users=20,
    scale_days=30,
    scale_small_users=10,
    scale_baseline_every=2,
    runs=1,
    baseline_runs=1,
    warm_repeats=2,
    new_process_repeats=1,
    bytecode_cache=False,
)


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_API_KEY}", "Accept": "application/json"}


def plain_loop(
    session: requests.Session, url: str, queries: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The sequential baseline: one ``GET`` after the other on one session, bodies as dicts."""
    headers = _headers()
    answers = []
    for query in queries:
        response = session.get(url, params=query, headers=headers, timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        answers.append(response.json())
    return answers


def thread_pool_loop(
    url: str, queries: Sequence[dict[str, Any]], workers: int
) -> list[dict[str, Any]]:
    """The competent baseline: ``workers`` threads, one ``requests.Session`` each.

    Parameters
    ----------
    url : str
        The endpoint's full URL.
    queries : sequence of dict
        One query string per call.
    workers : int
        Threads of the ``ThreadPoolExecutor`` (each opens its own session on first use).

    Returns
    -------
    list of dict
        Each body parsed with ``.json()``, in the order of ``queries``.
    """
    headers = _headers()
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def get(query: dict[str, Any]) -> dict[str, Any]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            with lock:
                sessions.append(session)
        response = session.get(url, params=query, headers=headers, timeout=REQUEST_TIMEOUT)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(get, queries))
    finally:
        for session in sessions:
            session.close()


def thread_pool_frame(
    url: str,
    buckets: Sequence[Bucket],
    queries: Sequence[dict[str, Any]],
    workers: int,
    *,
    ids: Sequence[str] | None = None,
    kind: str = "user",
) -> pd.DataFrame:
    """The thread pool's answers as the toolkit's wide frame (the whole job a user times).

    ``queries`` are ordered as :func:`expected_frame` reads them: ids outer, buckets inner.
    """
    answers = thread_pool_loop(url, queries, workers)
    return expected_frame(buckets, answers, ids=ids, kind=kind)


def expected_frame(
    buckets: Sequence[Bucket],
    answers: Sequence[dict[str, Any]],
    *,
    ids: Sequence[str] | None = None,
    kind: str = "user",
) -> pd.DataFrame:
    """The wide frame the toolkit should return, built from a baseline's answers.

    With ``ids`` the answers are per ``kind`` (``"user"`` or ``"org"``), ids outer and buckets
    inner (as the toolkit plans).
    """
    groups: Sequence[str | None] = [None] if ids is None else ids
    keys = [(group, bucket) for group in groups for bucket in buckets]
    rows = [
        Row(bucket, group, SessionMetrics.model_validate(answer))
        for (group, bucket), answer in zip(keys, answers, strict=True)
    ]
    return wide_frame(rows, group_by=None if ids is None else kind)


def frames_equal(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    """Same index, columns, dtypes and values (``attrs`` and the toolkit's ``<kind>_name``
    labels ignored: a baseline has no directory)."""
    names = [c for c in (*left.columns, *right.columns) if str(c).endswith("_name")]
    try:
        pd.testing.assert_frame_equal(
            left.drop(columns=names, errors="ignore"), right.drop(columns=names, errors="ignore")
        )
    except AssertionError:
        return False
    return True


def breakdown_ids(enterprise: DemoEnterprise, count: int, kind: str = "user") -> list[str]:
    """``count`` ids of ``kind``: the directory's first, then made-up ones (answered with zeros).

    Parameters
    ----------
    enterprise : DemoEnterprise
        The directory the real ids come from.
    count : int
        How many ids.
    kind : {"user", "org"}
        Users or organizations.
    """
    if kind == "user":
        known = [user.user_id for user in enterprise.users[:count]]
    elif kind == "org":
        known = [org.org_id for org in enterprise.organizations[:count]]
    else:
        raise ValueError(f"kind must be one of {sorted(MADE_UP_IDS)}, not {kind!r}")
    return known + [MADE_UP_IDS[kind].format(i) for i in range(count - len(known))]


def bucket_query(bucket: Bucket, **filters: Any) -> dict[str, Any]:
    """The query string of one call: the bucket's window, Unix seconds, and the filters."""
    return {"time_after": bucket.time_after, "time_before": bucket.time_before, **filters}


def breakdown_queries(
    buckets: Sequence[Bucket], ids: Sequence[str], kind: str
) -> list[dict[str, Any]]:
    """One query per id and bucket, ids outer: the breakdown's calls, as the toolkit plans."""
    return [bucket_query(bucket, **{FILTERS[kind]: [id_]}) for id_ in ids for bucket in buckets]


def round_trip_seconds(url: str, query: dict[str, Any], count: int = ROUND_TRIPS) -> float:
    """Median seconds of ``count`` sequential requests on one session (after one to connect)."""
    with requests.Session() as session:
        plain_loop(session, url, [query])
        times = [
            timed(functools.partial(plain_loop, session, url, [query]))[0] for _ in range(count)
        ]
    return statistics.median(times)


def timed_cpu(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and CPU seconds (every thread of this process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def make_client(server_url: str, cache_dir: Path | None) -> MetricsClient:
    """The toolkit's client as a user would make it; no cache when ``cache_dir`` is None."""
    if cache_dir is None:
        return MetricsClient(DEMO_API_KEY, base_url=server_url, cache=False, now=END)
    return MetricsClient(DEMO_API_KEY, base_url=server_url, cache_dir=cache_dir, now=END)
