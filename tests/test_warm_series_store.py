"""A warm series reads its answers from the store, and a broken stored body is never one of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.demo import DEMO_API_KEY, DemoServer

from .conftest import NOW

BROKEN = {
    "not JSON": b"\x80\x04garbage",
    "a count as text": b'{"sessions_created_count": "12"}',
    "a field missing": b'{"sessions_created_count": 12, "avg_acus_per_session": 1.5}',
}


def client_for(server: DemoServer, cache_dir: Path) -> mt.MetricsClient:
    return mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache_dir=cache_dir, now=NOW, backoff=0.0
    )


def series(client: mt.MetricsClient) -> pd.DataFrame:
    return mt.fetch_series(client, "2026-09-01", "2026-09-29", "day", progress=False)


@pytest.mark.parametrize("body", BROKEN)
def test_a_broken_stored_body_is_asked_again_and_never_read_as_an_answer(
    server: DemoServer, tmp_path: Path, body: str
) -> None:
    with client_for(server, tmp_path) as client:
        fetched = series(client)
    asked = server.request_count
    assert asked == len(fetched) == 28
    database = sqlite3.connect(tmp_path / mt.cache.CACHE_FILE_NAME)
    with database:
        (key,) = database.execute("SELECT key FROM responses ORDER BY key LIMIT 1").fetchone()
        database.execute("UPDATE responses SET value = ? WHERE key = ?", (BROKEN[body], key))
    database.close()
    with client_for(server, tmp_path) as client, pytest.warns(mt.CacheWarning, match="again"):
        warm = series(client)
    assert server.request_count == asked + 1  # only the broken one, asked again
    stats = warm.attrs["fetch_stats"]
    assert (stats.from_cache, stats.fetched) == (27, 1)
    pd.testing.assert_frame_equal(warm, fetched, check_like=False, check_exact=True)
    with client_for(server, tmp_path) as client:
        again = series(client)  # the answer asked again was stored in its place
    assert server.request_count == asked + 1
    assert again.attrs["fetch_stats"].from_cache == 28
    pd.testing.assert_frame_equal(again, fetched, check_exact=True)
