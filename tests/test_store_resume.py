"""The store is written batch by batch: a stopped sync keeps what it wrote and the next goes on
from there; a group not yet kept is filled; tables export to Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.store import _jobs, _sync

duckdb = pytest.importorskip("duckdb")

NOW = "2026-11-20T12:00:00Z"
START = "2026-11-01"
FAMILIES = ("sessions", "prs", "active_users", "consumption")


def tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of a store, without when its rows were fetched, in key order."""
    store = mt.Store(path)
    out = {}
    for table in store.tables():
        rows = store.sql(f'SELECT * EXCLUDE (fetched_at) FROM "{table}"')
        keys = [c for c in ("org_id", "bucket_start") if c in rows.columns]
        out[table] = rows.sort_values(keys, kind="stable").reset_index(drop=True)
    return out


def assert_same_tables(left: Path, right: Path) -> None:
    one, two = tables(left), tables(right)
    assert list(one) == list(two)
    for name in one:
        pd.testing.assert_frame_equal(one[name], two[name], obj=name)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sync that ran to its end."""
    path = tmp_path_factory.mktemp("whole") / "whole.duckdb"
    client = mt.MetricsClient.demo(now=NOW)
    mt.sync(client, path, START, by="org", metrics=FAMILIES, progress=False)
    return path


class Stop(KeyboardInterrupt):
    """Ctrl-C, pressed after some batches."""


def test_a_stopped_sync_keeps_its_batches_and_the_next_goes_on(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jobs, "STORE_BATCH_CALLS", 40)
    path = tmp_path / "stopped.duckdb"
    seen: list[int] = []

    def stop_half_way(done: int, total: int) -> None:
        seen.append(done)
        if done > total // 2:
            raise Stop

    client = mt.MetricsClient.demo(now=NOW)
    with pytest.raises(Stop):
        mt.sync(client, path, START, by="org", metrics=FAMILIES, on_progress=stop_half_way)
    total = sum(len(rows) for rows in tables(whole).values())
    written = sum(len(rows) for rows in tables(path).values())
    assert 0 < written < total
    summary = mt.sync(client, path, START, by="org", metrics=FAMILIES, progress=False)
    assert summary.from_store > 0
    assert_same_tables(path, whole)


def test_answers_are_written_in_batches_of_at_most_the_batch_size(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jobs, "STORE_BATCH_CALLS", 7)
    sizes: list[int] = []
    merge = _sync.merge

    def counted(con: Any, table: str, rows: pd.DataFrame, *args: Any) -> None:
        sizes.append(len(rows))
        merge(con, table, rows, *args)

    monkeypatch.setattr(_sync, "merge", counted)
    path = tmp_path / "batched.duckdb"
    mt.sync(mt.MetricsClient.demo(now=NOW), path, START, by="org", metrics=("sessions",))
    assert max(sizes) == 7 and len(sizes) > 10
    one = tables(path)["sessions_by_org"]
    pd.testing.assert_frame_equal(one, tables(whole)["sessions_by_org"])


def test_a_group_not_yet_kept_is_filled_alone(whole: Path, tmp_path: Path) -> None:
    path = tmp_path / "gap.duckdb"
    path.write_bytes(whole.read_bytes())
    store = mt.Store(path)
    org = store.sql("SELECT min(org_id) AS o FROM sessions_by_org")["o"][0]
    days = store.sql("SELECT count(*) AS n FROM sessions_by_org WHERE org_id = ?", [org])["n"][0]
    others = store.sql(
        "SELECT count(*) AS n FROM sessions_by_org WHERE org_id <> ? AND NOT settled", [org]
    )["n"][0]
    store.sql("DELETE FROM sessions_by_org WHERE org_id = ?", [org], write=True)
    summary = mt.sync(mt.MetricsClient.demo(now=NOW), path, START, by="org", metrics=["sessions"])
    assert summary.calls == days + others
    pd.testing.assert_frame_equal(tables(path)["sessions_by_org"], tables(whole)["sessions_by_org"])


def test_tables_export_to_parquet(whole: Path, tmp_path: Path) -> None:
    files = mt.Store(whole).to_parquet(tmp_path / "parquet")
    assert sorted(f.stem for f in files) == mt.Store(whole).tables()
    for file in files:
        exported = duckdb.sql(f"SELECT * FROM read_parquet('{file}')").df()
        kept = mt.Store(whole).sql(f'SELECT * FROM "{file.stem}"')
        assert list(exported.columns) == list(kept.columns)
        pd.testing.assert_frame_equal(
            exported.drop(columns=["fetched_at", "bucket_start", "bucket_end"]),
            kept.drop(columns=["fetched_at", "bucket_start", "bucket_end"]),
            check_dtype=False,
        )
        starts = pd.to_datetime(exported["bucket_start"], utc=True)
        assert starts.equals(pd.to_datetime(kept["bucket_start"], utc=True))


def test_an_unknown_family_is_refused_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(mt.InvalidParameterError, match="did you mean 'sessions'"):
        mt.sync(mt.MetricsClient.demo(now=NOW), tmp_path / "x.duckdb", START, metrics=["sesions"])
    with pytest.raises(mt.InvalidParameterError, match="usage cannot be kept by 'user'"):
        mt.sync(
            mt.MetricsClient.demo(now=NOW),
            tmp_path / "y.duckdb",
            START,
            metrics=["usage"],
            by="user",
        )
