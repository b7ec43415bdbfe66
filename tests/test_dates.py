"""Points in time are ISO 8601 strings or typed objects, nothing else.

``1.9.2026`` is the 1st of September in Germany and the 9th of January in the United States:
a date in another order is refused with its ISO readings (never read month-first, never
guessed), and so are words (``Sept 1 2026``, ``today``), at every entry point, before any
request.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import cli
from metrics_toolkit.demo import DEMO_API_KEY, DemoServer
from metrics_toolkit.params import to_timestamp

UTC = dt.timezone.utc
SEPTEMBER_FIRST = dt.datetime(2026, 9, 1, tzinfo=UTC)

#: Strings people write for a date that are not ISO 8601's extended form.
NOT_ISO = [
    "1.9.2026",
    "01/09/2026",
    "09/01/2026",
    "1-9-2026",
    "2026/09/01",
    "2026-9-1",
    "Sept 1 2026",
    "1 September 2026",
    "September 1, 2026",
    "today",
    "now",
    "20260901",
    "2026-09",
    "2026",
]


def refusal(call: Any, parameter: str) -> str:
    """The message of the InvalidParameterError ``call()`` raises, naming ``parameter``."""
    with pytest.raises(mt.InvalidParameterError) as caught:
        call()
    assert caught.value.parameter == parameter, str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("text", NOT_ISO)
def test_a_string_not_in_iso_form_is_refused_with_the_accepted_forms(text: str) -> None:
    message = refusal(lambda: to_timestamp(text, "start"), "start")
    assert f"{text!r} is not an ISO 8601 date (YYYY-MM-DD) or time" in message
    for form in ("'2026-09-01'", "'2026-09-01T14:30'", "'2026-09-01T14:30+02:00'", "datetime"):
        assert form in message, (form, message)
    assert "Unix epoch seconds" in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("1.9.2026", "write 2026-09-01 or 2026-01-09"),  # day first, then month first
        ("01/09/2026", "write 2026-09-01 or 2026-01-09"),
        ("13/09/2026", "write 2026-09-13)"),  # no 13th month: one reading only
        ("09/13/2026", "write 2026-09-13)"),
        ("2026/09/01", "write 2026-09-01)"),
        ("2026-9-1", "write 2026-09-01)"),
        ("5.5.2026", "write 2026-05-05)"),  # both orders agree
    ],
)
def test_a_numeric_date_in_another_order_gets_its_iso_readings(text: str, readings: str) -> None:
    assert readings in refusal(lambda: to_timestamp(text, "start"), "start")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13-01", "month must be in 1..12"),
        ("2026-02-30", "day is out of range for month"),
        ("2026-09-01T24:00", "hour must be in 0..23"),
    ],
)
def test_an_iso_form_that_is_no_date_says_why(text: str, reason: str) -> None:
    message = refusal(lambda: to_timestamp(text, "end"), "end")
    assert f"({reason})" in message and "ISO 8601" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", SEPTEMBER_FIRST),
        (" 2026-09-01 ", SEPTEMBER_FIRST),
        ("2026-09-01T14:30", dt.datetime(2026, 9, 1, 14, 30, tzinfo=UTC)),
        ("2026-09-01 14:30:15", dt.datetime(2026, 9, 1, 14, 30, 15, tzinfo=UTC)),
        ("2026-09-01T14:30:15.25", dt.datetime(2026, 9, 1, 14, 30, 15, 250_000, tzinfo=UTC)),
        ("2026-09-01T14:30Z", dt.datetime(2026, 9, 1, 14, 30, tzinfo=UTC)),
        ("2026-09-01T14:30+02:00", dt.datetime(2026, 9, 1, 12, 30, tzinfo=UTC)),
        ("2026-09-01T14:30:00-0500", dt.datetime(2026, 9, 1, 19, 30, tzinfo=UTC)),
        ("2026-09-01T14:30:00+05:30", dt.datetime(2026, 9, 1, 9, tzinfo=UTC)),
        (SEPTEMBER_FIRST.isoformat(), SEPTEMBER_FIRST),  # what Python writes reads back
        (pd.Timestamp(SEPTEMBER_FIRST).tz_convert("Asia/Tokyo").isoformat(), SEPTEMBER_FIRST),
    ],
)
def test_iso_strings_are_read_exactly(text: str, expected: dt.datetime) -> None:
    assert to_timestamp(text, "start") == pd.Timestamp(expected)


def test_a_string_without_offset_is_read_in_the_calendars_zone() -> None:
    berlin = to_timestamp("2026-09-01", "start", "Europe/Berlin")
    assert berlin == pd.Timestamp(dt.datetime(2026, 8, 31, 22, tzinfo=UTC))
    assert str(berlin.tz) == "Europe/Berlin"


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2026, 9, 1),
        dt.datetime(2026, 9, 1),
        SEPTEMBER_FIRST,
        pd.Timestamp("2026-09-01"),
        pd.Timestamp("2026-09-01T02:00", tz="Europe/Berlin"),
        int(SEPTEMBER_FIRST.timestamp()),
        np.int64(SEPTEMBER_FIRST.timestamp()),
    ],
    ids=lambda value: type(value).__name__,
)
def test_typed_points_in_time_are_accepted(value: Any) -> None:
    assert to_timestamp(value, "start") == pd.Timestamp(SEPTEMBER_FIRST)


# -- every entry point reads them the same way, before any request ------------------------------


@pytest.mark.parametrize("text", ["1.9.2026", "Sept 1 2026"])
def test_the_python_entry_points_refuse_them_before_any_request(
    http_client: mt.MetricsClient, server: DemoServer, text: str
) -> None:
    refusal(lambda: http_client.session_metrics_frame(text, "2026-11-01"), "start")
    refusal(lambda: http_client.session_metrics_frame("2026-08-01", text), "end")
    refusal(lambda: mt.fetch_series(http_client, text, "2026-11-01"), "start")
    refusal(lambda: http_client.session_metrics(text, "2026-11-01"), "time_after")
    refusal(lambda: mt.time_buckets(text, "2026-11-01", "week"), "start")
    assert server.request_count == 0
    refusal(lambda: mt.MetricsClient.demo(now=text), "now")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", DEMO_API_KEY)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--start", "1.9.2026", "write 2026-09-01 or 2026-01-09"),
        ("--start", "01/09/2026", "write 2026-09-01 or 2026-01-09"),
        ("--end", "Nov 1 2026", "is not an ISO 8601 date"),
        ("--start", "20260901", "reads as Unix seconds in 1970; for the date, write 2026-09-01"),
    ],
)
def test_the_command_line_refuses_them_in_one_line_before_any_request(
    server: DemoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key: None,
    flag: str,
    value: str,
    words: str,
) -> None:
    window = {"--start": "2026-09-01", "--end": "2026-11-01", flag: value}
    argv = ["fetch", *[part for pair in window.items() for part in pair], "--quiet"]
    argv += ["--base-url", server.url, "--cache-dir", str(tmp_path / "cache")]
    argv += ["--out", str(tmp_path / "out.csv")]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"metrics-toolkit: error: {flag.strip('-')}: "), err
    assert words in err
    assert server.request_count == 0
    assert not (tmp_path / "out.csv").exists()


def test_serve_demo_refuses_a_now_not_in_iso_form(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[Any] = []
    monkeypatch.setattr("metrics_toolkit.demo.serve_forever", lambda **kw: served.append(kw))
    assert cli.main(["serve-demo", "--now", "1.9.2026"]) == 2
    assert "--now: '1.9.2026' is not an ISO 8601" in capsys.readouterr().err
    assert served == []  # nothing was served
    assert cli.main(["serve-demo", "--now", "2026-09-01T03:00Z"]) == 0
    assert served[0]["now"] == SEPTEMBER_FIRST.replace(hour=3)


def test_report_refuses_a_week_not_in_iso_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--demo", "--week", "1.9.2026"]) == 2
    _, err = capsys.readouterr()
    assert err.startswith("metrics-toolkit: error: week: '1.9.2026' is not an ISO week")
    assert err.count("\n") == 1
