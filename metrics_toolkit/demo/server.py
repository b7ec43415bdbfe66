"""A real HTTP server on a loopback address, serving a `DemoAPI`, with latency and faults.

`DemoServer` runs a standard-library `ThreadingHTTPServer` in a daemon thread. Each request can
be delayed (`latency`) and, according to a `FaultPlan`, answered with a fault instead of (or on
top of) the simulator's answer. The n-th request a server receives always gets the same fault
for the same plan seed, so failures are reproducible. The fault kinds and the plan live in
`metrics_toolkit.demo.faults` (their names are exported here too).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, TextIO
from urllib.parse import urlsplit

from metrics_toolkit.demo.enterprise import DEFAULT_SEED, generate_enterprise
from metrics_toolkit.demo.faults import (
    DEFAULT_RETRY_AFTER,
    DEFAULT_SLOW_SECONDS,
    DRIFT_KINDS,
    FAULT_KINDS,
    HTML_ERROR_PAGE,
    HTML_STATUSES,
    MISSING_SIZE,
    SERVER_ERROR_STATUSES,
    UNKNOWN_METRIC,
    UNKNOWN_ORIGIN,
    Fault,
    FaultPlan,
    drift_body,
    half,
    html_response,
    text_response,
)
from metrics_toolkit.demo.protocol import ListFormat
from metrics_toolkit.demo.simulator import (
    DEMO_API_KEY,
    DEMO_ORG_API_KEY,
    SESSION_METRICS_PATH,
    DemoAPI,
    DemoResponse,
    check_list_format,
)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
REQUEST_QUEUE_SIZE: Final = 128
IDLE_CONNECTION_TIMEOUT: Final = 60.0
"""Seconds a kept-alive connection may stay idle before the server closes it."""
_STOP_POLL_SECONDS: Final = 0.05


class DemoServer:
    """Serve a `DemoAPI` over HTTP on a loopback address, in a background thread.

    Parameters
    ----------
    api : DemoAPI
        The simulator answering the requests.
    host : str
        A loopback address (``127.0.0.1``, ``::1``) or ``localhost``; anything else is refused.
    port : int
        TCP port; 0 picks a free one.
    latency : float
        Seconds added to every request before it is answered.
    faults : FaultPlan, optional
        Faults to inject; None injects none.
    list_format : {"any", "repeat", "comma"}, optional
        How list parameters are read (see `metrics_toolkit.demo.protocol.ListFormat`).
        Default: the api's own `DemoAPI.list_format`.

    Raises
    ------
    ValueError
        If `host` is not a loopback address, `latency` is negative or `list_format` unknown.

    Examples
    --------
    >>> import requests
    >>> from metrics_toolkit.demo import generate_enterprise
    >>> from metrics_toolkit.demo.simulator import DEMO_API_KEY
    >>> with DemoServer(DemoAPI(generate_enterprise(days=7))) as server:
    ...     response = requests.get(
    ...         f"{server.url}/v3/enterprise/organizations",
    ...         headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
    ...         timeout=10,
    ...     )
    >>> response.status_code
    200
    """

    def __init__(
        self,
        api: DemoAPI,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        latency: float = 0.0,
        faults: FaultPlan | None = None,
        list_format: ListFormat | None = None,
    ) -> None:
        _check_loopback(host)
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
        self.list_format = None if list_format is None else check_list_format(list_format)
        self.api = api
        self.host = host
        self.port = port
        self.latency = latency
        self.faults = faults
        self._lock = threading.Lock()
        self._request_count = 0
        self._requests: list[str] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, for example ``http://127.0.0.1:54321`` (the port is known once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def request_count(self) -> int:
        """Number of requests received so far."""
        with self._lock:
            return self._request_count

    @property
    def requests(self) -> tuple[str, ...]:
        """Path and query string of every request received so far, in order (no headers)."""
        with self._lock:
            return tuple(self._requests)

    def start(self) -> DemoServer:
        """Bind the socket and start serving in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        server_class = _HTTPServer6 if ":" in self.host else _HTTPServer
        httpd = server_class((self.host, self.port), _Handler)
        httpd.demo = self
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _STOP_POLL_SECONDS},
            name=f"DemoServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _register(self, target: str) -> int:
        """Count and log one request; its sequence number (from 0)."""
        with self._lock:
            sequence_number = self._request_count
            self._request_count += 1
            self._requests.append(target)
        return sequence_number


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = REQUEST_QUEUE_SIZE
    demo: DemoServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away (timeout, dropped connection): nothing to report
        super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    # headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add about 40 ms to every keep-alive round trip
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Serve quietly: no line per request on stderr."""

    def _serve(self) -> None:
        demo = self.server.demo
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = urlsplit(self.path)
        sequence_number = demo._register(self.path)
        plan = demo.faults
        fault = None if plan is None else plan.decide(sequence_number, parts.path)
        if demo.latency:
            time.sleep(demo.latency)
        if fault is not None and fault.kind == "drop_connection":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(plan.slow_seconds if plan is not None else 0.0)
        if plan is not None and plan.fails_permanently(parts.path, parts.query):
            self._write(text_response(HTTPStatus.INTERNAL_SERVER_ERROR))
            return
        answer = demo.api.handle(
            self.command, parts.path, parts.query, dict(self.headers), list_format=demo.list_format
        )
        self._write_with_fault(answer, fault, parts.path, plan)

    def _write_with_fault(
        self, answer: DemoResponse, fault: Fault | None, path: str, plan: FaultPlan | None
    ) -> None:
        kind = None if fault is None else fault.kind
        if fault is None or kind == "slow":
            self._write(answer)
        elif kind in ("rate_limit", "rate_limit_without_retry_after"):
            headers = {"Content-Type": "application/json"}
            if kind == "rate_limit" and plan is not None:
                headers["Retry-After"] = plan.retry_after
            body = b'{"detail":"Rate limit exceeded, retry later"}'
            self._write(DemoResponse(HTTPStatus.TOO_MANY_REQUESTS, headers, body))
        elif kind == "server_error":
            self._write(text_response(HTTPStatus(fault.status or 500)))
        elif kind == "html":
            self._write(html_response(fault.status or 502))
        elif kind == "truncated_json":
            self._write(DemoResponse(answer.status, answer.headers, half(answer.body)))
        elif kind == "incomplete_body":
            self._write(answer, sent_body=half(answer.body), close=True)
        elif kind == "schema_drift" and path == SESSION_METRICS_PATH and answer.status == 200:
            body = drift_body(answer.body, fault.drift or DRIFT_KINDS[0])
            self._write(DemoResponse(answer.status, answer.headers, body))
        else:
            self._write(answer)

    def _write(
        self, response: DemoResponse, *, sent_body: bytes | None = None, close: bool = False
    ) -> None:
        """Send `response`; `sent_body` replaces the bytes actually sent (not the length)."""
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body if sent_body is None else sent_body)
        self.wfile.flush()


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"DemoServer only binds to a loopback address (127.0.0.1, ::1, localhost), got {host!r}"
        )


def serve_forever(
    *,
    port: int = DEFAULT_PORT,
    latency: float = 0.0,
    faults: FaultPlan | None = None,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
    days: int | None = None,
    host: str = DEFAULT_HOST,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
    list_format: ListFormat = "any",
) -> None:
    """Serve the demo API until Ctrl-C (or until `stop` is set), printing how to reach it.

    Parameters
    ----------
    port : int
        TCP port on `host`; 0 picks a free one.
    latency : float
        Seconds added to every request.
    faults : FaultPlan, optional
        Faults to inject (for example ``FaultPlan.spread(0.1, seed=1)``).
    now : datetime, optional
        Timezone-aware end of the history and clock of the API, after the demo's first day.
        Default: the current hour, UTC.
    seed : int
        Seed of the synthetic enterprise.
    days : int, optional
        Keep only this many days of history before `now`. Default: every day since the
        demo's first day (`metrics_toolkit.demo.FIRST_DAY`).
    host : str
        Loopback address to bind.
    out : TextIO, optional
        Where to print the URL and the API key. Default: standard output.
    stop : threading.Event, optional
        Stop when this event is set (for tests); Ctrl-C always stops.
    list_format : {"any", "repeat", "comma"}
        How list parameters are read: repeated keys and comma-joined values alike (default),
        or strictly one of the two (see `metrics_toolkit.demo.protocol.ListFormat`).
    """
    stream = sys.stdout if out is None else out
    enterprise = generate_enterprise(seed=seed, end=now, days=days)
    api = DemoAPI(enterprise, list_format=list_format)
    with DemoServer(api, host=host, port=port, latency=latency, faults=faults) as server:
        print(f"Demo Devin API serving at {server.url}", file=stream)
        print(
            f"API key: {DEMO_API_KEY}  (header 'Authorization: Bearer {DEMO_API_KEY}')", file=stream
        )
        first_org = enterprise.organizations[0]
        print(
            f"Organization API key: {DEMO_ORG_API_KEY}  (scoped to {first_org.name}, "
            f"{first_org.org_id}: /v3/organizations/{first_org.org_id}/...)",
            file=stream,
        )
        if list_format != "any":
            print(f"List parameters: {list_format} format only", file=stream)
        first = datetime.fromtimestamp(enterprise.start, tz=timezone.utc)
        print(
            f"{len(enterprise.sessions)} sessions since {first:%Y-%m-%d %H:%M} UTC (windows "
            "before that count 0); press Ctrl-C to stop.",
            file=stream,
            flush=True,
        )
        waiter = threading.Event() if stop is None else stop
        try:
            while not waiter.wait(_STOP_POLL_SECONDS):
                pass
        except KeyboardInterrupt:
            print("Stopped.", file=stream, flush=True)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_SLOW_SECONDS",
    "DRIFT_KINDS",
    "FAULT_KINDS",
    "HTML_ERROR_PAGE",
    "HTML_STATUSES",
    "IDLE_CONNECTION_TIMEOUT",
    "MISSING_SIZE",
    "REQUEST_QUEUE_SIZE",
    "SERVER_ERROR_STATUSES",
    "UNKNOWN_METRIC",
    "UNKNOWN_ORIGIN",
    "DemoServer",
    "Fault",
    "FaultPlan",
    "serve_forever",
]
