"""Buckets made by time_buckets are the buckets Bucket(...) makes, their Unix seconds known;
in a UTC clock they are the ones the time zone machinery gives."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from metrics_toolkit import frequencies
from metrics_toolkit.buckets import Bucket, time_buckets

RANGES = [
    ("2024-01-10", "2024-03-15", "day", "UTC"),
    ("2024-03-20 06:00", "2024-04-03", "day", "Europe/Berlin"),
    ("2024-10-20", "2024-11-10", "6h", "America/New_York"),
    ("2024-01-10", "2024-06-15", "week", "Australia/Lord_Howe"),
    ("2024-01-10", "2025-02-01", "month", "UTC"),
    ("2024-01-03", "2024-01-04", "day", "UTC"),  # one bucket, not clipped
    ("2024-01-03 05:00", "2024-01-03 07:00", "day", "UTC"),  # one bucket, clipped twice
    ("2024-01-03", "2024-03-01", "7D", "Asia/Kolkata"),
]


@pytest.mark.parametrize(("start", "end", "freq", "tz"), RANGES)
def test_each_bucket_is_the_one_its_constructor_makes(
    start: str, end: str, freq: str, tz: str
) -> None:
    buckets = time_buckets(start, end, freq, tz, now="2024-05-01T12:00+00:00")
    for bucket in buckets:
        made = Bucket(bucket.start, bucket.end, clipped=bucket.clipped, partial=bucket.partial)
        assert bucket == made and hash(bucket) == hash(made) and repr(bucket) == repr(made)
        assert type(bucket.time_after) is int and type(bucket.time_before) is int
        assert bucket.time_after == made.time_after == int(bucket.start.timestamp())
        assert bucket.time_before == made.time_before == int(bucket.end.timestamp())
        assert bucket.start.tz == made.start.tz and str(bucket.start.tz) == tz
    now = pd.Timestamp("2024-05-01 12:00Z")
    assert [b.partial for b in buckets] == [b.end > now for b in buckets]


def test_a_copy_or_a_pickle_keeps_its_seconds_and_a_replaced_bound_gets_its_own() -> None:
    bucket = time_buckets("2024-01-01", "2024-01-03", "day", now="2030-01-01")[1]
    assert pickle.loads(pickle.dumps(bucket)) == bucket
    assert pickle.loads(pickle.dumps(bucket)).time_before == bucket.time_before
    later = dataclasses.replace(bucket, end=bucket.end + pd.Timedelta(hours=1))
    assert later.time_after == bucket.time_after
    assert later.time_before == bucket.time_before + 3600
    with pytest.raises(dataclasses.FrozenInstanceError):
        bucket.start = bucket.end  # type: ignore[misc]


@pytest.mark.parametrize("zone", sorted(frequencies._UTC_ZONES))
@pytest.mark.parametrize("freq", ["day", "week", "month", "6h", "90min"])
def test_a_utc_clock_gives_the_buckets_the_time_zone_machinery_gives(
    monkeypatch: pytest.MonkeyPatch, zone: str, freq: str
) -> None:
    walls = np.arange(1_700_000_000 - 86_400, 1_700_000_000 + 86_400 * 40, 3_600, dtype=np.int64)
    quick = time_buckets("2023-11-02 05:00", "2024-01-09", freq, zone, now="2023-12-01")
    quick_walls = frequencies.localize_walls(walls, zone)
    monkeypatch.setattr(frequencies, "_UTC_ZONES", frozenset())
    assert time_buckets("2023-11-02 05:00", "2024-01-09", freq, zone, now="2023-12-01") == quick
    for got, expected in zip(quick_walls, frequencies.localize_walls(walls, zone), strict=True):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
