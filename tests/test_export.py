"""Frames go to Excel: tz-aware times become the wall times of their zone, and a column names it.

Each sheet is written with ``DataFrame.to_excel`` and read back with openpyxl, cell by cell.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.export import ZONE_COLUMN, excel_ready

from .conftest import NOW

#: Weekly buckets across the end of summer time in Berlin (25 Oct 2026): 167, 169, 168 hours.
STARTS = pd.date_range("2026-10-19", periods=3, freq="7D", tz="Europe/Berlin", name="bucket_start")


def weekly(tz: str | None = "Europe/Berlin") -> pd.DataFrame:
    """A frame shaped like a fetched one: tz-aware index and ``bucket_end``, ``attrs["tz"]``."""
    frame = pd.DataFrame(
        {"bucket_end": STARTS + pd.DateOffset(weeks=1), "sessions_created_count": [3, 5, 8]},
        index=STARTS,
    )
    if tz is not None:
        frame.attrs["tz"] = tz
    return frame


def read_back(path: Path) -> list[list[object]]:
    book = openpyxl.load_workbook(path)
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_it_is_public_at_the_top_level() -> None:
    assert mt.excel_ready is excel_ready and "excel_ready" in mt.__all__


def test_to_excel_fails_on_tz_aware_times_and_works_on_the_ready_frame(tmp_path: Path) -> None:
    frame = weekly()
    with pytest.raises(ValueError, match="timezones"):
        frame.to_excel(tmp_path / "refused.xlsx")
    path = tmp_path / "weekly.xlsx"
    excel_ready(frame).to_excel(path)
    rows = read_back(path)
    assert rows[0] == ["bucket_start", "bucket_end", ZONE_COLUMN, "sessions_created_count"]
    local = [stamp.to_pydatetime().replace(tzinfo=None) for stamp in STARTS]
    assert [row[0] for row in rows[1:]] == local  # the Monday midnights a Berlin clock shows
    assert all(start.hour == 0 for start in local)
    assert [row[1] for row in rows[1:]] == [*local[1:], local[-1] + dt.timedelta(weeks=1)]
    assert [row[2] for row in rows[1:]] == ["Europe/Berlin"] * 3
    assert [row[3] for row in rows[1:]] == [3, 5, 8]


def test_the_frame_itself_is_left_as_it_was() -> None:
    frame = weekly()
    before = frame.copy()
    ready = excel_ready(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert ready.attrs["tz"] == "Europe/Berlin"
    assert ready.index.tz is None and ready["bucket_end"].dt.tz is None


def test_tz_chooses_the_wall_clock(tmp_path: Path) -> None:
    ready = excel_ready(weekly(), tz="America/New_York")
    expected = STARTS.tz_convert("America/New_York").tz_localize(None)
    pd.testing.assert_index_equal(ready.index, expected)
    assert set(ready[ZONE_COLUMN]) == {"America/New_York"}
    ready.to_excel(tmp_path / "ny.xlsx")
    assert read_back(tmp_path / "ny.xlsx")[1][0] == expected[0].to_pydatetime()


def test_the_zone_comes_from_the_times_when_the_frame_does_not_say() -> None:
    frame = weekly(tz=None).reset_index()
    frame["bucket_end"] = frame["bucket_end"].dt.tz_convert("UTC")
    ready = excel_ready(frame)  # the first tz-aware column is bucket_start, in Berlin
    assert list(ready.columns) == [
        "bucket_start",
        "bucket_end",
        ZONE_COLUMN,
        "sessions_created_count",
    ]
    assert ready["bucket_end"].tolist() == [*ready["bucket_start"][1:], pd.Timestamp("2026-11-09")]
    offsets = pd.DataFrame({"at": pd.to_datetime(["2026-09-01T14:30+02:00"])})
    assert excel_ready(offsets).iloc[0].tolist() == [pd.Timestamp("2026-09-01 14:30"), "UTC+02:00"]


def test_a_grouped_frame_with_a_multi_index(tmp_path: Path) -> None:
    frame = weekly().set_index(pd.Index(["org-1", "org-1", "org-2"], name="org_id"), append=True)
    ready = excel_ready(frame)
    assert ready.index.get_level_values("bucket_start").tz is None
    assert ready.index.get_level_values("org_id").tolist() == ["org-1", "org-1", "org-2"]
    ready.to_excel(tmp_path / "grouped.xlsx")
    rows = read_back(tmp_path / "grouped.xlsx")
    assert rows[1][:3] == [dt.datetime(2026, 10, 19), "org-1", dt.datetime(2026, 10, 26)]


def test_a_fetched_frame_goes_to_excel(tmp_path: Path) -> None:
    with mt.MetricsClient.demo(now=NOW) as client:
        frame = client.session_metrics_frame(
            "2026-10-19", "2026-11-09", tz="Europe/Berlin", progress=False
        )
    path = tmp_path / "weekly.xlsx"
    excel_ready(frame.reset_index()).to_excel(path, index=False)
    rows = read_back(path)
    header, body = rows[0], rows[1:]
    starts = [row[header.index("bucket_start")] for row in body]
    expected = [stamp.to_pydatetime().replace(tzinfo=None) for stamp in frame.index]
    assert starts == expected and len(body) == len(frame)
    assert {row[header.index(ZONE_COLUMN)] for row in body} == {"Europe/Berlin"}
    counts = [row[header.index("sessions_created_count")] for row in body]
    assert counts == frame["sessions_created_count"].tolist()


def test_without_tz_aware_times_nothing_is_added() -> None:
    naive = weekly().reset_index()
    naive["bucket_start"] = naive["bucket_start"].dt.tz_localize(None)
    naive = naive.drop(columns="bucket_end")
    pd.testing.assert_frame_equal(excel_ready(naive), naive)


@pytest.mark.parametrize(
    ("frame", "tz", "parameter", "words"),
    [
        ("not a frame", None, "frame", "expected a DataFrame"),
        (weekly(), "Europe/Berln", "tz", "Did you mean 'Europe/Berlin'"),
        (weekly().assign(time_zone="x"), None, "frame", "already has a 'time_zone' column"),
    ],
)
def test_bad_input_is_refused(frame: object, tz: str | None, parameter: str, words: str) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        excel_ready(frame, tz=tz)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter and words in str(caught.value)
