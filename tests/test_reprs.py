"""What a notebook shows for an answer and for a fetch failure: a short one-line ``repr`` and a
small HTML table (``_repr_html_``), without changing how the answer compares or dumps."""

from __future__ import annotations

import datetime as dt
import pickle
from html.parser import HTMLParser

import pytest
from pydantic import BaseModel

import metrics_toolkit as mt
from metrics_toolkit import errors
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoServer, FaultPlan

from .conftest import NOW


class _Table(HTMLParser):
    """The caption and the rows (lists of cell texts) of some HTML, tags dropped."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.caption = ""
        self.rows: list[list[str]] = []
        self._where: str | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self._where = "cell"
        elif tag == "caption":
            self._where = "caption"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "caption"):
            self._where = None

    def handle_data(self, data: str) -> None:
        if self._where == "caption":
            self.caption += data
        elif self._where == "cell":
            self.rows[-1][-1] += data


def test_an_answer_is_one_short_line_with_its_window(demo_client: mt.MetricsClient) -> None:
    answer = demo_client.session_metrics("2026-11-02", "2026-11-09")
    shown = repr(answer)
    assert "\n" not in shown and str(answer) == shown
    assert shown.startswith("SessionMetrics(window=[2026-11-02, 2026-11-09) UTC, ")
    assert f"sessions_created_count={answer.sessions_created_count}," in shown
    assert f"avg_acus_per_session={round(answer.avg_acus_per_session, 3)!r}" in shown
    assert "sessions_created_by_origin=<9 counts>" in shown
    assert "webapp=" not in shown  # nested counts are in the table, not in the line
    assert len(shown) < len(BaseModel.__repr__(answer))


def test_a_window_off_midnight_shows_its_time(demo_client: mt.MetricsClient) -> None:
    answer = demo_client.search_metrics("2026-11-02T06:30", "2026-11-03")
    assert repr(answer) == (
        "SearchMetrics(window=[2026-11-02 06:30, 2026-11-03 00:00) UTC, "
        f"searches_created_count={answer.searches_created_count})"
    )


def test_an_answer_in_a_notebook_is_a_table_of_its_fields(demo_client: mt.MetricsClient) -> None:
    answer = demo_client.session_metrics("2026-10-01", "2026-11-01")
    assert answer.sessions_created_count >= 1000  # so the thousands separator shows
    table = _Table(answer._repr_html_())
    assert table.caption == "SessionMetrics · [2026-10-01, 2026-11-01) UTC"
    cells = dict((row[0], row[1]) for row in table.rows)
    assert list(cells) == list(mt.SessionMetrics.model_fields)
    assert cells["sessions_created_count"] == f"{answer.sessions_created_count:,}"
    assert "," in cells["sessions_created_count"]
    assert cells["avg_acus_per_session"] == f"{answer.avg_acus_per_session:.2f}"
    origins = answer.sessions_created_by_origin
    assert f"Web app {origins.webapp:,}" in cells["sessions_created_by_origin"]
    assert f"Code scan {origins.code_scan:,}" in cells["sessions_created_by_origin"]
    assert cells["sessions_created_by_size"].startswith(
        f"XS {answer.sessions_created_by_size.xs:,} · S "
    )


def test_fields_the_server_adds_are_shown_and_escaped() -> None:
    payload = mt.SessionMetrics.model_validate(
        {
            "sessions_created_count": 3,
            "sessions_created_by_origin": {"webapp": 2, "github": 1},
            "sessions_created_by_size": {},
            "sessions_created_with_playbook_count": 0,
            "sessions_created_with_search_count": 0,
            "sessions_with_merged_prs_count": 1,
            "sessions_with_merged_prs_by_size": {},
            "avg_acus_per_session": 1.5,
            "sessions_<b>reverted</b>_count": 1234,
        }
    )
    assert payload.window is None and "window=" not in repr(payload)
    assert repr(payload).endswith("avg_acus_per_session=1.5, sessions_<b>reverted</b>_count=1234)")
    markup = payload._repr_html_()
    assert "<b>" not in markup
    cells = {row[0]: row[1] for row in _Table(markup).rows}
    assert cells["sessions_<b>reverted</b>_count"] == "1,234"
    assert cells["sessions_created_by_origin"].endswith("Web app 2 · Github 1")


def test_the_window_changes_neither_equality_nor_the_payload(
    demo_client: mt.MetricsClient,
) -> None:
    answer = demo_client.session_metrics("2026-11-02", "2026-11-09")
    rebuilt = mt.SessionMetrics.model_validate(answer.model_dump())
    assert rebuilt.window is None
    assert answer.window is not None
    assert [bound.isoformat() for bound in answer.window] == [
        "2026-11-02T00:00:00+00:00",
        "2026-11-09T00:00:00+00:00",
    ]
    assert answer == rebuilt and hash(answer) == hash(rebuilt)
    assert answer.model_dump() == rebuilt.model_dump()
    assert answer.model_dump_json() == rebuilt.model_dump_json()
    assert "window" not in answer.model_dump()
    # a different answer is still different, and a copy keeps its window
    other = demo_client.session_metrics("2026-11-09", "2026-11-16")
    assert other != answer
    assert pickle.loads(pickle.dumps(answer)).window == answer.window
    assert answer.model_copy().window == answer.window
    # answered from the store, the same call shows the same window
    again = demo_client.session_metrics("2026-11-02", "2026-11-09")
    assert repr(again) == repr(answer)


def test_a_long_window_split_into_calls_shows_the_whole_window(demo_api: DemoAPI) -> None:
    with mt.MetricsClient.demo(api=demo_api, max_window=dt.timedelta(days=7)) as client:
        answer = client.session_metrics("2026-10-01", "2026-11-01")
    assert repr(answer).startswith("SessionMetrics(window=[2026-10-01, 2026-11-01) UTC, ")


def _failing_fetch(demo_api: DemoAPI, failing: int) -> mt.FetchError:
    """The FetchError of a daily September on a server whose first ``failing`` days fail."""
    buckets = mt.time_buckets("2026-09-01", "2026-10-01", "day", now=NOW)
    plan = FaultPlan(seed=2, failing_time_after=frozenset(b.time_after for b in buckets[:failing]))
    with (
        DemoServer(demo_api, faults=plan) as server,
        mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, now=NOW, max_retries=0, backoff=0.0
        ) as client,
        pytest.raises(mt.FetchError) as caught,
    ):
        mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)
    return caught.value


def test_a_fetch_failure_is_one_short_line(demo_api: DemoAPI) -> None:
    error = _failing_fetch(demo_api, 2)
    assert repr(error) == "FetchError(2 failed (ServerError x2), 28 rows on .frame)"
    assert "2026-09-01" in str(error)  # the message itself still names every bucket


def test_a_fetch_failure_in_a_notebook_is_a_table_of_the_failed_calls(demo_api: DemoAPI) -> None:
    shown = errors.FAILURES_SHOWN
    error = _failing_fetch(demo_api, shown + 3)
    markup = error._repr_html_()
    table = _Table(markup)
    assert table.rows[0] == ["bucket", "group", "error"]
    body = table.rows[1:]
    assert len(body) == shown
    assert body[0][0] == "[2026-09-01T00:00:00+00:00, 2026-09-02T00:00:00+00:00)"
    assert body[0][1] == ""
    assert all(row[2].startswith("ServerError: HTTP 5") for row in body)
    assert "... and 3 more" in markup
    assert f"{shown + 3} failed (ServerError x{shown + 3})" in markup
