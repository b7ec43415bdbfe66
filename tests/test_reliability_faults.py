"""Faults at scale: a year of daily buckets over real HTTP, with every transient fault mixed in.

Proves that retries lose nothing and count nothing twice, that buckets which keep failing are
named exactly and fetched alone on the next run, that schema drift never loses a value, and
that an interrupted fetch leaves a readable cache and resumes with only the missing calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.demo import DemoAPI, DemoEnterprise, DemoServer, FaultPlan
from metrics_toolkit.demo.server import FAULT_KINDS, UNKNOWN_METRIC, UNKNOWN_ORIGIN

from ._reliability import client_of, metric_frame, sent_time_afters
from .conftest import NOW

#: 365 whole days, all settled before the tests' "now" (so every answer is cacheable).
YEAR_START = dt.datetime(2025, 11, 17, tzinfo=dt.timezone.utc)
YEAR_END = YEAR_START + dt.timedelta(days=365)
#: Every fault kind that a retry cures (schema drift is not a fault to retry: it is an answer).
TRANSIENT_KINDS = tuple(kind for kind in FAULT_KINDS if kind != "schema_drift")
#: The client gives up on a read after this long; a "slow" answer comes a little later.
CLIENT_TIMEOUT = 0.3
SLOW_SECONDS = 0.45
#: Added to every request by the server: small, so a year of calls stays fast.
LATENCY = 0.001
COUNT = "sessions_created_count"
WEBAPP = "sessions_created_by_origin.webapp"


def transient_plan(rate: float, *, seed: int, **settings: Any) -> FaultPlan:
    """``rate`` of the requests get a transient fault, shared equally among every kind."""
    plan = FaultPlan.spread(rate, seed=seed, kinds=TRANSIENT_KINDS)
    return dataclasses.replace(
        plan, retry_after="0", slow_seconds=SLOW_SECONDS, html_statuses=(200, 502), **settings
    )


def fault_kinds(plan: FaultPlan, requests: int) -> Counter[str]:
    """Which faults the first ``requests`` requests drew (the plan is reproducible)."""
    return Counter(fault.kind for n in range(requests) if (fault := plan.decide(n)) is not None)


@pytest.fixture(scope="module")
def year_api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW)


@pytest.fixture(scope="module")
def reference(year_api: DemoAPI) -> pd.DataFrame:
    """The fault-free daily frame of the year, over HTTP, without cache."""
    with DemoServer(year_api) as server:
        frame = mt.fetch_series(client_of(server), YEAR_START, YEAR_END, "day", progress=False)
        assert server.request_count == 365
    assert len(frame) == 365 and not frame["failed"].any()
    return metric_frame(frame)


@pytest.fixture
def year_server(year_api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(year_api, latency=LATENCY) as server:
        yield server


# -- transient faults ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_year_of_days_survives_30_percent_mixed_transient_faults(
    year_server: DemoServer, reference: pd.DataFrame, tmp_path: Path
) -> None:
    plan = transient_plan(0.30, seed=2026)
    year_server.faults = plan
    client = client_of(
        year_server, tmp_path / "cache", timeout=CLIENT_TIMEOUT, max_retries=15, backoff=0.001
    )
    frame = mt.fetch_series(client, YEAR_START, YEAR_END, "day", workers=8, progress=False)
    stats = frame.attrs["fetch_stats"]

    pd.testing.assert_frame_equal(metric_frame(frame), reference)
    # every bucket answered once by a success; every request sent is accounted for
    assert (stats.calls, stats.fetched, stats.from_cache, stats.failed) == (365, 365, 0, 0)
    assert stats.requests == year_server.request_count
    assert Counter(sent_time_afters(year_server.requests)).keys() == {
        int(stamp.timestamp()) for stamp in reference.index
    }
    # the faults did happen: about 30% of the requests, every kind of them
    drawn = fault_kinds(plan, year_server.request_count)
    assert set(drawn) == set(TRANSIENT_KINDS), drawn
    assert 0.2 < sum(drawn.values()) / year_server.request_count < 0.4
    # no broken body was cached: the same range again is all cache, and the same numbers
    again = mt.fetch_series(client, YEAR_START, YEAR_END, "day", progress=False)
    assert again.attrs["fetch_stats"].from_cache == 365
    pd.testing.assert_frame_equal(metric_frame(again), reference)


@pytest.mark.slow
def test_buckets_that_keep_failing_are_named_exactly_and_fetched_alone_next_time(
    year_server: DemoServer, reference: pd.DataFrame, tmp_path: Path
) -> None:
    starts = list(reference.index)
    failing_starts = sorted(random.Random(7).sample(starts, 12))
    failing = {int(stamp.timestamp()) for stamp in failing_starts}
    year_server.faults = transient_plan(0.25, seed=99, failing_time_after=frozenset(failing))
    client = client_of(year_server, tmp_path, timeout=CLIENT_TIMEOUT, max_retries=12)

    with pytest.raises(mt.FetchError) as caught:
        mt.fetch_series(client, YEAR_START, YEAR_END, "day", workers=8, progress=False)
    error = caught.value
    assert {failure.bucket.time_after for failure in error.failures} == failing
    assert len(error.failures) == 12
    message = str(error)
    assert message.startswith("12 request(s) still failed after retries (353 succeeded")
    for stamp in failing_starts:
        assert f"[{stamp.isoformat()}, {(stamp + pd.Timedelta(days=1)).isoformat()})" in message
    # every other bucket arrived, with the fault-free numbers
    pd.testing.assert_frame_equal(metric_frame(error.frame), reference.drop(index=failing_starts))

    # the faults stop: the next run asks for exactly the failed buckets, once each
    year_server.faults = None
    before = year_server.request_count
    healed = mt.fetch_series(
        client_of(year_server, tmp_path), YEAR_START, YEAR_END, "day", progress=False
    )
    assert sorted(sent_time_afters(year_server.requests[before:])) == sorted(failing)
    stats = healed.attrs["fetch_stats"]
    assert (stats.from_cache, stats.fetched, stats.failed) == (353, 12, 0)
    pd.testing.assert_frame_equal(metric_frame(healed), reference)


# -- schema drift -----------------------------------------------------------------------------

DRIFT_START = dt.datetime(2026, 8, 3, tzinfo=dt.timezone.utc)
DRIFT_END = DRIFT_START + dt.timedelta(days=42)


def drifted_fetch(server: DemoServer, kinds: tuple[str, ...], rate: float) -> pd.DataFrame:
    server.faults = FaultPlan(seed=5, schema_drift=rate, drift_kinds=kinds)
    return mt.fetch_series(client_of(server), DRIFT_START, DRIFT_END, "day", progress=False)


def test_an_unknown_origin_arrives_as_a_column_with_the_servers_counts(
    year_server: DemoServer, reference: pd.DataFrame
) -> None:
    frame = drifted_fetch(year_server, ("unknown_origin",), 1.0)
    expected = reference.loc[frame.index]
    column = f"sessions_created_by_origin.{UNKNOWN_ORIGIN}"
    moved = expected[WEBAPP] // 10
    assert frame[column].dtype == "Int64"
    pd.testing.assert_series_equal(frame[column], moved, check_names=False)
    pd.testing.assert_series_equal(frame[WEBAPP], expected[WEBAPP] - moved)
    origins = [c for c in frame.columns if c.startswith("sessions_created_by_origin.")]
    pd.testing.assert_series_equal(frame[origins].sum(axis=1), frame[COUNT], check_names=False)
    unchanged = [c for c in expected.columns if c != WEBAPP]
    pd.testing.assert_frame_equal(metric_frame(frame)[unchanged], expected[unchanged])
    # a rollup keeps the new origin, summed like any count
    weekly = mt.rollup(frame, "week")
    assert weekly[column].sum() == moved.sum() and weekly[column].dtype == "Int64"


def test_an_unknown_metric_arrives_as_a_column_with_the_servers_values(
    year_server: DemoServer, reference: pd.DataFrame
) -> None:
    frame = drifted_fetch(year_server, ("unknown_metric",), 1.0)
    expected = reference.loc[frame.index]
    knowledge = expected["sessions_created_with_search_count"] // 2
    assert frame[UNKNOWN_METRIC].dtype == "Int64"
    pd.testing.assert_series_equal(frame[UNKNOWN_METRIC], knowledge, check_names=False)
    pd.testing.assert_frame_equal(metric_frame(frame)[expected.columns], expected)
    assert mt.rollup(frame, None)[UNKNOWN_METRIC].iloc[0] == knowledge.sum()


def test_a_missing_size_is_zero_as_the_spec_defaults_it(
    year_server: DemoServer, reference: pd.DataFrame
) -> None:
    frame = drifted_fetch(year_server, ("missing_size",), 1.0)
    expected = reference.loc[frame.index]
    assert expected["sessions_created_by_size.xl"].sum() > 0  # there was something to lose
    xl = frame["sessions_created_by_size.xl"]
    assert xl.dtype == "Int64" and not xl.isna().any() and (xl == 0).all()
    same = [c for c in expected.columns if ".xl" not in c]
    pd.testing.assert_frame_equal(metric_frame(frame)[same], expected[same])


def test_mixed_drift_loses_no_value_and_survives_the_cache(
    year_server: DemoServer, reference: pd.DataFrame, tmp_path: Path
) -> None:
    year_server.faults = FaultPlan(seed=8, schema_drift=0.5)
    client = client_of(year_server, tmp_path)
    frame = mt.fetch_series(client, DRIFT_START, DRIFT_END, "day", progress=False)
    expected = reference.loc[frame.index]
    github = frame[f"sessions_created_by_origin.{UNKNOWN_ORIGIN}"]
    knowledge = frame[UNKNOWN_METRIC]
    xl = frame["sessions_created_by_size.xl"]
    assert github.notna().any() and knowledge.notna().any() and (xl != expected[xl.name]).any()
    # where the server sent a new field, its value is there; where it did not, NA (not 0)
    drifted = github.notna()
    moved = expected[WEBAPP] // 10
    assert (github[drifted] == moved[drifted]).all()
    assert (frame[WEBAPP] + github.fillna(0) == expected[WEBAPP]).all()
    sent = knowledge.notna()
    assert (knowledge[sent] == expected["sessions_created_with_search_count"][sent] // 2).all()
    assert ((xl == expected[xl.name]) | (xl == 0)).all()
    # the cached answers read back exactly as they arrived
    year_server.faults = None
    again = mt.fetch_series(client, DRIFT_START, DRIFT_END, "day", progress=False)
    assert again.attrs["fetch_stats"].from_cache == len(frame)
    pd.testing.assert_frame_equal(metric_frame(again), metric_frame(frame))


# -- an interrupted fetch -----------------------------------------------------------------------

INTERRUPT_START = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
INTERRUPT_END = INTERRUPT_START + dt.timedelta(days=90)


class InterruptingAPI(DemoAPI):
    """The simulator, in process, pressing Ctrl-C inside the n-th request's worker thread."""

    def __init__(self, *args: Any, interrupt_at: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interrupt_at = interrupt_at
        self.received = 0
        self.answered = 0
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: str, headers: Any) -> Any:
        with self._lock:
            self.received += 1
            interrupt = self.received == self.interrupt_at
        if interrupt:
            raise KeyboardInterrupt
        response = super().handle(method, path, query, headers)
        with self._lock:
            self.answered += 1
        return response


