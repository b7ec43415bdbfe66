"""Pure frame building, tested on inline payloads (no client, no server)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.frames import Row

NOW = "2026-11-25T03:00:00Z"


def payload(created: int, merged: int, avg: float, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sessions_created_count": created,
        "sessions_created_by_origin": {"slack": created // 2, "webapp": created - created // 2},
        "sessions_created_by_size": {"xs": created // 2, "xl": created - created // 2},
        "sessions_created_with_playbook_count": created // 3,
        "sessions_created_with_search_count": created // 4,
        "sessions_with_merged_prs_count": merged,
        "sessions_with_merged_prs_by_size": {"xs": merged, "xl": 0},
        "avg_acus_per_session": avg,
    }
    body.update(extra)
    return body


def rows(*bodies: dict[str, Any] | None, freq: str = "day", group: str | None = None) -> list[Row]:
    buckets = mt.time_buckets("2026-11-02", f"2026-11-{2 + len(bodies):02d}", freq, now=NOW)
    return [
        Row(
            bucket,
            group,
            None if body is None else mt.SessionMetrics.model_validate(body),
            None if body is not None else "ServerError: HTTP 500",
        )
        for bucket, body in zip(buckets, bodies, strict=True)
    ]


def test_wide_frame_columns_and_dtypes() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.5), payload(0, 0, 0.0)))
    assert frame.index.name == "bucket_start"
    assert str(frame.index.tz) == "UTC"
    assert list(frame.columns[:5]) == [
        "bucket_end",
        "partial",
        "clipped",
        "failed",
        "sessions_created_count",
    ]
    assert "sessions_created_by_origin.code_scan" in frame.columns
    assert frame["sessions_created_count"].dtype == "Int64"
    assert frame["sessions_created_by_origin.slack"].dtype == "Int64"
    assert frame["avg_acus_per_session"].dtype == "float64"
    assert frame["partial"].dtype == bool
    assert list(frame["sessions_created_by_origin.slack"]) == [5, 0]
    assert list(frame["sessions_created_by_origin.api"]) == [0, 0]  # spec default


def test_every_value_reaches_the_frame_unchanged_and_unknown_fields_become_columns() -> None:
    body = payload(7, 3, 1.25, sessions_created_with_knowledge_count=2)
    body["sessions_created_by_origin"]["github"] = 1
    body["sessions_created_by_size"]["xxl"] = 0
    frame = mt.wide_frame(rows(body))
    row = frame.iloc[0]
    assert row["sessions_created_with_knowledge_count"] == 2
    assert row["sessions_created_by_origin.github"] == 1
    assert row["sessions_created_by_size.xxl"] == 0
    flat = mt.frames.flatten(mt.SessionMetrics.model_validate(body))
    for column, value in flat.items():
        assert row[column] == value, column


def test_derived_metrics_are_ratios_with_nan_for_empty_windows() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.5), payload(0, 0, 0.0)))
    first, empty = frame.iloc[0], frame.iloc[1]
    assert first["acus_total"] == pytest.approx(25.0)
    assert first["merged_pr_rate"] == pytest.approx(0.4)
    assert first["merged_pr_rate.xs"] == pytest.approx(4 / 5)
    assert first["merged_pr_rate.xl"] == pytest.approx(0.0)
    assert first["playbook_share"] == pytest.approx(3 / 10)
    assert first["search_share"] == pytest.approx(2 / 10)
    for column in ("merged_pr_rate", "merged_pr_rate.xs", "playbook_share", "search_share"):
        assert math.isnan(empty[column]), column


def test_a_bucket_without_sessions_has_no_acu_total_fetched_or_rolled_up() -> None:
    # the server sends avg 0.0 for a window with no session: that mean has no weight
    frame = mt.wide_frame(rows(payload(10, 4, 2.5), payload(0, 0, 0.0), payload(0, 0, 0.0)))
    assert frame["avg_acus_per_session"].iloc[1] == 0.0  # kept as sent
    assert math.isnan(frame["acus_total"].iloc[1])
    assert frame["acus_total"].iloc[0] == pytest.approx(25.0)
    rolled = mt.rollup(frame.iloc[1:], None)  # the two empty days as one bucket
    assert math.isnan(rolled["acus_total"].iloc[0])
    recomputed = mt.add_derived(frame)  # recomputing says the same
    assert math.isnan(recomputed["acus_total"].iloc[1])


def test_a_failed_bucket_is_na_never_zero() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.5), None, payload(6, 1, 1.0)))
    failed = frame.iloc[1]
    assert bool(failed["failed"]) and "ServerError" in failed["error"]
    assert pd.isna(failed["sessions_created_count"])
    assert pd.isna(failed["sessions_created_by_origin.slack"])
    assert math.isnan(failed["merged_pr_rate"])
    assert frame["sessions_created_count"].dtype == "Int64"
    weekly = mt.rollup(frame, None)
    assert pd.isna(weekly["sessions_created_count"].iloc[0])  # not a smaller, wrong number
    assert bool(weekly["failed"].iloc[0])


def test_rollup_reweights_the_average() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.0), payload(30, 6, 6.0), payload(0, 0, 0.0)))
    total = mt.rollup(frame, None).iloc[0]
    assert total["sessions_created_count"] == 40
    assert total["avg_acus_per_session"] == pytest.approx((10 * 2 + 30 * 6) / 40)
    assert total["avg_acus_per_session"] != pytest.approx(np.mean([2.0, 6.0, 0.0]))
    assert total["merged_pr_rate"] == pytest.approx(10 / 40)
    assert total["acus_total"] == pytest.approx(200.0)
    empty = mt.rollup(frame.iloc[[2]], None).iloc[0]
    assert math.isnan(empty["avg_acus_per_session"])  # no session: no average


def test_a_rollup_with_a_missing_fine_bucket_is_na_not_smaller() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.0), payload(30, 6, 6.0), payload(5, 1, 1.0)))
    without_middle = frame.iloc[[0, 2]]  # as FetchError.frame holds it: the failed row dropped
    total = mt.rollup(without_middle, None).iloc[0]
    assert pd.isna(total["sessions_created_count"])
    assert bool(total["failed"])
    assert mt.rollup(frame, None).iloc[0]["sessions_created_count"] == 45


def test_unknown_fractions_are_not_added_up() -> None:
    frame = mt.wide_frame(
        rows(payload(10, 4, 2.0, median_acus=1.5), payload(30, 6, 6.0, median_acus=2.5))
    )
    assert "median_acus" not in mt.frames.count_columns(frame)
    total = mt.rollup(frame, None).iloc[0]
    assert math.isnan(total["median_acus"])  # kept as a column, but it has no combined value
    parts = [
        mt.SessionMetrics.model_validate(payload(1, 0, 1.0, median_acus=m)) for m in (1.5, 2.5)
    ]
    assert mt.combine_metrics(parts).model_extra == {"median_acus": None}


def test_rollup_keeps_groups_apart() -> None:
    a = rows(payload(10, 4, 2.0), payload(20, 4, 2.0), group="org-a")
    b = rows(payload(1, 1, 9.0), payload(3, 0, 1.0), group="org-b")
    frame = mt.wide_frame(a + b, group_by="org")
    total = mt.rollup(frame, None)
    assert list(total["org_id"]) == ["org-a", "org-b"]
    assert list(total["sessions_created_count"]) == [30, 4]
    assert total["avg_acus_per_session"].iloc[1] == pytest.approx((9 + 3) / 4)


def test_long_frame_is_tidy() -> None:
    frame = mt.wide_frame(rows(payload(10, 4, 2.5), payload(6, 1, 1.0)))
    tidy = mt.long_frame(frame)
    assert list(tidy.columns) == [
        "bucket_start",
        "bucket_end",
        "partial",
        "metric",
        "category",
        "value",
    ]
    slack = tidy[(tidy["metric"] == "sessions_created_by_origin") & (tidy["category"] == "slack")]
    assert list(slack["value"]) == [5.0, 3.0]
    count = tidy[tidy["metric"] == "sessions_created_count"]
    assert list(count["category"]) == ["all", "all"]
    assert tidy["value"].dtype == "float64"
    wide_values = frame.select_dtypes("number").shape[1] * len(frame)
    assert len(tidy) == wide_values


def test_an_empty_series_gives_an_empty_frame() -> None:
    frame = mt.wide_frame([])
    assert frame.empty and "bucket_end" in frame.columns


def test_fields_in_another_order_in_some_answers_land_in_their_own_columns() -> None:
    first = payload(10, 4, 2.0, zeta=1, alpha=2)
    second = payload(20, 5, 3.0, alpha=7, zeta=8)  # the same extra fields, in another order
    second["sessions_created_by_origin"] = {"webapp": 15, "github": 1, "slack": 4}
    frame = mt.wide_frame(rows(first, second))
    assert list(frame["zeta"]) == [1, 8] and list(frame["alpha"]) == [2, 7]
    assert list(frame["sessions_created_by_origin.webapp"]) == [5, 15]
    github = frame["sessions_created_by_origin.github"]
    assert github.isna().tolist() == [True, False] and github.iloc[1] == 1  # sent once only
    same = mt.wide_frame(rows(payload(10, 4, 2.0, zeta=1), payload(20, 5, 3.0, zeta=8)))
    assert list(same["zeta"]) == [1, 8] and str(same["zeta"].dtype) == "Int64"


@pytest.mark.parametrize(
    ("values", "dtype", "read"),
    [
        ([3, 4], "Int64", [3, 4]),
        ([3, 4.5], "Float64", [3.0, 4.5]),
        ([2**64, 1], "object", [2**64, 1]),  # beyond 64 bits: exact, never rounded
        ([True, 1], "object", [True, 1]),  # a flag is not a count
        (["a", "b"], "str", ["a", "b"]),
    ],
)
def test_a_field_the_server_adds_keeps_its_values_exactly(
    values: list[Any], dtype: str, read: list[Any]
) -> None:
    frame = mt.wide_frame(rows(*(payload(10, 4, 2.0, extra=value) for value in values)))
    assert str(frame["extra"].dtype) == dtype
    assert list(frame["extra"]) == read
