"""A server written to break the client: endless pages, the token echoed back, odd dates.

Each server is started here on 127.0.0.1 and scripted per path; every loop is bounded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import _base_client
from metrics_toolkit.directory import Directory

from ._reliability import SECRET

WEEK = ("2026-11-16", "2026-11-23")
#: A SessionMetrics body with every required field.
ANSWER: dict[str, Any] = {
    "sessions_created_count": 3,
    "sessions_created_by_origin": {"slack": 3},
    "sessions_created_by_size": {"s": 3},
    "sessions_created_with_playbook_count": 0,
    "sessions_created_with_search_count": 0,
    "sessions_with_merged_prs_count": 1,
    "sessions_with_merged_prs_by_size": {"s": 1},
    "avg_acus_per_session": 2.0,
}
#: The token as a server could quote it back inside a JSON string, escaped.
ESCAPED_SECRET = SECRET.replace("_", "\\u005f")

Script = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


class _Scripted(BaseHTTPRequestHandler):
    script: Script
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, headers, body = self.script(self)
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Script], tuple[str, list[str]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: Script) -> tuple[str, list[str]]:
        seen: list[str] = []
        handler = type("Handler", (_Scripted,), {"script": staticmethod(script), "seen": seen})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def page(items: list[dict[str, Any]], cursor: str | None) -> bytes:
    return json.dumps({"items": items, "has_next_page": True, "end_cursor": cursor}).encode()


def organization(number: int) -> dict[str, Any]:
    return {"org_id": f"org-{number}", "name": f"Org {number}", "created_at": 0, "updated_at": 0}


def test_a_cursor_that_repeats_stops_with_an_error(serve: Any) -> None:
    url, seen = serve(lambda handler: (200, {}, page([organization(1)], "the-same-cursor")))
    client = mt.MetricsClient(SECRET, base_url=url, cache=False)
    with pytest.raises(mt.ResponseValidationError, match="do not end"):
        client.organizations()
    assert len(seen) == 2  # the second page repeated the first's cursor


def test_pages_that_never_end_stop_with_an_error(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_base_client, "MAX_PAGES", 20)
    counter = iter(range(10**6))
    url, seen = serve(lambda handler: (200, {}, page([organization(1)], f"c{next(counter)}")))
    with pytest.raises(mt.ResponseValidationError, match="do not end"):
        mt.MetricsClient(SECRET, base_url=url, cache=False).organizations()
    assert len(seen) == 20


def test_an_empty_page_that_claims_more_stops(serve: Any) -> None:
    url, seen = serve(lambda handler: (200, {}, page([], "next")))
    with pytest.raises(mt.ResponseValidationError, match="do not end"):
        mt.MetricsClient(SECRET, base_url=url, cache=False).organizations()
    assert len(seen) == 1


@pytest.mark.parametrize("echo", [SECRET, ESCAPED_SECRET], ids=["plain", "json-escaped"])
def test_a_token_echoed_in_an_answer_is_in_no_cell_and_no_cache_byte(
    serve: Any, tmp_path: Path, echo: str
) -> None:
    body = json.dumps({**ANSWER, "echo": "token=@"}).replace("@", echo).encode()
    url, _ = serve(lambda handler: (200, {}, body))
    client = mt.MetricsClient(SECRET, base_url=url, cache_dir=tmp_path, now="2026-12-01")
    frame = client.session_metrics_frame(*WEEK, freq="day")
    client.close()
    assert frame["sessions_created_count"].sum() == 21
    assert SECRET not in frame.to_csv()
    assert set(frame["echo"]) == {"token=***"}
    for file in tmp_path.iterdir():
        data = file.read_bytes()
        assert SECRET.encode() not in data and ESCAPED_SECRET.encode() not in data, file.name
    assert any(b"token=***" in file.read_bytes() for file in tmp_path.iterdir())


def test_a_same_host_redirect_writes_no_token_to_the_cache(serve: Any, tmp_path: Path) -> None:
    def script(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if handler.path.startswith("/v3/"):
            return 307, {"Location": handler.path.replace("/v3/", "/moved/v3/", 1)}, b""
        return 200, {}, json.dumps(ANSWER).encode()

    url, seen = serve(script)
    client = mt.MetricsClient(SECRET, base_url=url, cache_dir=tmp_path, now="2026-12-01")
    assert client.session_metrics(*WEEK).sessions_created_count == 3
    client.close()
    assert [path.split("?")[0] for path in seen] == [
        "/v3/enterprise/metrics/sessions",
        "/moved/v3/enterprise/metrics/sessions",
    ]
    for file in tmp_path.iterdir():
        assert SECRET.encode() not in file.read_bytes(), file.name


def test_a_body_that_breaks_the_schema_is_never_written(serve: Any, tmp_path: Path) -> None:
    url, _ = serve(lambda handler: (200, {}, b'{"sessions_created_count": "3"}'))
    client = mt.MetricsClient(SECRET, base_url=url, cache_dir=tmp_path, max_retries=0)
    with pytest.raises(mt.ResponseValidationError):
        client.session_metrics(*WEEK)
    client.close()
    assert all(b"sessions_created_count" not in file.read_bytes() for file in tmp_path.iterdir())


@pytest.mark.parametrize(
    "retry_after",
    ["Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 -0000", "Sunday, 06-Nov-94 08:49:37"],
)
def test_every_http_date_form_of_retry_after_is_understood(serve: Any, retry_after: str) -> None:
    answers = iter([(429, {"Retry-After": retry_after}, b"{}")])

    def script(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return next(answers, (200, {}, json.dumps(ANSWER).encode()))

    url, seen = serve(script)
    client = mt.MetricsClient(SECRET, base_url=url, cache=False, backoff=0)
    frame = client.session_metrics_frame(*WEEK, freq="week", on_error="mark")
    assert not frame["failed"].any() and len(seen) == 2  # a date in the past: no wait


def test_a_token_quoted_back_with_json_escapes_is_masked_in_errors(serve: Any) -> None:
    body = json.dumps({"detail": "bad token @"}).replace("@", ESCAPED_SECRET).encode()
    url, _ = serve(lambda handler: (401, {}, body))
    with pytest.raises(mt.AuthenticationError) as caught:
        mt.MetricsClient(SECRET, base_url=url, cache=False).session_metrics(*WEEK)
    error = caught.value
    for text in (str(error), repr(error.body), repr(vars(error))):
        assert SECRET not in text


@pytest.mark.parametrize(
    ("after", "before"),
    [(32_503_680_000, 32_503_766_400), ("3000-01-01", "3000-01-02"), ("2260-01-01", "2300-01-01")],
)
def test_times_past_2262_are_sent_as_seconds_not_an_overflow(
    serve: Any, after: Any, before: Any
) -> None:
    url, seen = serve(lambda handler: (200, {}, json.dumps(ANSWER).encode()))
    client = mt.MetricsClient(SECRET, base_url=url, cache=False, now="2026-12-01")
    assert client.session_metrics(after, before).sessions_created_count == 3
    first = dict(part.split("=") for part in seen[0].split("?")[1].split("&"))
    expected = pd.Timestamp(after, unit="s") if isinstance(after, int) else pd.Timestamp(after)
    assert int(first["time_after"]) == int(expected.tz_localize("UTC").timestamp())
    with pytest.warns(mt.FutureBucketsWarning):  # still to come: bucketed, not asked for
        frame = client.session_metrics_frame(after, before, freq="year")
    assert frame.empty and frame.attrs["cut_after_now"][0].time_after == int(first["time_after"])


# "u 1" holds a space, so one call reads it as a name: tests/test_names.py refuses it there.
@pytest.mark.parametrize("bad", ["u1,u2", "u\n1", "u\x001"])
def test_an_id_holding_a_comma_space_or_control_character_is_refused(serve: Any, bad: str) -> None:
    url, seen = serve(lambda handler: (200, {}, json.dumps(ANSWER).encode()))
    client = mt.MetricsClient(SECRET, base_url=url, cache=False)
    with pytest.raises(mt.InvalidParameterError) as caught:
        client.session_metrics(*WEEK, user_ids=["u0", bad])
    assert caught.value.parameter == "user_ids" and "own item" in str(caught.value)
    with pytest.raises(mt.InvalidParameterError):  # ids as given, no directory to read first
        client.session_metrics_frame(
            *WEEK, by="org", ids=[bad], directory=Directory(), allow_unknown_ids=True
        )
    assert seen == []


class _Trickling(BaseHTTPRequestHandler):
    """Headers at once, then the body a byte at a time every ``pause`` seconds, or half of it and
    then nothing (``pause`` None) until the test ends."""

    pause: float | None
    done: threading.Event

    def do_GET(self) -> None:
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if self.pause is None:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.done.wait(30)
                return
            for byte in body:
                if self.done.wait(self.pause):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:  # the client gave up and closed the connection
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("pause", [0.05, None], ids=["trickled", "stalled"])
def test_a_slow_body_ends_the_attempt_at_its_deadline_as_a_timeout(pause: float | None) -> None:
    done = threading.Event()
    handler = type("Handler", (_Trickling,), {"pause": pause, "done": done})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = mt.MetricsClient(SECRET, base_url=url, cache=False, timeout=0.5, max_retries=0)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            client.session_metrics(*WEEK)  # the body takes ~15 s a byte at a time
        except BaseException as error:  # kept for the assertion below
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(10)  # bounded: a per-read timeout alone would hold the worker for the whole body
    try:
        assert not worker.is_alive(), "the attempt outlived its deadline"
        assert len(outcome) == 1 and isinstance(outcome[0], mt.APITimeoutError), outcome
    finally:
        done.set()
        server.shutdown()
        server.server_close()
