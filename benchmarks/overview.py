"""Scenario 8, the common table: ``overview`` by organization, 5 orgs x 52 weeks at 50 ms.

Four endpoints (sessions, PRs, searches, active users) per organization and week: 1,040 calls
through one worker pool. A refresh (``refresh=True``: every call is asked; the directory, kept
for a day, is read from the store) is compared with the floor ``ceil(calls / workers) x
latency``; its numbers with the single-endpoint answers of the same windows.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time
from pathlib import Path

import pandas as pd

from metrics_toolkit import overview, time_buckets
from metrics_toolkit.demo import DemoEnterprise

from .common import END, SEED, Sizes, make_client
from .harness import ScenarioResult, timed
from .server_process import ServerProcess

__all__ = ["overview_scenario"]

#: The endpoints of the table, one call each per organization and bucket.
ENDPOINTS = 4


def overview_scenario(sizes: Sizes, enterprise: DemoEnterprise) -> ScenarioResult:
    """Scenario 8: every organization of the demo x ``overview_weeks`` weekly buckets x 4
    endpoints at ``overview_latency`` seconds per call.

    Parameters
    ----------
    sizes : Sizes
        ``overview_weeks``, ``overview_latency`` (seconds), ``workers`` and ``runs`` are read.
    enterprise : DemoEnterprise
        The organizations broken down by.

    Returns
    -------
    ScenarioResult
        Wall seconds of the toolkit (cold cache), the floor, and the target toolkit / floor.
    """
    started = time.perf_counter()
    ids = [org.org_id for org in enterprise.organizations]
    start = END - dt.timedelta(weeks=sizes.overview_weeks)
    buckets = time_buckets(start, END, "week", now=END)
    calls = ENDPOINTS * len(ids) * len(buckets)
    floor = math.ceil(calls / sizes.workers) * sizes.overview_latency
    ms = f"{sizes.overview_latency * 1000:g} ms"
    result = ScenarioResult(
        8,
        f"the common table by org: {len(ids)} orgs x {len(buckets)} weeks x {ENDPOINTS} "
        f"endpoints, {ms} latency",
        f"{calls} calls: overview(by='org') of sessions, PRs, searches and active users, "
        f"server latency {ms}, workers={sizes.workers}, refresh=True",
    )
    seconds: list[float] = []
    sent: list[int] = []
    frame = pd.DataFrame()
    with (
        ServerProcess(end=END, seed=SEED, latency=sizes.overview_latency) as server,
        tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch,
    ):
        for run in range(sizes.runs):
            with make_client(server.url, Path(scratch) / f"run-{run}") as client:
                client.directory()  # kept for a day: a refresh of the table reads it from the store
                before = server.request_count
                elapsed, frame = timed(
                    lambda client=client: overview(
                        client,
                        start,
                        END,
                        "week",
                        by="org",
                        ids=ids,
                        workers=sizes.workers,
                        progress=False,
                        refresh=True,
                    )
                )
                seconds.append(elapsed)
                sent.append(server.request_count - before)
        with make_client(server.url, None) as client:
            first, last = buckets[0], buckets[-1]
            for bucket in (first, last):
                for org in ids[:2]:
                    row = frame[(frame.index == bucket.start) & (frame["org_id"] == org)]
                    answer = client.session_metrics(bucket.start, bucket.end, org_ids=[org])
                    prs = client.pr_metrics(bucket.start, bucket.end, org_ids=[org])
                    same = (
                        int(row["sessions_created_count"].iloc[0]) == answer.sessions_created_count
                        and int(row["prs_created_count"].iloc[0]) == prs.prs_created_count
                    )
                    result.checks.setdefault("rows equal the single-endpoint answers", True)
                    if not same:
                        result.checks["rows equal the single-endpoint answers"] = False
    result.checks["one row per org and week, none failed"] = len(frame) == len(ids) * len(
        buckets
    ) and not bool(frame["failed"].any())
    result.checks["every run sends one request per call"] = all(n == calls for n in sent)
    cold = result.add("cold_seconds", f"toolkit overview, {sizes.workers} workers", "s", seconds)
    result.add("floor_seconds", f"floor: ceil({calls}/{sizes.workers}) x {ms}", "s", [floor])
    result.judge("cold_over_floor", "overview / floor", cold.median / floor, 1.10, at_least=False)
    result.seconds = time.perf_counter() - started
    return result
