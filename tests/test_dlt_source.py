"""The dlt source: a pipeline into DuckDB run twice holds each row once and equals the store;
a later run asks only for the provisional window, the failed buckets and the new day."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import dlt_source
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoEnterprise, DemoServer, FaultPlan
from metrics_toolkit.dlt_source import devin_metrics_source

dlt = pytest.importorskip("dlt")
duckdb = pytest.importorskip("duckdb")
StepFailed = pytest.importorskip("dlt.pipeline.exceptions").PipelineStepFailed

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(days=1)
START = "2026-10-20"
DATASET = "devin"
#: Columns that differ between two loads of the same rows: when they were fetched, dlt's own.
NOT_COMPARED = ("fetched_at", "_dlt_load_id", "_dlt_id")
CATEGORIES_PATH = "/v3/enterprise/metrics/sessions-by-category"


@pytest.fixture
def api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW)


@pytest.fixture
def server(api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(api) as running:
        yield running


@pytest.fixture(autouse=True)
def _dlt_stays_here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """dlt keeps its files under the test's directory and sends nothing anywhere."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))


def client_at(server: DemoServer, api: DemoAPI, now: dt.datetime) -> mt.MetricsClient:
    """A client reading the demo server at ``now`` (the server's clock moved there too)."""
    api.now = now
    return mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, now=now, backoff=0)


def metric_requests(server: DemoServer, since: int) -> list[str]:
    """The metrics and consumption requests the server received from request ``since`` on."""
    return [
        target
        for target in server.requests[since:]
        if "/metrics/" in target or "/consumption/" in target
    ]


def pipeline(tmp_path: Path) -> Any:
    return dlt.pipeline(
        pipeline_name="devin_metrics",
        pipelines_dir=str(tmp_path / "pipelines"),
        destination=dlt.destinations.duckdb(str(tmp_path / "dlt.duckdb")),
        dataset_name=DATASET,
    )


def load_and_sync(
    tmp_path: Path,
    server: DemoServer,
    api: DemoAPI,
    moments: tuple[dt.datetime, ...],
    start: str = START,
    **options: Any,
) -> tuple[Any, list[list[str]], list[list[str]]]:
    """Run the pipeline and sync the store at each moment; the metrics requests of each."""
    loads, syncs = [], []
    target = pipeline(tmp_path)
    for moment in moments:
        client = client_at(server, api, moment)
        since = server.request_count
        target.run(devin_metrics_source(client, start, **options))
        loads.append(metric_requests(server, since))
        since = server.request_count
        mt.sync(client, tmp_path / "store.duckdb", start, progress=False, **options)
        syncs.append(metric_requests(server, since))
    return target, loads, syncs


