"""Scenarios 3 and 4, in process (no HTTP): answers into frames, and the simulator.

3. **Frames**: ``groups x weeks`` answers into the wide frame and the long frame.
4. **Simulator**: one aggregation of :class:`~metrics_toolkit.demo.DemoAPI` over the whole
   demo log, its time per call (ms) and its ``tracemalloc`` peak (KiB).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
import tracemalloc
from typing import Any

from metrics_toolkit import long_frame, time_buckets, wide_frame
from metrics_toolkit.demo import DemoAPI, DemoEnterprise
from metrics_toolkit.frames import Row
from metrics_toolkit.models import SessionMetrics

from .common import END, Sizes, breakdown_ids
from .harness import ScenarioResult, timed

__all__ = ["answer_rows", "frames_scenario", "simulator_scenario", "simulator_variants"]


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
