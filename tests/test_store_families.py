"""Every family the store keeps reads back as the frame a fetch gives, cell for cell, with and
without a breakdown; a later sync asks only for the provisional buckets of each."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit._constants import DEFAULT_SETTLE_PERIOD

pytest.importorskip("duckdb")

NOW = "2026-11-20T12:00:00Z"
LATER = "2026-11-21T12:00:00Z"
START = "2026-10-26"
#: (metric, freq, start, end) read back and fetched.
CASES = [
    ("sessions", "day", START, "2026-11-21"),
    ("prs", "day", START, "2026-11-21"),
    ("searches", "day", START, "2026-11-21"),
    ("usage", "day", START, "2026-11-21"),
    ("categories", "day", START, "2026-11-21"),
    ("active_users", "day", START, "2026-11-21"),
    ("active_users", "week", START, "2026-11-23"),
    ("active_users", "month", "2026-10-01", "2026-12-01"),
]


@pytest.fixture(scope="module", params=[None, "org"], ids=["total", "by-org"])
def kept(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    by = request.param
    path = tmp_path_factory.mktemp("store") / "all.duckdb"
    summary = mt.sync(mt.MetricsClient.demo(now=NOW), path, START, by=by, progress=False)
    return by, path, summary


def fetched(metric: str, freq: str, start: str, end: str, by: str | None) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mt.FutureBucketsWarning)
        return mt.fetch_series(
            mt.MetricsClient.demo(now=NOW), start, end, freq, metric=metric, by=by, progress=False
        )


@pytest.mark.parametrize(("metric", "freq", "start", "end"), CASES)
def test_each_family_reads_back_as_the_fetched_frame(
    kept: tuple, metric: str, freq: str, start: str, end: str
) -> None:
    by, path, _ = kept
    expected = fetched(metric, freq, start, end, by)
    stored = mt.Store(path, now=NOW).frame(start, end, freq, metric=metric, by=by)
    assert list(stored.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(stored, expected)
    for key in ("freq", "tz", "group_by", "endpoint", "now", "cut_after_now"):
        assert stored.attrs[key] == expected.attrs[key], key


def test_consumption_reads_back_in_billing_days(kept: tuple) -> None:
    by, path, _ = kept
    client = mt.MetricsClient.demo(now=NOW)
    ids = None if by is None else list(client.directory().ids(by))
    expected = mt.fetch_consumption(client, START, "2026-11-21", by=by, ids=ids)
    stored = mt.Store(path, now=NOW).frame(START, "2026-11-21", metric="consumption", by=by)
    pd.testing.assert_frame_equal(stored[list(expected.columns)], expected)
    assert stored.attrs["calendar"] == expected.attrs["calendar"]
    weekly = mt.Store(path, now=NOW).frame(START, "2026-11-21", "week", metric="consumption", by=by)
    pd.testing.assert_frame_equal(weekly, mt.rollup(expected, "week"))


def test_a_coarser_frequency_is_the_rollup_of_the_days(kept: tuple) -> None:
    """Weeks read from the store are rolled up from its days by the one combine: the same
    numbers as weeks fetched whole (a week whose last days are after now ends at now's day)."""
    by, path, _ = kept
    store = mt.Store(path, now=NOW)
    weekly = store.frame(START, "2026-11-23", "week", by=by)
    expected = fetched("sessions", "week", START, "2026-11-23", by)
    same = [c for c in expected.columns if c not in ("bucket_end", "clipped")]
    pd.testing.assert_frame_equal(weekly[same], expected[same])
    daily = store.frame(START, "2026-11-23", by=by)
    pd.testing.assert_frame_equal(weekly, mt.rollup(daily, "week"))


def test_active_users_are_never_rolled_up(kept: tuple) -> None:
    by, path, _ = kept
    with pytest.raises(mt.InvalidParameterError, match="distinct counts, never summed"):
        mt.Store(path, now=NOW).frame(START, "2026-11-21", "quarter", metric="active_users", by=by)


def test_a_later_sync_asks_each_family_only_for_its_provisional_buckets(
    kept: tuple, tmp_path: Path
) -> None:
    by, path, _ = kept
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    store = mt.Store(copy)
    expected = 0
    for table in store.tables():
        rows = store.sql(f"SELECT * FROM {table}")
        unsettled = int((~rows["settled"]).sum())
        groups = rows[f"{by}_id"].nunique() if by else 1
        if table.startswith("consumption"):  # one call per group, from its first unsettled day
            expected += groups
        else:
            expected += unsettled + _new_buckets(table, rows) * groups
    summary = mt.sync(mt.MetricsClient.demo(now=LATER), copy, START, by=by, progress=False)
    assert summary.calls == expected
    assert summary.failed == 0


def _new_buckets(table: str, rows: pd.DataFrame) -> int:
    """Buckets that start between NOW and LATER (a new day; no new week or month)."""
    starts = pd.to_datetime(rows["bucket_start"], utc=True)
    if "week" in table or "month" in table:
        return 0
    assert starts.max() < pd.Timestamp(LATER) - pd.Timedelta(days=1) + DEFAULT_SETTLE_PERIOD
    return 1


def test_settled_rows_are_the_ones_that_ended_before_the_settle_period(kept: tuple) -> None:
    by, path, _ = kept
    rows = mt.Store(path).sql("SELECT bucket_end, settled, failed FROM sessions" + _suffix(by))
    limit = pd.Timestamp(NOW) - DEFAULT_SETTLE_PERIOD
    ended = pd.to_datetime(rows["bucket_end"], utc=True) <= limit
    assert (rows["settled"] == (ended & ~rows["failed"])).all()
    assert rows["settled"].any() and not rows["settled"].all()


def _suffix(by: str | None) -> str:
    return "" if by is None else f"_by_{by}"