def loaded(tmp_path: Path, table: str) -> pd.DataFrame:
    con = duckdb.connect(str(tmp_path / "dlt.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f'SELECT * FROM {DATASET}."{table}"').df()
    finally:
        con.close()


def assert_equals_the_store(tmp_path: Path, target: Any, key: list[str]) -> None:
    """Each table of the store, loaded once per key and cell for cell, under dlt's names."""
    store = mt.Store(tmp_path / "store.duckdb")
    naming = target.default_schema.naming
    for table in store.tables():
        kept = store.sql(f'SELECT * FROM "{table}"')
        kept.columns = [naming.normalize_identifier(c) for c in kept.columns]
        rows = loaded(tmp_path, table)
        assert not rows.duplicated(key).any(), table
        assert set(rows.columns) - set(NOT_COMPARED) == set(kept.columns) - set(NOT_COMPARED)
        columns = [c for c in kept.columns if c not in NOT_COMPARED]
        expected = kept[columns].sort_values(key, ignore_index=True)
        actual = rows[columns].sort_values(key, ignore_index=True)
        pd.testing.assert_frame_equal(actual, expected, obj=table)


def sessions_days(requests: list[str]) -> list[pd.Timestamp]:
    """The days of the sessions requests, sorted."""
    starts = [
        int(parse_qs(urlsplit(target).query)["time_after"][0])
        for target in requests
        if urlsplit(target).path.endswith("/metrics/sessions")
    ]
    return sorted(pd.Timestamp(start, unit="s", tz="UTC") for start in starts)


def test_a_pipeline_run_twice_holds_each_row_once_and_equals_the_store(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    target, loads, syncs = load_and_sync(tmp_path, server, api, (NOW, LATER))
    assert_equals_the_store(tmp_path, target, ["bucket_start"])
    assert len(loaded(tmp_path, "sessions")) == 33  # 2026-10-20 .. 2026-11-21
    # the second run asks for what the store asks: the provisional window and the new day
    assert len(loads[1]) == len(syncs[1]) < len(loads[0]) == len(syncs[0])
    # the provisional window (days ended after 11-06 12:00, 14 days before NOW) and 11-21
    window = pd.date_range("2026-11-06", "2026-11-21", freq="D", tz="UTC")
    assert sessions_days(loads[1]) == list(window)


def test_a_breakdown_is_loaded_once_per_group_and_equals_the_store(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    moments = (NOW, LATER)
    target, loads, syncs = load_and_sync(tmp_path, server, api, moments, "2026-11-01", by="org")
    assert_equals_the_store(tmp_path, target, ["bucket_start", "org_id"])
    assert len(loads[1]) == len(syncs[1]) < len(loads[0]) == len(syncs[0])
    organizations = len(api.enterprise.organizations)
    window = pd.date_range("2026-11-06", "2026-11-21", freq="D", tz="UTC")
    assert sessions_days(loads[1]) == sorted(list(window) * organizations)


def test_a_failed_day_is_asked_again_by_the_next_run(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    failing = pd.Timestamp("2026-10-25", tz="UTC")  # settled: ended weeks before now
    server.faults = FaultPlan(failing_time_after=frozenset({int(failing.timestamp())}))
    target = pipeline(tmp_path)
    client = client_at(server, api, NOW)
    store = tmp_path / "store.duckdb"
    with pytest.warns(mt.PartialFetchWarning, match="1 of 32 calls failed"):
        target.run(devin_metrics_source(client, START, metrics=["sessions"]))
        mt.sync(client, store, START, metrics=["sessions"], progress=False)
    assert loaded(tmp_path, "sessions").set_index("bucket_start")["failed"][failing]
    server.faults = None
    since = server.request_count
    target.run(devin_metrics_source(client, START, metrics=["sessions"]))
    provisional = pd.date_range("2026-11-06", "2026-11-20", freq="D", tz="UTC")
    assert sessions_days(metric_requests(server, since)) == [failing, *provisional]
    mt.sync(client, store, START, metrics=["sessions"], progress=False)
    assert not loaded(tmp_path, "sessions")["failed"].any()
    assert_equals_the_store(tmp_path, target, ["bucket_start"])


def test_a_failed_call_keeps_the_numbers_loaded_before_and_is_asked_again(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    day = pd.Timestamp("2026-11-06", tz="UTC")  # provisional at NOW, settled by LATER
    target = pipeline(tmp_path)
    target.run(devin_metrics_source(client_at(server, api, NOW), START, metrics=["sessions"]))
    before = loaded(tmp_path, "sessions").set_index("bucket_start").loc[day]
    server.faults = FaultPlan(failing_time_after=frozenset({int(day.timestamp())}))
    client = client_at(server, api, LATER)
    with pytest.warns(mt.PartialFetchWarning, match="1 of 16 calls failed"):
        target.run(devin_metrics_source(client, START, metrics=["sessions"]))
    after = loaded(tmp_path, "sessions").set_index("bucket_start").loc[day]
    assert not after["failed"] and not after["settled"]
    assert after["sessions_created_count"] == before["sessions_created_count"]
    server.faults = None
    since = server.request_count
    target.run(devin_metrics_source(client, START, metrics=["sessions"]))
    provisional = pd.date_range("2026-11-07", "2026-11-21", freq="D", tz="UTC")
    assert sessions_days(metric_requests(server, since)) == [day, *provisional]
    assert loaded(tmp_path, "sessions").set_index("bucket_start").loc[day, "settled"]


@pytest.mark.parametrize(
    ("metric", "path"),
    [("sessions", "/v3/enterprise/metrics/sessions"), ("categories", CATEGORIES_PATH)],
)
def test_a_table_whose_every_call_failed_has_every_column_of_the_store(
    tmp_path: Path, server: DemoServer, api: DemoAPI, metric: str, path: str
) -> None:
    server.faults = FaultPlan(
        server_error=1.0, server_error_statuses=(500,), paths=frozenset({path})
    )
    target = pipeline(tmp_path)
    client = mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache=False, now=NOW, backoff=0, max_retries=0
    )
    start = "2026-11-19"
    with pytest.warns(mt.PartialFetchWarning, match="2 of 2 calls failed"):
        target.run(devin_metrics_source(client, start, metrics=[metric]))
        mt.sync(client, tmp_path / "store.duckdb", start, metrics=[metric], progress=False)
    assert loaded(tmp_path, metric)["failed"].all()
    assert_equals_the_store(tmp_path, target, ["bucket_start"])  # columns of nulls too


def test_an_earlier_start_fills_the_days_before(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    target, _, _ = load_and_sync(tmp_path, server, api, (NOW,), metrics=["sessions"])
    client = client_at(server, api, NOW)
    since = server.request_count
    target.run(devin_metrics_source(client, "2026-10-15", metrics=["sessions"]))
    before = pd.date_range("2026-10-15", "2026-10-19", freq="D", tz="UTC")
    provisional = pd.date_range("2026-11-06", "2026-11-20", freq="D", tz="UTC")
    assert sessions_days(metric_requests(server, since)) == [*before, *provisional]
    for start in (START, "2026-10-15"):  # later runs keep the days before, whatever the start
        since = server.request_count
        target.run(devin_metrics_source(client, start, metrics=["sessions"]))
        assert sessions_days(metric_requests(server, since)) == list(provisional)
    mt.sync(client, tmp_path / "store.duckdb", "2026-10-15", metrics=["sessions"], progress=False)
    assert_equals_the_store(tmp_path, target, ["bucket_start"])


def test_a_failed_consumption_call_is_asked_again_from_the_start(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    paths = frozenset({"/v3/enterprise/consumption/daily"})
    server.faults = FaultPlan(server_error=1.0, paths=paths)
    target = pipeline(tmp_path)
    client = mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache=False, now=NOW, backoff=0, max_retries=0
    )
    store = tmp_path / "store.duckdb"
    with pytest.warns(mt.PartialFetchWarning, match="1 of 1 calls failed"):
        target.run(devin_metrics_source(client, START, metrics=["consumption"]))
        mt.sync(client, store, START, metrics=["consumption"], progress=False)
    server.faults = None
    target.run(devin_metrics_source(client, START, metrics=["consumption"]))
    mt.sync(client, store, START, metrics=["consumption"], progress=False)
    assert len(loaded(tmp_path, "consumption")) == 33  # billing days 2026-10-19 .. 11-20
    assert_equals_the_store(tmp_path, target, ["bucket_start"])


def test_the_same_source_runs_again_and_plans_afresh(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    source = devin_metrics_source(client_at(server, api, NOW), START, metrics=["sessions"])
    target = pipeline(tmp_path)
    target.run(source)
    since = server.request_count
    target.run(source)
    provisional = pd.date_range("2026-11-06", "2026-11-20", freq="D", tz="UTC")
    assert sessions_days(metric_requests(server, since)) == list(provisional)
    assert len(loaded(tmp_path, "sessions")) == 32
    made_up = [  # dlt makes up a configuration class per function unless it is given one
        name
        for name, value in vars(dlt_source).items()
        if isinstance(value, type) and value.__module__ == dlt_source.__name__
    ]
    assert made_up == []


def test_the_clients_settle_period_decides_what_is_asked_again(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    policy = mt.CachePolicy(settle_period=dt.timedelta(days=7))
    target = pipeline(tmp_path)
    for moment in (NOW, LATER):
        api.now = moment
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, now=moment, cache_policy=policy
        )
        since = server.request_count
        target.run(devin_metrics_source(client, START, metrics=["sessions"]))
        asked = metric_requests(server, since)
        mt.sync(client, tmp_path / "store.duckdb", START, metrics=["sessions"], progress=False)
    week = pd.date_range("2026-11-13", "2026-11-21", freq="D", tz="UTC")  # ended after 11-13 12:00
    assert sessions_days(asked) == list(week)
    assert_equals_the_store(tmp_path, target, ["bucket_start"])


class WithoutOneOrganization(mt.MetricsClient):
    """A client whose directory no longer lists the last organization (deleted)."""

    def directory(self, *, refresh: bool = False) -> Any:
        listed = super().directory(refresh=refresh)
        return dataclasses.replace(listed, organizations=listed.organizations[:-1])


def test_an_organization_the_directory_no_longer_lists_is_still_asked(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    options: dict[str, Any] = {"metrics": ["sessions"], "by": "org"}
    target = pipeline(tmp_path)
    target.run(devin_metrics_source(client_at(server, api, NOW), "2026-11-10", **options))
    gone = api.enterprise.organizations[-1].org_id
    api.now = LATER
    client = WithoutOneOrganization(
        DEMO_API_KEY, base_url=server.url, cache=False, now=LATER, backoff=0
    )
    since = server.request_count
    target.run(devin_metrics_source(client, "2026-11-10", **options))
    asked = [t for t in metric_requests(server, since) if f"org_ids={gone}" in t]
    assert len(asked) == 12  # its days, all provisional, and the new one: 2026-11-10 .. 11-21
    rows = loaded(tmp_path, "sessions_by_org")
    assert (rows["org_id"] == gone).sum() == 12


def test_another_zone_is_refused_by_a_pipeline_that_has_one(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    target = pipeline(tmp_path)
    client = client_at(server, api, NOW)
    target.run(devin_metrics_source(client, "2026-11-16", metrics=["searches"]))
    with pytest.raises(StepFailed, match="fixed by the first"):
        target.run(
            devin_metrics_source(client, "2026-11-16", metrics=["searches"], tz="Asia/Tokyo")
        )


def test_a_start_after_now_is_refused_when_the_pipeline_runs(
    tmp_path: Path, server: DemoServer, api: DemoAPI
) -> None:
    client = client_at(server, api, NOW)
    with pytest.raises(StepFailed, match="the first day loaded must be before now"):
        pipeline(tmp_path).run(devin_metrics_source(client, "2026-11-21", metrics=["searches"]))
    assert metric_requests(server, 0) == []


def test_bad_arguments_are_refused_before_any_request(server: DemoServer, api: DemoAPI) -> None:
    client = client_at(server, api, NOW)
    with pytest.raises(mt.InvalidParameterError, match="did you mean 'sessions'"):
        devin_metrics_source(client, START, metrics=["sesions"])
    with pytest.raises(mt.InvalidParameterError, match="workers"):
        devin_metrics_source(client, START, workers=0)
    organization = api.enterprise.organizations[0].org_id
    scoped = mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache=False, now=NOW, org_id=organization
    )
    with pytest.raises(mt.ScopeError, match="scoped to organization"):
        devin_metrics_source(scoped, START, by="org")
    assert "categories" not in devin_metrics_source(scoped, START).resources
    assert server.request_count == 0


def test_importing_the_package_or_the_module_does_not_import_dlt() -> None:
    code = "import sys, metrics_toolkit.dlt_source; print('dlt' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
