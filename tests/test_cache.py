"""The answer store: bulk lookups, batched writes, expiry, and files of another layout."""

from __future__ import annotations

import datetime as dt
import gc
import math
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

import metrics_toolkit as mt
from metrics_toolkit.cache import CACHE_FILE_NAME, AnswerStore, CachePolicy
from metrics_toolkit.demo import DemoAPI


def test_the_policy_keeps_settled_windows_for_good_and_never_open_ones() -> None:
    policy = CachePolicy(settle_period=dt.timedelta(days=14), provisional_ttl=dt.timedelta(hours=1))
    day = 86_400
    assert policy.expire_after(time_before=100 * day, now=99 * day) is None  # still open
    assert policy.expire_after(time_before=100 * day, now=101 * day) == 3600.0  # provisional
    assert policy.expire_after(time_before=100 * day, now=114 * day) == math.inf  # settled


def test_answers_are_written_when_flushed_and_read_in_one_lookup(tmp_path: Path) -> None:
    store = AnswerStore(tmp_path)
    keys = [f"key-{number}" for number in range(1_500)]  # more than one query's worth
    for key in keys:
        store.put(key, f'{{"k": "{key}"}}'.encode(), math.inf)
    assert store.get_many(keys[:3]) == {}  # waiting, not written one by one
    assert store.flush() == len(keys)
    found = store.get_many([*keys, "missing"])
    assert len(found) == len(keys) and found["key-1499"] == b'{"k": "key-1499"}'
    store.close()
    again = AnswerStore(tmp_path)  # another process would read the same
    assert len(again.get_many(keys)) == len(keys)
    again.close()


def test_an_expired_answer_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AnswerStore(tmp_path)
    clock = [1_000_000.0]
    monkeypatch.setattr("metrics_toolkit.cache.time.time", lambda: clock[0])
    store.put("provisional", b"{}", 3600.0)
    store.put("settled", b"{}", math.inf)
    store.flush()
    assert set(store.get_many(["provisional", "settled"])) == {"provisional", "settled"}
    clock[0] += 3601
    assert set(store.get_many(["provisional", "settled"])) == {"settled"}


def test_a_file_of_another_layout_is_emptied_not_misread(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE_NAME
    database = sqlite3.connect(path)  # another layout: no version, no expires column
    database.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, value BLOB)")
    database.execute("INSERT INTO responses VALUES ('old', x'80049500')")
    database.commit()
    database.close()
    store = AnswerStore(tmp_path)
    assert store.get_many(["old"]) == {} and len(store) == 0
    store.put("new", b"{}", math.inf)
    store.flush()
    assert store.get_many(["new"]) == {"new": b"{}"}


def test_a_series_writes_its_answers_in_one_transaction(
    demo_api: DemoAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[int] = []
    flush = AnswerStore.flush

    def counting_flush(self: AnswerStore) -> int:
        count = flush(self)
        if count:
            written.append(count)
        return count

    monkeypatch.setattr(AnswerStore, "flush", counting_flush)
    client = mt.MetricsClient.demo(api=demo_api, cache_dir=tmp_path)
    frame = client.session_metrics_frame("2026-01-05", "2026-11-02", freq="week", workers=4)
    assert written == [len(frame)] == [43]
    org = demo_api.enterprise.organizations[0].org_id
    client.directory()  # the filter is checked against it; its lists are written as they come
    del written[1:]
    client.session_metrics("2026-01-05", "2026-01-12", org_ids=[org])  # alone: at once
    assert written == [43, 1]


def test_what_a_fetch_returns_is_not_also_kept_by_the_client(
    demo_api: DemoAPI, tmp_path: Path
) -> None:
    client = mt.MetricsClient.demo(api=demo_api, cache_dir=tmp_path)
    client.session_metrics_frame("2025-12-01", "2026-01-01", freq="day")  # warms every cache
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        frame = client.session_metrics_frame("2026-01-01", "2026-11-01", freq="day")
        assert len(frame) == 304
        del frame
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 200_000, f"{kept:,} bytes still held after the frame was dropped"


def test_an_unreadable_cache_file_is_set_aside_with_a_warning(
    demo_api: DemoAPI, tmp_path: Path
) -> None:
    (tmp_path / CACHE_FILE_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.warns(mt.CacheWarning, match="could not be read"):
        client = mt.MetricsClient.demo(api=demo_api, cache_dir=tmp_path)
    assert client.session_metrics("2026-11-02", "2026-11-09").sessions_created_count > 0
    assert (tmp_path / (CACHE_FILE_NAME + ".damaged")).read_bytes().startswith(b"this is not")


def test_a_table_of_another_layout_with_the_same_version_is_emptied(tmp_path: Path) -> None:
    database = sqlite3.connect(tmp_path / CACHE_FILE_NAME)
    database.execute("CREATE TABLE responses (id INTEGER, blob BLOB)")
    database.execute("PRAGMA user_version = 1")
    database.commit()
    database.close()
    store = AnswerStore(tmp_path)
    store.put("k", b"{}", math.inf)
    assert store.flush() == 1 and store.get_many(["k"]) == {"k": b"{}"}


def test_a_write_that_fails_warns_and_loses_no_fetched_number(
    demo_api: DemoAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("metrics_toolkit.cache.BUSY_TIMEOUT", 0.2)
    client = mt.MetricsClient.demo(api=demo_api, cache_dir=tmp_path)
    other = sqlite3.connect(tmp_path / CACHE_FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.warns(mt.CacheWarning, match="could not be written"):
            frame = client.session_metrics_frame("2026-09-07", "2026-11-02", freq="week")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(frame) == 8 and not frame["failed"].any()
    assert client._path.store is not None and client._path.store.flush() == 8  # kept, written
    again = client.session_metrics_frame("2026-09-07", "2026-11-02", freq="week")
    assert again.attrs["fetch_stats"].from_cache == 8