def cached_rows(cache_dir: Path) -> int:
    """Open the cache file as any SQLite reader would; check it and count its answers."""
    database = sqlite3.connect(cache_dir / mt.cache.CACHE_FILE_NAME)
    try:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (rows,) = database.execute("SELECT COUNT(*) FROM responses").fetchone()
    finally:
        database.close()
    return int(rows)


@pytest.mark.parametrize(("interrupt_at", "workers"), [(1, 8), (40, 8), (75, 1)])
def test_ctrl_c_in_a_worker_leaves_a_readable_cache_and_the_rerun_asks_only_the_rest(
    enterprise: DemoEnterprise,
    reference: pd.DataFrame,
    tmp_path: Path,
    interrupt_at: int,
    workers: int,
) -> None:
    api = InterruptingAPI(enterprise, now=NOW, interrupt_at=interrupt_at)
    client = mt.MetricsClient.demo(api=api, cache_dir=tmp_path, backoff=0.0)
    with pytest.raises(KeyboardInterrupt):
        mt.fetch_series(
            client, INTERRUPT_START, INTERRUPT_END, "day", workers=workers, progress=False
        )
    answered = api.answered
    assert answered < 90  # the interrupted call never got its answer
    if workers == 1:
        # the calls before the interrupt, and at most the one the worker had already started
        assert answered in (interrupt_at - 1, interrupt_at)
    assert cached_rows(tmp_path) == answered  # every answer that arrived was kept

    api.interrupt_at = None
    received = api.received
    rerun = mt.MetricsClient.demo(api=api, cache_dir=tmp_path, backoff=0.0)
    frame = mt.fetch_series(rerun, INTERRUPT_START, INTERRUPT_END, "day", progress=False)
    assert api.received - received == 90 - answered
    stats = frame.attrs["fetch_stats"]
    assert (stats.from_cache, stats.fetched) == (answered, 90 - answered)
    assert cached_rows(tmp_path) == 90
    pd.testing.assert_frame_equal(metric_frame(frame), reference.loc[frame.index])
