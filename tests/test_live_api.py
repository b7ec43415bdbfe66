"""Against the real Devin API: opt-in only, skipped unless METRICS_TOOLKIT_LIVE_API=1 and
DEVIN_API_KEY are set (read-only calls: one window, one short series, the organizations)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import metrics_toolkit as mt

from .conftest import LIVE_API, LIVE_BASE_URL, LIVE_KEY

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (LIVE_API and LIVE_KEY),
        reason="opt-in: set METRICS_TOOLKIT_LIVE_API=1 and DEVIN_API_KEY to run against the API",
    ),
]


def test_the_real_api_answers_in_the_documented_shape(tmp_path: Path) -> None:
    client = mt.MetricsClient(LIVE_KEY, base_url=LIVE_BASE_URL, cache_dir=tmp_path)
    end = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=14)
    whole = client.session_metrics(start, end)
    daily = mt.fetch_series(client, start, end, "day", progress=False)
    assert len(daily) == 14 and not daily["failed"].any()
    assert int(daily["sessions_created_count"].sum()) == whole.sessions_created_count
    assert isinstance(client.organizations(), list)
