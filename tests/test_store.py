"""The local history store: sync is incremental and idempotent, frames equal fetched ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import metrics_toolkit as mt

pytest.importorskip("duckdb")

NOW = "2026-11-20T12:00:00Z"
LATER = "2026-11-21T12:00:00Z"
START = "2026-10-01"
SESSIONS = ("sessions",)


def metric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("bucket_end", "clipped")]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "history.duckdb"
    mt.sync(mt.MetricsClient.demo(now=NOW), path, START, metrics=SESSIONS)
    return path


def test_a_later_sync_asks_only_for_the_provisional_days_and_the_new_one(db: Path) -> None:
    settled = mt.Store(db).sql("SELECT count(*) AS n FROM sessions WHERE settled")["n"][0]
    total = mt.Store(db).sql("SELECT count(*) AS n FROM sessions")["n"][0]
    assert total == 51  # 2026-10-01 .. 2026-11-20
    assert 0 < settled < total
    summary = mt.sync(mt.MetricsClient.demo(now=LATER), db, START, metrics=SESSIONS)
    assert summary.calls == total - settled + 1
    assert summary.days == {"sessions": total - settled + 1}
    assert mt.Store(db).sql("SELECT count(*) AS n FROM sessions")["n"][0] == total + 1


def test_syncing_twice_gives_identical_tables(db: Path) -> None:
    query = "SELECT * EXCLUDE (fetched_at) FROM sessions ORDER BY bucket_start"
    before = mt.Store(db).sql(query)
    mt.sync(mt.MetricsClient.demo(now=NOW), db, START, metrics=SESSIONS)
    pd.testing.assert_frame_equal(mt.Store(db).sql(query), before)


def test_an_earlier_start_fills_the_days_before(db: Path) -> None:
    summary = mt.sync(mt.MetricsClient.demo(now=NOW), db, "2026-09-25", metrics=SESSIONS)
    settled = mt.Store(db).sql("SELECT count(*) AS n FROM sessions WHERE settled")["n"][0]
    total = mt.Store(db).sql("SELECT count(*) AS n FROM sessions")["n"][0]
    assert total == 57
    assert summary.calls == 6 + (total - settled)  # the new days, then the unsettled ones


@pytest.mark.parametrize(
    ("start", "end", "freq"),
    [("2026-10-01", "2026-11-21", "day"), ("2026-10-05", "2026-11-23", "week")],
)
def test_a_store_frame_equals_a_fetched_frame(db: Path, start: str, end: str, freq: str) -> None:
    client = mt.MetricsClient.demo(now=NOW)
    fetched = mt.fetch_series(client, start, end, freq, progress=False)
    stored = mt.Store(db, now=NOW).frame(start, end, freq)
    columns = metric_columns(fetched)
    assert list(stored.columns) == list(fetched.columns)
    pd.testing.assert_frame_equal(stored[columns], fetched[columns])
    for key in ("freq", "tz", "group_by", "now"):
        assert stored.attrs[key] == fetched.attrs[key], key


def test_a_store_with_a_breakdown_equals_a_fetched_frame(tmp_path: Path) -> None:
    path = tmp_path / "orgs.duckdb"
    client = mt.MetricsClient.demo(now=NOW)
    mt.sync(client, path, "2026-11-10", by="org", metrics=SESSIONS)
    fetched = mt.fetch_series(client, "2026-11-10", "2026-11-21", "day", by="org", progress=False)
    stored = mt.Store(path, now=NOW).frame("2026-11-10", "2026-11-21", by="org")
    columns = metric_columns(fetched)
    pd.testing.assert_frame_equal(stored[columns], fetched[columns])


def test_another_zone_is_refused(db: Path) -> None:
    with pytest.raises(mt.InvalidParameterError, match="fixed when it is created"):
        mt.sync(mt.MetricsClient.demo(now=NOW), db, START, tz="Europe/Paris")
    with pytest.raises(mt.InvalidParameterError, match="not 'Europe/Paris'"):
        mt.Store(db).frame(START, "2026-11-01", tz="Europe/Paris")


@pytest.mark.parametrize("metric", ["prs", "searches", "usage"])
def test_other_families_are_kept_and_read_back(tmp_path: Path, metric: str) -> None:
    path = tmp_path / f"{metric}.duckdb"
    client = mt.MetricsClient.demo(now=NOW)
    summary = mt.sync(client, path, "2026-11-02", metrics=("sessions", metric))
    assert summary.days == {"sessions": 19, metric: 19}
    for freq, end in (("day", "2026-11-21"), ("week", "2026-11-23")):
        fetched = mt.fetch_series(client, "2026-11-02", end, freq, metric=metric, progress=False)
        stored = mt.Store(path, now=NOW).frame("2026-11-02", end, freq, metric=metric)
        columns = metric_columns(fetched)
        pd.testing.assert_frame_equal(stored[columns], fetched[columns])


def test_a_failed_day_is_asked_again_and_filled(db: Path) -> None:
    query = "SELECT * EXCLUDE (fetched_at) FROM sessions ORDER BY bucket_start"
    before = mt.Store(db).sql(query)
    unsettled = int((~before["settled"]).sum())
    failed = "UPDATE sessions SET failed = true, settled = false, sessions_created_count = NULL"
    mt.Store(db).sql(f"{failed} WHERE bucket_start = '2026-10-05 00:00:00+00'", write=True)
    summary = mt.sync(mt.MetricsClient.demo(now=NOW), db, START, metrics=SESSIONS)
    assert summary.calls == unsettled + 1
    pd.testing.assert_frame_equal(mt.Store(db).sql(query), before)


def test_a_store_in_another_zone_equals_a_fetch_in_that_zone(tmp_path: Path) -> None:
    path = tmp_path / "paris.duckdb"
    client = mt.MetricsClient.demo(now=NOW)
    mt.sync(client, path, "2026-10-20", tz="Europe/Paris", metrics=SESSIONS)
    store = mt.Store(path, now=NOW)
    assert store.tz == "Europe/Paris"
    for freq, start, end in (
        ("day", "2026-10-20", "2026-11-21"),
        ("week", "2026-10-26", "2026-11-23"),
    ):
        fetched = mt.fetch_series(client, start, end, freq, tz="Europe/Paris", progress=False)
        stored = store.frame(start, end, freq, tz="Europe/Paris")
        columns = metric_columns(fetched)
        pd.testing.assert_frame_equal(stored[columns], fetched[columns])
        assert stored.index.equals(fetched.index)


def test_the_sync_command_keeps_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metrics_toolkit import cli

    path = tmp_path / "cli.duckdb"
    now = mt.MetricsClient.demo().now()
    start = (now - pd.Timedelta(days=20)).date().isoformat()
    argv = ["sync", "--db", str(path), "--start", start, "--demo", "--metrics", "sessions,prs"]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert ": 42 call(s), 0 from the store, 0 failed, 42 row(s) written" in out  # 21 days x 2
    store = mt.Store(path)
    assert store.sql("SELECT count(DISTINCT bucket_start) AS n FROM prs")["n"][0] == 21
    unsettled = store.sql("SELECT count(*) AS n FROM prs WHERE NOT settled")["n"][0]
    assert 0 < unsettled < 21
    assert cli.main(argv) == 0
    calls = 2 * unsettled
    line = f": {calls} call(s), {42 - calls} from the store, 0 failed, {calls} row(s) written"
    assert line in capsys.readouterr().out
    assert not list(tmp_path.glob("cache/**/*.*"))  # each answer written once: to the store


def test_the_sync_command_keeps_every_family_and_shows_its_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from metrics_toolkit import cli

    path = tmp_path / "all.duckdb"
    now = mt.MetricsClient.demo().now()
    start = (now - pd.Timedelta(days=3)).date().isoformat()
    argv = ["sync", "--db", str(path), "--start", start, "--demo", "--cache-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "from the store" in captured.err and "failed" in captured.err  # the progress bar
    assert set(mt.store.METRIC_NAMES) <= {t.split("_week")[0] for t in mt.Store(path).tables()}
    assert cli.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_sync_from_python_writes_each_answer_once_to_the_store(tmp_path: Path) -> None:
    client = mt.MetricsClient.demo(now=NOW, cache_dir=tmp_path / "cache")
    mt.sync(client, tmp_path / "once.duckdb", "2026-11-10", metrics=SESSIONS, progress=False)
    again = mt.fetch_series(client, "2026-11-10", "2026-11-20", "day", progress=False)
    assert again.attrs["fetch_stats"].from_cache == 0  # the answers went to the store only
    assert again.attrs["fetch_stats"].fetched == 10


def test_a_store_says_where_its_answers_came_from_and_when(db: Path) -> None:
    store = mt.Store(db)
    assert store.origin == "demo" and store.is_demo
    assert store.last_sync() == pd.Timestamp(NOW)
    live = mt.MetricsClient(api_key="cog_x", base_url="https://api.example.com", cache=False)
    assert mt.store._sync._origin(live) == "api.example.com"  # the host, never the key
