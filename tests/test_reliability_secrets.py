"""Where the token can and cannot appear.

A distinctive token is served by a demo API that knows it, and then searched for in everything
a user or a log collector can see: the client's repr, the text of every error (and its
traceback, and its pickle), DEBUG logs of our logger, urllib3 and requests-cache, every byte of
the cache directory (SQLite WAL included), the progress bar and the CLI's output. A server that
echoes the token back in an error body does not get it into an error message either.
"""

from __future__ import annotations

import base64
import logging
import os
import pickle
import stat
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

import metrics_toolkit as mt
from metrics_toolkit._transport import Transport
from metrics_toolkit.cli import main
from metrics_toolkit.client import SESSION_METRICS
from metrics_toolkit.demo import DemoAPI, DemoEnterprise, DemoServer, FaultPlan
from metrics_toolkit.demo.simulator import ALL_PERMISSIONS

from ._reliability import SECRET, FixedAnswer, client_of, fixed_answer_client
from .conftest import NOW

WEEK = ("2026-11-02", "2026-11-09")
SECRET_FORMS = (SECRET.encode(), base64.b64encode(f"Bearer {SECRET}".encode()))


def assert_no_secret(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for form in SECRET_FORMS:
            assert form not in data, data[:400]


def everything_about(error: BaseException) -> list[str | bytes]:
    """What an error exposes: message, repr, traceback with its chain, attributes, pickle."""
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        repr(vars(error)),
        pickle.dumps(error),
    ]


@pytest.fixture
def secret_api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW, tokens={SECRET: ALL_PERMISSIONS})


