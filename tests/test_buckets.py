"""Tests of metrics_toolkit.buckets: examples first, then hypothesis properties.

The properties compare the buckets with an oracle written on the standard library's zoneinfo
alone (no pandas), so a bug in pandas' time zone handling cannot hide in both.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import zoneinfo
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from metrics_toolkit.buckets import (
    MAX_BUCKETS,
    Bucket,
    FreqLike,
    Frequency,
    bucket_floor,
    bucket_floor_index,
    fixed_spans,
    parse_freq,
    time_buckets,
)
from metrics_toolkit.errors import InvalidParameterError

#: A "now" after every range below, so no bucket is partial unless a test says so.
FAR_FUTURE = "2100-01-01"
HOUR = 3600
DAY = 86_400


def hours(bucket: Bucket) -> float:
    return float(bucket.duration / pd.Timedelta(hours=1))


def starts(buckets: list[Bucket]) -> list[str]:
    return [bucket.start.isoformat() for bucket in buckets]


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def test_iso_weeks_in_utc_start_on_monday_midnight() -> None:
    buckets = time_buckets("2024-01-01", "2024-01-29", "week", now=FAR_FUTURE)
    assert starts(buckets) == [
        "2024-01-01T00:00:00+00:00",
        "2024-01-08T00:00:00+00:00",
        "2024-01-15T00:00:00+00:00",
        "2024-01-22T00:00:00+00:00",
    ]
    assert all(hours(bucket) == 7 * 24 and not bucket.clipped for bucket in buckets)
    assert buckets[0].time_after == 1_704_067_200
    assert buckets[-1].time_before == 1_706_486_400
    for spelling in ("W", "W-SUN", "weekly", "Week", "week-monday", "week-mon"):
        assert time_buckets("2024-01-01", "2024-01-29", spelling, now=FAR_FUTURE) == buckets


def test_time_after_and_time_before_are_int_unix_seconds() -> None:
    (bucket,) = time_buckets(1_700_000_000, 1_700_003_600, "day", now=FAR_FUTURE)
    assert (bucket.time_after, bucket.time_before) == (1_700_000_000, 1_700_003_600)
    assert type(bucket.time_after) is int and type(bucket.time_before) is int
    assert bucket.clipped


@pytest.mark.parametrize(
    ("start", "end", "expected_hours"),
    [
        ("2024-03-25", "2024-04-01", 7 * 24 - 1),  # spring forward on Sunday 31 March
        ("2024-10-21", "2024-10-28", 7 * 24 + 1),  # fall back on Sunday 27 October
    ],
)
def test_berlin_week_across_dst(start: str, end: str, expected_hours: int) -> None:
    (week,) = time_buckets(start, end, "week", tz="Europe/Berlin", now=FAR_FUTURE)
    assert not week.clipped
    assert week.start == pd.Timestamp(start, tz="Europe/Berlin")
    assert week.end == pd.Timestamp(end, tz="Europe/Berlin")
    assert hours(week) == expected_hours


def test_berlin_days_across_spring_and_autumn_dst() -> None:
    spring = time_buckets("2024-03-30", "2024-04-02", "day", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [hours(bucket) for bucket in spring] == [24, 23, 24]
    autumn = time_buckets("2024-10-26", "2024-10-29", "D", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [hours(bucket) for bucket in autumn] == [24, 25, 24]
    # Every day starts at local midnight: 23:00 or 22:00 UTC.
    assert [bucket.start.tz_convert("UTC").hour for bucket in autumn] == [22, 22, 23]


def test_berlin_month_starts_at_local_midnight() -> None:
    buckets = time_buckets("2024-03-01", "2024-05-01", "month", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [bucket.start.tz_convert("UTC").isoformat() for bucket in buckets] == [
        "2024-02-29T23:00:00+00:00",
        "2024-03-31T22:00:00+00:00",
    ]
    assert buckets[0].time_after == int(pd.Timestamp("2024-02-29 23:00Z").timestamp())


def test_new_york_months_across_dst() -> None:
    buckets = time_buckets("2024-03-01", "2024-12-01", "M", tz="America/New_York", now=FAR_FUTURE)
    march, november = buckets[0], buckets[-1]
    assert march.start.isoformat() == "2024-03-01T00:00:00-05:00"
    assert march.end.isoformat() == "2024-04-01T00:00:00-04:00"
    assert hours(march) == 31 * 24 - 1
    assert november.start.isoformat() == "2024-11-01T00:00:00-04:00"
    assert hours(november) == 30 * 24 + 1
    assert len(buckets) == 9 and not any(bucket.clipped for bucket in buckets)


def test_sunday_start_weeks() -> None:
    buckets = time_buckets("2024-01-07", "2024-01-21", "week-sunday", now=FAR_FUTURE)
    assert [bucket.start.day_name() for bucket in buckets] == ["Sunday", "Sunday"]
    assert not any(bucket.clipped for bucket in buckets)
    # pandas' W-SAT is the week ENDING Saturday, i.e. starting Sunday.
    for spelling in ("W-SAT", "week-sun", "WEEK-SUNDAY"):
        assert time_buckets("2024-01-07", "2024-01-21", spelling, now=FAR_FUTURE) == buckets


def test_clipping_at_both_ends() -> None:
    buckets = time_buckets("2024-01-03 12:00", "2024-01-17 06:00", "week", now=FAR_FUTURE)
    assert starts(buckets) == [
        "2024-01-03T12:00:00+00:00",
        "2024-01-08T00:00:00+00:00",
        "2024-01-15T00:00:00+00:00",
    ]
    assert [bucket.clipped for bucket in buckets] == [True, False, True]
    assert buckets[-1].end == pd.Timestamp("2024-01-17 06:00", tz="UTC")


def test_one_bucket_clipped_on_both_sides() -> None:
    (bucket,) = time_buckets("2024-01-10", "2024-01-20", "month", now=FAR_FUTURE)
    assert bucket.clipped
    assert (bucket.start.day, bucket.end.day) == (10, 20)


def test_partial_when_end_is_after_now() -> None:
    buckets = time_buckets("2024-01-01", "2024-01-05", "day", now="2024-01-03 00:00")
    assert [bucket.partial for bucket in buckets] == [False, False, True, True]
    # A bucket ending exactly now is complete; one second later it is not.
    buckets = time_buckets("2024-01-01", "2024-01-03", "day", now=1_704_153_600)
    assert [bucket.partial for bucket in buckets] == [False, True]
    buckets = time_buckets("2024-01-01", "2024-01-03", "day", now=1_704_153_599)
    assert [bucket.partial for bucket in buckets] == [True, True]


def test_now_defaults_to_the_clock() -> None:
    past = time_buckets("2020-01-01", "2020-01-02", "day")
    future = time_buckets("2999-01-01", "2999-01-02", "day")
    assert not past[0].partial and future[0].partial


def test_quarters_and_years() -> None:
    quarters = time_buckets("2023-11-15", "2024-12-31", "quarter", now=FAR_FUTURE)
    assert [str(bucket.start.date()) for bucket in quarters] == [
        "2023-11-15",
        "2024-01-01",
        "2024-04-01",
        "2024-07-01",
        "2024-10-01",
    ]
    assert [bucket.clipped for bucket in quarters] == [True, False, False, False, True]
    for spelling in ("Q", "QS", "QE", "QS-JAN", "QE-DEC", "quarterly"):
        assert time_buckets("2023-11-15", "2024-12-31", spelling, now=FAR_FUTURE) == quarters
    years = time_buckets("2022-01-01", "2025-01-01", "year", tz="Asia/Kolkata", now=FAR_FUTURE)
    assert starts(years) == [
        "2022-01-01T00:00:00+05:30",
        "2023-01-01T00:00:00+05:30",
        "2024-01-01T00:00:00+05:30",
    ]
    assert [bucket.duration.days for bucket in years] == [365, 365, 366]


def test_fixed_six_hours() -> None:
    buckets = time_buckets("2024-01-01 03:00", "2024-01-02", "6h", now=FAR_FUTURE)
    assert [bucket.start.hour for bucket in buckets] == [3, 6, 12, 18]
    assert [hours(bucket) for bucket in buckets] == [3, 6, 6, 6]
    assert [bucket.clipped for bucket in buckets] == [True, False, False, False]
    for spelling in (dt.timedelta(hours=6), pd.Timedelta("6h"), pd.offsets.Hour(6), "360min"):
        assert time_buckets("2024-01-01 03:00", "2024-01-02", spelling, now=FAR_FUTURE) == buckets


def test_fixed_six_hours_follow_the_berlin_wall_clock_across_dst() -> None:
    spring = time_buckets("2024-03-31", "2024-04-01", "6h", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [bucket.start.hour for bucket in spring] == [0, 6, 12, 18]
    assert [hours(bucket) for bucket in spring] == [5, 6, 6, 6]
    autumn = time_buckets("2024-10-27", "2024-10-28", "6h", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [hours(bucket) for bucket in autumn] == [7, 6, 6, 6]


def test_hourly_buckets_keep_both_repeated_hours() -> None:
    buckets = time_buckets(
        "2024-10-27 01:00", "2024-10-27 04:00", "hour", tz="Europe/Berlin", now=FAR_FUTURE
    )
    assert starts(buckets) == [
        "2024-10-27T01:00:00+02:00",
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:00:00+01:00",
        "2024-10-27T03:00:00+01:00",
    ]
    assert all(hours(bucket) == 1 for bucket in buckets)


def test_fixed_length_not_dividing_a_day_counts_from_start_or_origin() -> None:
    # By default from start, like pandas.date_range: 7-day buckets from a Wednesday.
    buckets = time_buckets("2024-01-03", "2024-01-20", "7D", tz="Europe/Berlin", now=FAR_FUTURE)
    assert [str(bucket.start.date()) for bucket in buckets] == [
        "2024-01-03",
        "2024-01-10",
        "2024-01-17",
    ]
    assert [bucket.clipped for bucket in buckets] == [False, False, True]
    # From an explicit origin, here the Unix epoch: multiples of 7 h since 1970-01-01 00:00 UTC.
    buckets = time_buckets(
        "2024-01-01", "2024-01-02", "7h", tz="Europe/Berlin", now=FAR_FUTURE, origin=0
    )
    assert all(bucket.time_after % (7 * HOUR) == 0 for bucket in buckets[1:])
    assert all(hours(bucket) == 7 for bucket in buckets[1:-1])
    assert buckets[0].clipped
    # 2024-01-02 00:00 Berlin is 2024-01-01 23:00 UTC, exactly 67,625 x 7 h after the epoch.
    assert buckets[-1].time_before == 67_625 * 7 * HOUR and not buckets[-1].clipped
    assert bucket_floor(buckets[1].start, "7h", "Europe/Berlin", origin=0) == buckets[1].start
    # bucket_floor has no start to count from, so it needs the origin.
    with pytest.raises(InvalidParameterError, match="origin=start") as excinfo:
        bucket_floor("2024-01-01 12:00", "7h")
    assert excinfo.value.parameter == "origin"
    with pytest.raises(InvalidParameterError, match="origin"):
        bucket_floor_index(pd.DatetimeIndex(["2024-01-01"], tz="UTC"), "2D")


def test_lord_howe_half_hour_gap() -> None:
    # 2023-10-01 02:00 +10:30 jumps to 02:30 +11:00. (pandas' own shift_forward says 03:00.)
    buckets = time_buckets(
        "2023-10-01 00:00", "2023-10-01 04:00", "1h", tz="Australia/Lord_Howe", now=FAR_FUTURE
    )
    assert starts(buckets) == [
        "2023-10-01T00:00:00+10:30",
        "2023-10-01T01:00:00+10:30",
        "2023-10-01T02:30:00+11:00",
        "2023-10-01T03:00:00+11:00",
    ]
    assert [hours(bucket) for bucket in buckets] == [1, 1, 0.5, 1]


def test_santiago_day_starts_after_the_midnight_jump() -> None:
    # 2022-09-11 00:00 -04:00 does not exist: clocks jump to 01:00 -03:00.
    buckets = time_buckets("2022-09-10", "2022-09-12", "day", tz="America/Santiago", now=FAR_FUTURE)
    assert starts(buckets) == ["2022-09-10T00:00:00-04:00", "2022-09-11T01:00:00-03:00"]
    assert [hours(bucket) for bucket in buckets] == [24, 23]
    assert bucket_floor("2022-09-11 12:00", "day", "America/Santiago") == buckets[1].start


def test_havana_missing_and_repeated_midnights() -> None:
    # Havana sprang forward at midnight on Sunday 2012-04-01 (00:00 -05:00 -> 01:00 -04:00) and
    # fell back at 01:00 on 2012-11-04, so that day's midnight occurred twice.
    weeks = time_buckets(
        "2012-03-25", "2012-04-08", "week-sunday", tz="America/Havana", now=FAR_FUTURE
    )
    assert starts(weeks) == ["2012-03-25T00:00:00-05:00", "2012-04-01T01:00:00-04:00"]
    assert [hours(week) for week in weeks] == [7 * 24, 7 * 24 - 1]
    days = time_buckets("2012-11-03", "2012-11-05", "day", tz="America/Havana", now=FAR_FUTURE)
    assert starts(days) == ["2012-11-03T00:00:00-04:00", "2012-11-04T00:00:00-04:00"]
    assert [hours(day) for day in days] == [24, 25]
    # A fixed 24 h length follows the wall clock and so starts at both midnights.
    fixed = time_buckets(
        "2012-11-04T00:00-04:00", "2012-11-05", "24h", tz="America/Havana", now=FAR_FUTURE
    )
    assert starts(fixed) == ["2012-11-04T00:00:00-04:00", "2012-11-04T00:00:00-05:00"]


def test_a_skipped_day_has_no_bucket() -> None:
    # Pacific/Apia skipped 30 December 2011.
    buckets = time_buckets("2011-12-29", "2012-01-01", "day", tz="Pacific/Apia", now=FAR_FUTURE)
    assert [str(bucket.start.date()) for bucket in buckets] == ["2011-12-29", "2011-12-31"]
    assert all(hours(bucket) == 24 for bucket in buckets)


def test_requested_bounds_are_floored_to_whole_seconds() -> None:
    (bucket,) = time_buckets("2024-01-01 00:00:00.900", "2024-01-02 00:00:00.5", "day", now=0)
    assert bucket.start == pd.Timestamp("2024-01-01", tz="UTC")
    assert bucket.end == pd.Timestamp("2024-01-02", tz="UTC")
    assert not bucket.clipped and bucket.partial


def test_aware_inputs_are_converted_to_tz() -> None:
    (bucket,) = time_buckets(
        pd.Timestamp("2024-01-01 23:00", tz="UTC"),
        dt.datetime(2024, 1, 2, 23, tzinfo=dt.timezone.utc),
        "day",
        tz="Europe/Berlin",
        now=FAR_FUTURE,
    )
    assert bucket.start.isoformat() == "2024-01-02T00:00:00+01:00"
    assert str(bucket.start.tz) == "Europe/Berlin" and not bucket.clipped


def test_bucket_floor_examples() -> None:
    assert bucket_floor("2024-03-31 12:00", "week", "Europe/Berlin") == pd.Timestamp(
        "2024-03-25", tz="Europe/Berlin"
    )
    assert bucket_floor("2024-05-17 13:14:15", "month") == pd.Timestamp("2024-05-01", tz="UTC")
    assert bucket_floor("2024-05-17 13:14:15", "quarter") == pd.Timestamp("2024-04-01", tz="UTC")
    assert bucket_floor("2024-05-17 13:14:15", "6h") == pd.Timestamp("2024-05-17 12:00", tz="UTC")
    assert bucket_floor(1_704_067_200, "year", "Asia/Kathmandu") == pd.Timestamp(
        "2024-01-01", tz="Asia/Kathmandu"
    )


def test_bucket_floor_index_keeps_name_nat_and_resolution() -> None:
    index = pd.DatetimeIndex(
        ["2024-01-31 23:30", None, "2024-02-01 00:30"], name="bucket_start"
    ).tz_localize("UTC")
    floored = bucket_floor_index(index, "month", "Europe/Berlin")
    assert floored.name == "bucket_start" and floored.unit == index.unit
    assert str(floored.tz) == "Europe/Berlin"
    assert floored[0] == pd.Timestamp("2024-02-01", tz="Europe/Berlin")
    assert pd.isna(floored[1])
    assert floored[2] == floored[0]
    assert len(bucket_floor_index(pd.DatetimeIndex([], tz="UTC"), "day")) == 0


def test_bucket_floor_index_reads_naive_values_in_tz() -> None:
    floored = bucket_floor_index(["2024-03-05 01:00", "2024-03-11"], "week", "America/New_York")
    assert floored.strftime("%Y-%m-%d %z").tolist() == ["2024-03-04 -0500", "2024-03-11 -0400"]
    with pytest.raises(InvalidParameterError) as excinfo:
        bucket_floor_index(["2024-11-03 01:30"], "day", "America/New_York")  # occurs twice
    assert excinfo.value.parameter == "index"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("day", Frequency("day")),
        ("D", Frequency("day")),
        ("Daily", Frequency("day")),
        ("W", Frequency("week")),
        ("W-SUN", Frequency("week", week_start=0)),
        ("W-MON", Frequency("week", week_start=1)),
        ("W-SAT", Frequency("week", week_start=6)),
        ("week-wednesday", Frequency("week", week_start=2)),
        ("month", Frequency("month")),
        ("MS", Frequency("month")),
        ("ME", Frequency("month")),
        ("Q", Frequency("quarter")),
        ("YS", Frequency("year")),
        ("h", Frequency("fixed", seconds=3600)),
        ("1h30min", Frequency("fixed", seconds=5400)),
        ("2D", Frequency("fixed", seconds=2 * DAY)),
        (dt.timedelta(minutes=15), Frequency("fixed", seconds=900)),
        (pd.offsets.Minute(30), Frequency("fixed", seconds=1800)),
        (pd.offsets.Week(weekday=6), Frequency("week")),
        (pd.offsets.MonthBegin(), Frequency("month")),
        (pd.offsets.YearEnd(), Frequency("year")),
    ],
)
def test_parse_freq_spellings(spelling: FreqLike, expected: Frequency) -> None:
    assert parse_freq(spelling) == expected
    assert parse_freq(str(expected)) == expected  # the canonical name parses back


def test_frequency_names_and_kinds() -> None:
    assert [str(parse_freq(f)) for f in ("W-SAT", "quarter", "90min", "1D", "7h", "45s")] == [
        "week-sunday",
        "quarter",
        "90min",
        "1D",
        "7h",
        "45s",
    ]
    six_hours = parse_freq("6h")
    assert six_hours.is_fixed and six_hours.is_wall_clock_aligned
    assert six_hours.length == pd.Timedelta(hours=6)
    assert not parse_freq("7h").is_wall_clock_aligned
    assert parse_freq("month").length is None and not parse_freq("month").is_fixed
    assert parse_freq("month").nominal_length.days == 30
    assert parse_freq(parse_freq("day")) == parse_freq("day")


@pytest.mark.parametrize(
    ("fine", "coarse", "fits"),
    [
        ("day", "week", True),
        ("day", "month", True),
        ("week", "week", True),
        ("week", "week-sunday", False),
        ("week", "month", False),
        ("month", "quarter", True),
        ("quarter", "year", True),
        ("year", "quarter", False),
        ("1h", "day", True),
        ("6h", "1D", True),
        ("7h", "day", False),
        ("1h", "7h", False),
        ("7h", "14h", True),
        ("day", "6h", False),
    ],
)
def test_fits_in(fine: str, coarse: str, fits: bool) -> None:
    assert parse_freq(fine).fits_in(coarse) is fits


@pytest.mark.parametrize(
    "freq", ["fortnight", "2W", "3M", "0h", "", "QS-FEB", 7, None, pd.Timedelta("1.5s")]
)
def test_unknown_freq_names_freq_and_lists_what_is_accepted(freq: Any) -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        time_buckets("2024-01-01", "2024-02-01", freq, now=FAR_FUTURE)
    assert excinfo.value.parameter == "freq"
    assert isinstance(excinfo.value, ValueError)
    assert str(excinfo.value).startswith("freq: ")


def test_unknown_freq_message_lists_the_accepted_spellings() -> None:
    with pytest.raises(InvalidParameterError, match=r"'week-sunday'.*'month'.*'6h'"):
        parse_freq("fortnightly")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01-02", "2024-01-01"),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01 00:00:00.2", "2024-01-01 00:00:00.7"),  # equal once floored to seconds
    ],
)
def test_empty_or_reversed_range_names_start_and_end(start: str, end: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        time_buckets(start, end, "day", now=FAR_FUTURE)
    assert info.value.parameter == "start"
    # "start" once, then both times to the minute with their zone (not "start: start (...)").
    assert str(info.value).startswith(
        f"start: {start[:10]} 00:00 UTC must be before end ({end[:10]} 00:00 UTC): "
    )


def test_reversed_range_shows_seconds_and_zone_when_they_matter() -> None:
    with pytest.raises(InvalidParameterError) as info:
        time_buckets("2026-11-01 10:00:05", "2026-10-01", "day", tz="Europe/Berlin")
    assert str(info.value).startswith(
        "start: 2026-11-01 10:00:05 Europe/Berlin must be before end "
        "(2026-10-01 00:00 Europe/Berlin)"
    )


def test_unreadable_bounds_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        time_buckets("2024-01-01", "next tuesday", "day", now=FAR_FUTURE)
    assert excinfo.value.parameter == "end"


def test_misspelt_tz_is_refused_with_suggestions() -> None:
    with pytest.raises(InvalidParameterError, match="Did you mean 'Europe/Berlin'") as excinfo:
        time_buckets("2024-01-01", "2024-02-01", "day", tz="Europe/Berln")
    assert excinfo.value.parameter == "tz"


def test_too_many_buckets_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match=r"more than max_buckets=100,000"):
        time_buckets("2000-01-01", "2030-01-01", "1min", now=FAR_FUTURE)
    with pytest.raises(InvalidParameterError, match="max_buckets=10"):
        time_buckets("2024-01-01", "2024-01-12", "day", now=FAR_FUTURE, max_buckets=10)
    assert len(time_buckets("2024-01-01", "2024-01-11", "day", max_buckets=10)) == 10
    assert MAX_BUCKETS == 100_000


def test_bucket_refuses_naive_or_empty_windows() -> None:
    with pytest.raises(InvalidParameterError):
        Bucket(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02"))
    stamp = pd.Timestamp("2024-01-01", tz="UTC")
    with pytest.raises(InvalidParameterError, match=r"^start: 2024-01-01 00:00 UTC must be before"):
        Bucket(stamp, stamp)
    assert str(Bucket(stamp, stamp + pd.Timedelta(days=1))) == (
        "[2024-01-01T00:00:00+00:00, 2024-01-02T00:00:00+00:00)"
    )


def test_fixed_spans_examples() -> None:
    assert fixed_spans(0, 250, 100) == [(0, 100), (100, 200), (200, 250)]
    assert fixed_spans(-50, 50, 100) == [(-50, 50)]
    assert fixed_spans(10, 11, 1) == [(10, 11)]
    assert fixed_spans(np.int64(0), np.int64(4), np.int64(2)) == [(0, 2), (2, 4)]
    assert all(type(bound) is int for span in fixed_spans(np.int64(0), 5, 2) for bound in span)


@pytest.mark.parametrize(
    ("after", "before", "step", "name"),
    [
        (0, 0, 10, "before"),
        (5, 4, 10, "before"),
        (0, 10, 0, "step"),
        (0, 10, -1, "step"),
        (0, 10, 1.5, "step"),
        (0.5, 10, 1, "after"),
        (0, "10", 1, "before"),
        (True, 10, 1, "after"),
    ],
)
def test_fixed_spans_refuses_bad_input(after: Any, before: Any, step: Any, name: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        fixed_spans(after, before, step)
    assert caught.value.parameter == name


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-(2**40), 2**40),
    st.integers(1, 10**6),
    st.integers(0, 500),
    st.integers(1, 10**6),
)
def test_fixed_spans_tile_the_range(after: int, step: int, whole: int, rest: int) -> None:
    length = whole * step + min(rest, step)  # every length >= 1, in at most 501 windows
    before = after + length
    spans = fixed_spans(after, before, step)
    assert spans[0][0] == after and spans[-1][1] == before  # union equals the range ...
    for low, high in spans:
        assert 0 < high - low <= step  # non-empty, at most step
    for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
        assert previous_end == next_start  # ... with no gap and no overlap
    assert all(high - low == step for low, high in spans[:-1])  # only the last is shorter
    assert len(spans) == -(-length // step)  # as few windows as the step allows


# --------------------------------------------------------------------------------------------
# The oracle: boundaries computed with zoneinfo alone
# --------------------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Havana",
    "Asia/Beirut",
]

FREQS: list[FreqLike] = [
    "day",
    "week",
    "week-sunday",
    "W-WED",
    "month",
    "quarter",
    "year",
    "1h",
    "30min",
    "45min",
    "90min",
    "6h",
    "1D",
    "7h",
    "2D",
    dt.timedelta(minutes=50),
]

#: 1995-01-01 and 2036-01-01 UTC.
FIRST_SECOND, LAST_SECOND = 788_918_400, 2_082_758_400
NAIVE_EPOCH = dt.datetime(1970, 1, 1)


def _offset(seconds: int, info: zoneinfo.ZoneInfo) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(seconds, info).utcoffset()


def _wall(seconds: int, info: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, info).replace(tzinfo=None)


def oracle_instants(wall: dt.datetime, info: zoneinfo.ZoneInfo) -> list[int]:
    """Every instant the clock shows ``wall``; for a wall time jumped over, the jump's end."""
    found = set()
    for fold in (0, 1):
        seconds = int(wall.replace(tzinfo=info, fold=fold).timestamp())
        if _wall(seconds, info) == wall:
            found.add(seconds)
    if found:
        return sorted(found)
    low, high = sorted(int(wall.replace(tzinfo=info, fold=fold).timestamp()) for fold in (0, 1))
    after = _offset(high, info)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, info) == after:
            high = middle
        else:
            low = middle
    return [high]


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def oracle_boundaries(
    start: int, end: int, frequency: Frequency, zone: str, origin: int
) -> list[int]:
    """The boundaries strictly inside (start, end), from the documented rules."""
    info = zoneinfo.ZoneInfo(zone)
    first, last = _wall(start, info), _wall(end, info)
    found: set[int] = set()
    if frequency.seconds is not None and DAY % frequency.seconds:
        length = frequency.seconds
        found.update(range(origin + (start - origin) // length * length, end + 1, length))
    elif frequency.seconds is not None:
        length = frequency.seconds
        margin = dt.timedelta(days=2)
        wall = dt.datetime.combine((first - margin).date(), dt.time())
        while wall <= last + margin:
            found.update(oracle_instants(wall, info))
            wall += dt.timedelta(seconds=length)
    else:
        day = (first - dt.timedelta(days=2)).date()
        if frequency.label == "week":
            day -= dt.timedelta(days=(day.weekday() - frequency.week_start) % 7)
        elif frequency.label != "day":
            months = {"month": 1, "quarter": 3, "year": 12}[frequency.label]
            day = _add_months(day, -(((day.month - 1) % months) + months))
        while day <= last.date() + dt.timedelta(days=2):
            found.add(oracle_instants(dt.datetime.combine(day, dt.time()), info)[0])
            if frequency.label == "day":
                day += dt.timedelta(days=1)
            elif frequency.label == "week":
                day += dt.timedelta(days=7)
            else:
                day = _add_months(day, months)
    return sorted(seconds for seconds in found if start < seconds < end)


@functools.cache
def transitions(zone: str) -> tuple[int, ...]:
    """The instants at which the zone's UTC offset changes, 1995 to 2036."""
    info = zoneinfo.ZoneInfo(zone)
    found = []
    previous = FIRST_SECOND
    for seconds in range(FIRST_SECOND + DAY, LAST_SECOND, DAY):
        if _offset(seconds, info) != _offset(previous, info):
            low, high = previous, seconds
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(middle, info) == _offset(high, info):
                    high = middle
                else:
                    low = middle
            found.append(high)
        previous = seconds
    return tuple(found)


@dataclass(frozen=True)
class Case:
    """One drawn range: Unix seconds, and ``origin`` None for time_buckets' default."""

    start: int
    end: int
    now: int
    frequency: Frequency
    zone: str
    origin: int | None

    @property
    def effective_origin(self) -> int:
        return self.start if self.origin is None else self.origin

    def buckets(self) -> list[Bucket]:
        return time_buckets(
            self.start, self.end, self.frequency, self.zone, now=self.now, origin=self.origin
        )

    def floor(self, stamp: int | pd.Timestamp) -> pd.Timestamp:
        return bucket_floor(stamp, self.frequency, self.zone, origin=self.effective_origin)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A range, frequency and zone, the start often near one of the zone's DST changes."""
    zone = draw(st.sampled_from(ZONES))
    frequency = parse_freq(draw(st.sampled_from(FREQS)))
    changes = transitions(zone)
    if len(changes) > 0 and draw(st.booleans()):
        start = draw(st.sampled_from(changes)) + draw(st.integers(-3 * DAY, 3 * DAY))
    else:
        start = draw(st.integers(FIRST_SECOND, LAST_SECOND))
    origin = draw(st.none() | st.integers(0, LAST_SECOND))
    nominal = int(frequency.nominal_length.total_seconds())
    if draw(st.booleans()):  # start on a boundary sometimes
        start = _seconds(
            bucket_floor(start, frequency, zone, origin=start if origin is None else origin)
        )
    span = draw(st.integers(0, 12)) * nominal + draw(st.integers(1, nominal))
    if draw(st.booleans()):  # end on a boundary sometimes
        floor_of_end = _seconds(
            bucket_floor(start + span, frequency, zone, origin=start if origin is None else origin)
        )
        span = floor_of_end - start if floor_of_end > start else span
    now = start + draw(st.integers(-nominal, span + nominal))
    return Case(start, start + span, now, frequency, zone, origin)


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _seconds(stamp: pd.Timestamp) -> int:
    return int((stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1))


@PROPERTY_SETTINGS
@given(cases())
def test_buckets_tile_the_range(case: Case) -> None:
    buckets = case.buckets()
    assert buckets[0].time_after == case.start and buckets[-1].time_before == case.end
    for bucket in buckets:
        assert bucket.time_after < bucket.time_before  # non-empty
        assert str(bucket.start.tz) == case.zone and str(bucket.end.tz) == case.zone
        assert bucket.partial == (bucket.time_before > case.now)
    for previous, following in itertools.pairwise(buckets):
        assert previous.end == following.start  # no gap, no overlap
    assert all(not bucket.clipped for bucket in buckets[1:-1])
    aligned_start = case.floor(case.start) == buckets[0].start
    aligned_end = case.floor(case.end) == buckets[-1].end
    if len(buckets) == 1:
        assert buckets[0].clipped == (not aligned_start or not aligned_end)
    else:
        assert buckets[0].clipped == (not aligned_start)
        assert buckets[-1].clipped == (not aligned_end)


@PROPERTY_SETTINGS
@given(cases())
def test_boundaries_are_aligned_and_match_the_oracle(case: Case) -> None:
    interior = [bucket.start for bucket in case.buckets()[1:]]
    assert [_seconds(stamp) for stamp in interior] == oracle_boundaries(
        case.start, case.end, case.frequency, case.zone, case.effective_origin
    )
    for stamp in interior:
        assert case.floor(stamp) == stamp
    floors = bucket_floor_index(
        pd.DatetimeIndex(interior), case.frequency, case.zone, origin=case.effective_origin
    )
    assert list(floors) == interior


@PROPERTY_SETTINGS
@given(cases(), st.lists(st.integers(0, 10**9 - 1), min_size=1, max_size=5))
def test_floor_is_the_start_of_the_containing_bucket(case: Case, fractions: list[int]) -> None:
    buckets = case.buckets()
    stamps = [case.start + (case.end - case.start) * fraction // 10**9 for fraction in fractions]
    index = pd.to_datetime(stamps, unit="s", utc=True)
    floors = bucket_floor_index(index, case.frequency, case.zone, origin=case.effective_origin)
    for seconds, floor in zip(stamps, floors, strict=True):
        assert floor == case.floor(seconds)
        (containing,) = [b for b in buckets if b.time_after <= seconds < b.time_before]
        if containing.clipped:
            assert floor <= containing.start
        else:
            assert floor == containing.start


@PROPERTY_SETTINGS
@given(cases())
def test_fixed_buckets_have_their_length_unless_the_clock_jumps(case: Case) -> None:
    assume(case.frequency.seconds is not None)
    info = zoneinfo.ZoneInfo(case.zone)
    for bucket in case.buckets():
        # A bucket that starts or ends where the clock jumped over a boundary can be shorter.
        same_offset = _offset(bucket.time_after - 1, info) == _offset(bucket.time_before, info)
        if not bucket.clipped and (same_offset or not case.frequency.is_wall_clock_aligned):
            assert bucket.duration == case.frequency.length


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(FREQS), st.sampled_from(FREQS))
def test_fits_in_means_coarse_boundaries_are_fine_boundaries(
    fine: FreqLike, coarse: FreqLike
) -> None:
    fine_freq, coarse_freq = parse_freq(fine), parse_freq(coarse)
    assume(fine_freq.fits_in(coarse_freq))
    for zone in ("Europe/Berlin", "Australia/Lord_Howe"):
        coarse_buckets = time_buckets("2023-09-20", "2023-10-20", coarse_freq, zone, now=0)
        fine_starts = {
            b.start for b in time_buckets("2023-09-20", "2023-10-20", fine_freq, zone, now=0)
        }
        assert {bucket.start for bucket in coarse_buckets} <= fine_starts


def test_oracle_agrees_with_known_instants() -> None:
    lord_howe = zoneinfo.ZoneInfo("Australia/Lord_Howe")
    gap = oracle_instants(dt.datetime(2023, 10, 1, 2, 15), lord_howe)
    assert gap == [int(pd.Timestamp("2023-10-01 02:30+11:00").timestamp())]
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    twice = oracle_instants(dt.datetime(2024, 10, 27, 2, 30), berlin)
    assert twice == [
        int(pd.Timestamp("2024-10-27 02:30+02:00").timestamp()),
        int(pd.Timestamp("2024-10-27 02:30+01:00").timestamp()),
    ]
    assert len(transitions("Europe/Berlin")) == 2 * 41
    assert np.all(np.diff(transitions("Pacific/Chatham")) > 0)
