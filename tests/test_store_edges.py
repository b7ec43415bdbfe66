"""The store's promises at its edges: partial days stay partial, cut ranges are refused, a
failed call is never a silent gap nor erases a number, nothing is written before every check,
groups keep the directory's order, and errors name what is wrong."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.errors import ServerError

duckdb = pytest.importorskip("duckdb")

NOW = "2026-11-20T12:00:00Z"
LATER = "2026-11-21T12:00:00Z"
START = "2026-11-02"


def failing(now: str, fails: Callable[[str, Any], bool], **settings: Any) -> mt.MetricsClient:
    """A demo client whose metrics calls answer 503 where ``fails(path, params)``."""
    client = mt.MetricsClient.demo(now=now, **settings)
    real = client.request

    def request(endpoint: Any, params: Any, *, refresh: bool = False) -> Any:
        if fails(endpoint.path, params):
            raise ServerError("boom", status_code=503, url="http://demo" + endpoint.path)
        return real(endpoint, params, refresh=refresh)

    client.request = request  # type: ignore[method-assign]
    return client


def sync(client: mt.MetricsClient, path: Path, **options: Any) -> mt.SyncSummary:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mt.PartialFetchWarning)
        return mt.sync(client, path, START, progress=False, **options)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edges") / "sessions.duckdb"
    sync(mt.MetricsClient.demo(now=NOW), path, metrics=["sessions", "active_users"])
    return path


def test_a_day_open_when_it_was_fetched_stays_partial_the_next_day(sessions: Path) -> None:
    frame = mt.Store(sessions, now=LATER).frame(START, "2026-11-21")
    assert frame["partial"].iloc[-1]  # fetched at noon: half a day's numbers
    assert not frame["partial"].iloc[:-1].any()
    weekly = mt.Store(sessions, now=LATER).frame(START, "2026-11-23", "week")
    assert weekly["partial"].iloc[-1]


@pytest.mark.parametrize(
    ("start", "end", "freq", "metric", "named"),
    [
        ("2026-11-02T12:00", "2026-11-10", "day", "sessions", "start"),
        ("2026-11-02", "2026-11-10T06:00", "day", "sessions", "end"),
        ("2026-11-04", "2026-11-16", "week", "active_users", "start"),
        ("2026-10-26", "2026-11-16", "week", "sessions", "start"),  # before the first day kept
    ],
)
def test_a_range_the_store_cannot_give_whole_is_refused(
    sessions: Path, start: str, end: str, freq: str, metric: str, named: str
) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.Store(sessions, now=NOW).frame(start, end, freq, metric=metric)
    assert caught.value.parameter == named


def test_a_failed_consumption_call_is_written_as_failed_days(tmp_path: Path) -> None:
    path = tmp_path / "acus.duckdb"
    client = failing(NOW, lambda path, params: "consumption" in path)
    summary = sync(client, path, metrics=["consumption"])
    assert summary.failed == 1
    frame = mt.Store(path, now=NOW).frame(START, "2026-11-21", metric="consumption")
    assert len(frame) >= 18 and frame["failed"].all() and frame["acus"].isna().all()


def test_a_failed_call_never_erases_a_number_kept_earlier(tmp_path: Path) -> None:
    path = tmp_path / "kept.duckdb"
    sync(mt.MetricsClient.demo(now=NOW), path, metrics=["sessions"])
    day = int(pd.Timestamp("2026-11-13", tz="UTC").timestamp())
    later = failing(LATER, lambda path, params: params.get("time_after") == day)
    summary = sync(later, path, metrics=["sessions"])
    assert summary.failed == 1
    row = mt.Store(path).sql(
        "SELECT failed, settled, sessions_created_count AS n FROM sessions "
        "WHERE bucket_start = '2026-11-13 00:00:00+00'"
    )
    assert not row["failed"][0] and not row["settled"][0] and row["n"][0] > 0
    again = sync(mt.MetricsClient.demo(now=LATER), path, metrics=["sessions"])
    assert again.failed == 0


def test_categories_whose_first_calls_all_failed_fill_in_later(tmp_path: Path) -> None:
    path = tmp_path / "categories.duckdb"
    sync(failing(NOW, lambda path, params: True), path, metrics=["categories"])
    summary = sync(mt.MetricsClient.demo(now=NOW), path, metrics=["categories"])
    assert summary.failed == 0 and summary.calls == 19
    expected = mt.fetch_series(
        mt.MetricsClient.demo(now=NOW), START, "2026-11-21", "day", metric="categories"
    )
    stored = mt.Store(path, now=NOW).frame(START, "2026-11-21", metric="categories")
    pd.testing.assert_frame_equal(stored, expected)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"start": "2026-13-45"}, "start"),
        ({"start": "2027-01-01"}, "start"),
        ({"metrics": []}, "metrics"),
        ({"metrics": ["sesions"]}, "metrics"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"by": "orgs"}, "by"),
    ],
)
def test_nothing_is_written_before_every_check(
    tmp_path: Path, options: dict[str, Any], named: str
) -> None:
    path = tmp_path / "never.duckdb"
    arguments = {"start": START, **options}
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.sync(mt.MetricsClient.demo(now=NOW), path, **arguments)
    assert caught.value.parameter == named
    assert not path.exists()


def test_at_an_organizations_scope_the_default_leaves_out_what_it_cannot_keep(
    tmp_path: Path,
) -> None:
    client = mt.MetricsClient.demo(
        now=NOW, org_id=mt.MetricsClient.demo().directory().ids("org")[0]
    )
    path = tmp_path / "org.duckdb"
    summary = mt.sync(client, path, "2026-11-16", progress=False)
    assert "categories" not in summary.days and "sessions" in summary.days
    with pytest.raises(mt.ScopeError, match="directory"):
        mt.sync(client, tmp_path / "by.duckdb", "2026-11-16", by="user")
    with pytest.raises(mt.ScopeError):
        mt.sync(client, tmp_path / "cat.duckdb", "2026-11-16", metrics=["categories"])
    assert not (tmp_path / "by.duckdb").exists()


def test_the_clients_settle_period_decides_what_is_settled(tmp_path: Path) -> None:
    path = tmp_path / "policy.duckdb"
    policy = mt.CachePolicy(settle_period=pd.Timedelta(days=30).to_pytimedelta())
    sync(mt.MetricsClient.demo(now=NOW, cache_policy=policy), path, metrics=["sessions"])
    assert not mt.Store(path).sql("SELECT bool_or(settled) AS s FROM sessions")["s"][0]


def test_groups_keep_the_latest_directory_order(tmp_path: Path) -> None:
    path = tmp_path / "order.duckdb"
    sync(mt.MetricsClient.demo(now=NOW), path, by="org", metrics=["sessions"])
    later = mt.MetricsClient.demo(now=LATER)
    directory = later.directory()
    reordered = dataclasses.replace(
        directory, organizations=list(reversed(directory.organizations))
    )
    later.directory = lambda refresh=False: reordered  # type: ignore[method-assign]
    sync(later, path, by="org", metrics=["sessions"])
    stored = mt.Store(path, now=LATER).frame(START, "2026-11-22", by="org")
    fetched = mt.fetch_series(later, START, "2026-11-22", "day", by="org", progress=False)
    assert stored["org_id"].tolist() == fetched["org_id"].tolist()


def test_a_group_the_directory_no_longer_lists_still_settles(tmp_path: Path) -> None:
    path = tmp_path / "gone.duckdb"
    sync(mt.MetricsClient.demo(now=NOW), path, by="org", metrics=["sessions"])
    later = mt.MetricsClient.demo(now=LATER)
    directory = later.directory()
    gone = directory.organizations[0].org_id
    fewer = dataclasses.replace(directory, organizations=list(directory.organizations[1:]))
    later.directory = lambda refresh=False: fewer  # type: ignore[method-assign]
    sync(later, path, by="org", metrics=["sessions"])
    asked = mt.Store(path).sql(
        "SELECT max(fetched_at) AS t FROM sessions_by_org WHERE org_id = ?", [gone]
    )["t"][0]
    assert pd.Timestamp(asked) == pd.Timestamp(LATER)


def test_a_store_being_written_is_busy_and_a_mistyped_path_is_not_created(
    sessions: Path, tmp_path: Path
) -> None:
    writer = duckdb.connect(str(sessions))
    try:
        with pytest.raises(mt.StoreBusyError, match="one writer"):
            mt.Store(sessions).frame(START, "2026-11-10")
    finally:
        writer.close()
    with pytest.raises(mt.InvalidParameterError, match="no store"):
        mt.Store(tmp_path / "typo.duckdb").sql("SELECT 1")
    assert not (tmp_path / "typo.duckdb").exists()


def test_reading_errors_name_the_parameter(sessions: Path, tmp_path: Path) -> None:
    store = mt.Store(sessions, now=NOW)
    with pytest.raises(mt.InvalidParameterError, match="expected None or one of") as by:
        store.frame(START, "2026-11-10", by="orgs")  # type: ignore[arg-type]
    assert by.value.parameter == "by"
    with pytest.raises(mt.InvalidParameterError, match="did you mean 'sessions'") as metric:
        store.frame(START, "2026-11-10", metric="sesions")
    assert metric.value.parameter == "metric"
    with pytest.raises(mt.InvalidParameterError, match="by='org'") as missing:
        store.frame(START, "2026-11-10", by="org")
    assert missing.value.parameter == "by"


def test_unknown_ids_are_refused_with_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "ids.duckdb"
    sync(mt.MetricsClient.demo(now=NOW), path, by="org", metrics=["sessions"])
    store = mt.Store(path, now=NOW)
    org = store.sql("SELECT min(org_name) AS n FROM sessions_by_org")["n"][0]
    assert set(store.frame(START, "2026-11-10", by="org", ids=[org])["org_name"]) == {org}
    with pytest.raises(mt.InvalidParameterError, match="did you mean") as caught:
        store.frame(START, "2026-11-10", by="org", ids=[org[:-1]])
    assert caught.value.parameter == "ids"


def test_a_field_named_with_a_quote_is_a_column_not_sql(tmp_path: Path) -> None:
    from metrics_toolkit.store._tables import connect, merge

    rows = pd.DataFrame(
        {'a" INTEGER; DROP TABLE x; --': [1], "failed": [False]},
        index=pd.DatetimeIndex([pd.Timestamp("2026-11-02", tz="UTC")], name="bucket_start"),
    )
    con = connect(tmp_path / "quote.duckdb")
    try:
        merge(con, 'x"y', rows, None, {"failed": "bool"})
        renamed = rows.rename(columns={'a" INTEGER; DROP TABLE x; --': 'b"; --'})
        merge(con, 'x"y', renamed, None, {"failed": "bool"})
        assert con.execute('SELECT count(*) FROM "x""y"').fetchall() == [(1,)]
    finally:
        con.close()


def test_consumption_of_each_group_is_asked_several_at_a_time(tmp_path: Path) -> None:
    import threading

    client = mt.MetricsClient.demo(now=NOW)
    real = client.request
    together = threading.Barrier(2, timeout=10)
    met: list[bool] = []

    def request(endpoint: Any, params: Any, *, refresh: bool = False) -> Any:
        if "consumption" in endpoint.path and not met:
            try:
                together.wait()  # passes only when two calls are in flight at once
                met.append(True)
            except threading.BrokenBarrierError:
                pass
        return real(endpoint, params, refresh=refresh)

    client.request = request  # type: ignore[method-assign]
    summary = sync(client, tmp_path / "acus.duckdb", metrics=["consumption"], by="org")
    assert met and summary.failed == 0