@pytest.fixture
def secret_server(secret_api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(secret_api) as server:
        yield server


def test_repr_str_and_pickling_do_not_show_the_token(secret_server: DemoServer) -> None:
    client = client_of(secret_server, api_key=SECRET)
    assert_no_secret(repr(client), str(client), client.account_fingerprint, f"{client!s:>80}")
    with pytest.raises(TypeError) as caught:
        pickle.dumps(client)
    assert_no_secret(*everything_about(caught.value))


# -- every error -----------------------------------------------------------------------------


def raise_401(server: DemoServer, api: DemoAPI) -> None:
    api.tokens = {"cog_someone_else": ALL_PERMISSIONS}
    client_of(server, api_key=SECRET).session_metrics(*WEEK)


def raise_403(server: DemoServer, api: DemoAPI) -> None:
    api.tokens = {SECRET: frozenset()}
    client_of(server, api_key=SECRET).session_metrics(*WEEK)


def raise_422(server: DemoServer, api: DemoAPI) -> None:
    client_of(server, api_key=SECRET).request(SESSION_METRICS, {"time_after": "soon"})


def with_faults(**rates: Any) -> Callable[[DemoServer, DemoAPI], None]:
    def call(server: DemoServer, api: DemoAPI) -> None:
        server.faults = FaultPlan(seed=1, retry_after="0", slow_seconds=0.5, **rates)
        client_of(server, api_key=SECRET, max_retries=1, timeout=0.2).session_metrics(*WEEK)

    return call


def raise_connection_refused(server: DemoServer, api: DemoAPI) -> None:
    server.stop()
    client_of(server, api_key=SECRET, max_retries=1).session_metrics(*WEEK)


def raise_fetch_error(server: DemoServer, api: DemoAPI) -> None:
    server.faults = FaultPlan(seed=1, server_error=1.0)
    client = client_of(server, api_key=SECRET, max_retries=1)
    mt.fetch_series(client, "2026-09-01", "2026-09-15", "day", progress=False)


@pytest.mark.parametrize(
    ("provoke", "error_class"),
    [
        (raise_401, mt.AuthenticationError),
        (raise_403, mt.PermissionDeniedError),
        (raise_422, mt.RequestValidationError),
        (with_faults(rate_limit=1.0), mt.RateLimitError),
        (with_faults(rate_limit_without_retry_after=1.0), mt.RateLimitError),
        (with_faults(server_error=1.0), mt.ServerError),
        (with_faults(drop_connection=1.0), mt.APIConnectionError),
        (with_faults(incomplete_body=1.0), mt.APIConnectionError),
        (raise_connection_refused, mt.APIConnectionError),
        (with_faults(slow=1.0), mt.APITimeoutError),
        (with_faults(html=1.0, html_statuses=(200,)), mt.ResponseValidationError),
        (with_faults(truncated_json=1.0), mt.ResponseValidationError),
        (raise_fetch_error, mt.FetchError),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_no_error_shows_the_token(
    secret_server: DemoServer,
    secret_api: DemoAPI,
    provoke: Callable[[DemoServer, DemoAPI], None],
    error_class: type[mt.MetricsError],
) -> None:
    with pytest.raises(error_class) as caught:
        provoke(secret_server, secret_api)
    assert_no_secret(*everything_about(caught.value))
    if isinstance(caught.value, mt.FetchError):
        for failure in caught.value.failures:
            assert_no_secret(str(failure), *everything_about(failure.error))


class Echo(FixedAnswer):
    """A careless server (or a proxy's debug page) that quotes the request's headers back."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        authorization = request.headers.get("Authorization", "")
        response._content = self.body.replace(b"{authorization}", authorization.encode())
        return response


@pytest.mark.parametrize(
    ("status", "body", "error_class"),
    [
        (401, b'{"detail": "Invalid API key: {authorization}"}', mt.AuthenticationError),
        (403, b'{"detail": "{authorization} lacks ViewAccountMetrics"}', mt.PermissionDeniedError),
        (
            422,
            b'{"detail": [{"loc": ["header", "{authorization}"], "msg": "bad", "type": "x"}]}',
            mt.RequestValidationError,
        ),
        (429, b"slow down, {authorization}", mt.RateLimitError),
        (500, b"Traceback ... HTTP_AUTHORIZATION = '{authorization}'", mt.ServerError),
        (
            200,
            b"<html><pre>Authorization: {authorization}</pre></html>",
            mt.ResponseValidationError,
        ),
        (200, b'{"sessions_created_count": "{authorization}"}', mt.ResponseValidationError),
        (
            200,
            b'{"sessions_created_by_origin": {"{authorization}": "x"}}',
            mt.ResponseValidationError,
        ),
        (
            200,
            b'{"pad": "' + b"x" * 180 + b'", "sessions_created_count": "{authorization}"}',
            mt.ResponseValidationError,  # the token straddles the excerpt's 200-character cut
        ),
    ],
)
def test_a_token_echoed_by_the_server_is_masked_in_errors(
    status: int, body: bytes, error_class: type[mt.MetricsError]
) -> None:
    adapter = Echo(body, status=status)
    client = fixed_answer_client(adapter, api_key=SECRET)
    with pytest.raises(error_class) as caught:
        client.session_metrics(*WEEK)
    assert SECRET.encode() in adapter.sent[0].headers["Authorization"].encode()  # it was echoed
    assert_no_secret(*everything_about(caught.value))
    assert SECRET[:12] not in repr(vars(caught.value)), "a cut-off token is still a leak"


def test_a_token_with_a_newline_is_refused_without_quoting_it() -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.MetricsClient(SECRET + "\n", cache=False)
    assert caught.value.parameter == "api_key"
    assert_no_secret(*everything_about(caught.value))


# -- logs, cache files, progress bar, CLI -----------------------------------------------------

LOGGERS = ("metrics_toolkit", "urllib3")


def test_debug_logs_do_not_show_the_token(
    secret_server: DemoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    secret_server.faults = FaultPlan(seed=4, server_error=0.3, rate_limit=0.2, retry_after="0")
    client = client_of(secret_server, tmp_path, api_key=SECRET, max_retries=10)
    mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)
    mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)  # from cache
    client.directory()
    secret_server.faults = None
    with pytest.raises(mt.AuthenticationError):
        client_of(secret_server, api_key="cog_SECRET_unknown").session_metrics(*WEEK)
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert "metrics_toolkit" in loggers  # DEBUG was on (urllib3 sends through proxies only)
    assert any("retrying" in record.getMessage() for record in caplog.records)
    assert_no_secret(caplog.text)
    for record in caplog.records:
        assert_no_secret(record.getMessage(), repr(record.args), repr(record.__dict__))
    assert "cog_SECRET_unknown" not in caplog.text


def cache_bytes(directory: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def test_the_cache_files_never_hold_the_token(secret_server: DemoServer, tmp_path: Path) -> None:
    client = client_of(secret_server, tmp_path, api_key=SECRET)
    mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)
    client.directory()
    open_files = cache_bytes(tmp_path)  # while the session is open: the WAL holds the writes
    assert any(path.name.endswith("-wal") and data for path, data in open_files.items())
    client.close()
    closed_files = cache_bytes(tmp_path)
    for data in [*open_files.values(), *closed_files.values()]:
        assert_no_secret(data)
    # the answers are there (the search would find the token if it were stored)
    assert any(b"sessions_created_count" in data for data in open_files.values())


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_cache_files_are_owner_only_whatever_the_umask(
    secret_server: DemoServer, tmp_path: Path, umask: int
) -> None:
    previous = os.umask(umask)
    try:
        fresh = tmp_path / "new" / "cache"
        existing = tmp_path / "existing"
        existing.mkdir(mode=0o777)
        os.chmod(existing, 0o777)
        for directory in (fresh, existing, None):  # None: the default (XDG_CACHE_HOME/...)
            client = mt.MetricsClient(
                SECRET, base_url=secret_server.url, cache_dir=directory, now=NOW
            )
            mt.fetch_series(client, "2026-09-01", "2026-09-15", "day", progress=False)
            where = directory or mt.default_cache_dir()
            files = list(where.iterdir())
            assert {path.name for path in files} >= {mt.cache.CACHE_FILE_NAME}
            assert any(path.name.endswith("-wal") for path in files)
            assert stat.S_IMODE(where.stat().st_mode) == 0o700, where
            for path in files:
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            client.close()
    finally:
        os.umask(previous)


def test_the_progress_bar_does_not_show_the_token(
    secret_server: DemoServer, capfd: pytest.CaptureFixture[str]
) -> None:
    client = client_of(secret_server, api_key=SECRET)
    mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=True)
    out, err = capfd.readouterr()
    assert "session metrics" in err and "30/30" in err  # the bar was drawn
    assert_no_secret(out, err)


FAILING = frozenset({mt.time_buckets("2026-09-03", "2026-09-04", "day")[0].time_after})


@pytest.mark.parametrize(
    ("faults", "extra", "status"),
    [
        (None, [], 0),
        (FaultPlan(seed=1, failing_time_after=FAILING), [], 1),
        pytest.param(
            FaultPlan(seed=1, failing_time_after=FAILING),
            ["--on-error", "mark"],
            0,
            marks=pytest.mark.filterwarnings("ignore::metrics_toolkit.PartialFetchWarning"),
        ),
        ("unknown token", [], 1),
    ],
    ids=["ok", "failed", "marked", "401"],
)
def test_the_cli_does_not_show_the_token(
    secret_server: DemoServer,
    secret_api: DemoAPI,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    faults: Any,
    extra: list[str],
    status: int,
) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", SECRET)
    monkeypatch.setattr(Transport, "_backoff_delay", lambda self, attempt: 0.0)
    if faults == "unknown token":
        secret_api.tokens = {}
    else:
        secret_server.faults = faults
    out_file = tmp_path / "series.csv"
    arguments = ["fetch", "--start", "2026-09-01", "--end", "2026-09-15", "--freq", "day"]
    arguments += ["--base-url", secret_server.url, "--cache-dir", str(tmp_path / "cache")]
    arguments += ["--out", str(out_file), *extra]
    assert main(arguments) == status
    out, err = capfd.readouterr()
    assert out or err
    assert_no_secret(out, err)
    if out_file.exists():
        assert_no_secret(out_file.read_bytes())
    assert "Traceback" not in err


# -- transport -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.example.com",
        "HTTP://API.EXAMPLE.COM",
        "http://127.0.0.1.nip.io:8765",
        "http://localhost.example.com",
        "http://localhost:8765@api.example.com",  # userinfo: the host is api.example.com
        "http://10.0.0.5:8765",
        "http://0.0.0.0:8765",
    ],
)
def test_plain_http_to_a_host_that_is_not_loopback_is_refused(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(mt.InsecureTransportError) as caught:
        mt.MetricsClient(SECRET, base_url=base_url, cache=False)
    assert "allow_insecure_http=True" in str(caught.value)
    assert_no_secret(*everything_about(caught.value))
    monkeypatch.setenv("DEVIN_API_KEY", SECRET)
    monkeypatch.setenv("DEVIN_API_BASE_URL", base_url)
    with pytest.raises(mt.InsecureTransportError):
        mt.MetricsClient(cache=False)
    assert mt.MetricsClient(cache=False, allow_insecure_http=True).base_url.lower() == (
        base_url.lower()
    )


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"CURL_CA_BUNDLE": ""},
        {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""},
        {"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"},  # another CA: still on
    ],
)
def test_tls_verification_reaches_the_transport_on(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    adapter = FixedAnswer(status=401, body=b'{"detail": "no"}')
    client = fixed_answer_client(adapter, api_key=SECRET)
    # on: True, or the CA bundle the environment names; never False
    assert client._path.transport.verify in (True, environment.get("REQUESTS_CA_BUNDLE"))
    with pytest.raises(mt.AuthenticationError):
        client.session_metrics(*WEEK)
    [verify] = adapter.verify
    assert verify is True or verify == environment.get("REQUESTS_CA_BUNDLE")


class _Recorder(BaseHTTPRequestHandler):
    """Records each request's Authorization header; redirects when told to."""

    seen: list[str | None]
    redirect_to: str | None = None

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"detail": "Not authenticated"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def recorder(redirect_to: str | None = None) -> tuple[ThreadingHTTPServer, list[str | None]]:
    seen: list[str | None] = []
    handler = type("Handler", (_Recorder,), {"seen": seen, "redirect_to": redirect_to})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def test_a_redirect_to_another_host_does_not_carry_the_token() -> None:
    elsewhere, seen_elsewhere = recorder()
    port = elsewhere.server_address[1]
    origin, seen_at_origin = recorder(redirect_to=f"http://localhost:{port}")
    try:
        client = mt.MetricsClient(
            SECRET, base_url=f"http://127.0.0.1:{origin.server_address[1]}", cache=False
        )
        with pytest.raises(mt.AuthenticationError):
            client.session_metrics(*WEEK)
    finally:
        origin.shutdown()
        elsewhere.shutdown()
    assert seen_at_origin == [f"Bearer {SECRET}"]
    assert seen_elsewhere == [None]


# -- the token's shape ---------------------------------------------------------------------------


def test_a_token_without_the_cog_prefix_is_warned_about_and_still_used(
    enterprise: DemoEnterprise, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = "apk_SECRET_legacy_456"
    api = DemoAPI(enterprise, now=NOW, tokens={legacy: ALL_PERMISSIONS})
    with DemoServer(api) as server:
        with pytest.warns(mt.TokenFormatWarning) as warned:
            client = mt.MetricsClient(legacy, base_url=server.url, cache=False)
        assert client.session_metrics(*WEEK).sessions_created_count > 0  # sent, and accepted
        monkeypatch.setenv("DEVIN_API_KEY", legacy)
        with pytest.warns(mt.TokenFormatWarning):
            mt.MetricsClient(base_url=server.url, cache=False)
    assert issubclass(mt.TokenFormatWarning, UserWarning)
    assert len(warned) == 1 and warned[0].filename == __file__  # points at the caller's line
    message = str(warned[0].message)
    assert "cog_" in message and legacy not in message and "apk_" not in message
