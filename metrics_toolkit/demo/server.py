"""A real HTTP server on a loopback address, serving a `DemoAPI`, with latency and faults.

`DemoServer` runs a standard-library `ThreadingHTTPServer` in a daemon thread. Each request can
be delayed (`latency`) and, according to a `FaultPlan`, answered with a fault instead of (or on
top of) the simulator's answer. The n-th request a server receives always gets the same fault
for the same plan seed, so failures are reproducible.

Fault kinds (the `FaultPlan` field holding each one's rate):

================================= ==========================================================
``rate_limit``                    429 with ``Retry-After: <retry_after>``
``rate_limit_without_retry_after`` 429 without ``Retry-After``
``server_error``                  one of ``server_error_statuses`` (500/502/503/504), text body
``drop_connection``               the socket is closed without any response
``slow``                          the answer comes after ``slow_seconds`` more seconds
``html``                          an HTML error page, status one of ``html_statuses`` (200/502)
``truncated_json``                status and headers of the real answer, body cut in half (the
                                  ``Content-Length`` matches the cut body)
``incomplete_body``               ``Content-Length`` of the whole body, half of it sent, then the
                                  connection is closed
``schema_drift``                  on a 200 of the metrics endpoint, one of ``drift_kinds``:
                                  ``unknown_origin`` (10% of ``webapp`` moved to a new origin
                                  ``github``), ``unknown_metric`` (a new top-level count
                                  ``sessions_created_with_knowledge_count``), ``missing_size``
                                  (``xl`` left out of ``sessions_created_by_size``)
================================= ==========================================================

Besides these random faults, `FaultPlan.failing_time_after` lists ``time_after`` values whose
metrics requests always get a 500: buckets that fail every time.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, TextIO
from urllib.parse import parse_qsl, urlsplit

from metrics_toolkit.demo.enterprise import DEFAULT_DAYS, DEFAULT_SEED, generate_enterprise
from metrics_toolkit.demo.simulator import (
    DEMO_API_KEY,
    SESSION_METRICS_PATH,
    DemoAPI,
    DemoResponse,
)

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8765
REQUEST_QUEUE_SIZE: Final = 128
DEFAULT_RETRY_AFTER: Final = "1"
DEFAULT_SLOW_SECONDS: Final = 2.0
SERVER_ERROR_STATUSES: Final = (500, 502, 503, 504)
HTML_STATUSES: Final = (200, 502)
DRIFT_KINDS: Final = ("unknown_origin", "unknown_metric", "missing_size")
UNKNOWN_ORIGIN: Final = "github"
UNKNOWN_METRIC: Final = "sessions_created_with_knowledge_count"
MISSING_SIZE: Final = "xl"
FAULT_KINDS: Final = (
    "rate_limit",
    "rate_limit_without_retry_after",
    "server_error",
    "drop_connection",
    "slow",
    "html",
    "truncated_json",
    "incomplete_body",
    "schema_drift",
)
HTML_ERROR_PAGE: Final = (
    "<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>\n"
    "<body><h1>{status} {phrase}</h1><p>The upstream server did not answer.</p></body></html>\n"
)
IDLE_CONNECTION_TIMEOUT: Final = 60.0
"""Seconds a kept-alive connection may stay idle before the server closes it."""
_STOP_POLL_SECONDS: Final = 0.05


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request: a kind of `FAULT_KINDS`, and its variant."""

    kind: str
    status: int | None = None
    """HTTP status of ``server_error`` and ``html`` faults."""
    drift: str | None = None
    """One of `DRIFT_KINDS` for ``schema_drift``."""


@dataclass(frozen=True)
class FaultPlan:
    """Which faults a `DemoServer` injects, reproducibly from `seed`.

    Each rate is the probability (0..1) that a request gets that fault; the rates add up to at
    most 1 and at most one fault applies to a request. Request number n (counting from 0 in
    the order the server receives them) always gets the same fault for the same plan.

    Parameters
    ----------
    seed : int
        Seed of the per-request draws.
    rate_limit, rate_limit_without_retry_after, server_error, drop_connection, slow, html,
    truncated_json, incomplete_body, schema_drift : float
        Rate of each fault kind (see the module docstring).
    retry_after : str
        Value of the ``Retry-After`` header of ``rate_limit`` faults, in seconds.
    slow_seconds : float
        Extra delay of ``slow`` faults, in seconds.
    server_error_statuses, html_statuses : tuple of int
        Statuses the ``server_error`` and ``html`` faults choose from.
    drift_kinds : tuple of str
        Variants the ``schema_drift`` fault chooses from (subset of `DRIFT_KINDS`).
    failing_time_after : frozenset of int
        Metrics requests whose ``time_after`` (Unix seconds) is in this set always get a 500.
    paths : frozenset of str, optional
        Only requests to these paths get random faults; None means every path.
    """

    seed: int = 0
    rate_limit: float = 0.0
    rate_limit_without_retry_after: float = 0.0
    server_error: float = 0.0
    drop_connection: float = 0.0
    slow: float = 0.0
    html: float = 0.0
    truncated_json: float = 0.0
    incomplete_body: float = 0.0
    schema_drift: float = 0.0
    retry_after: str = DEFAULT_RETRY_AFTER
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    server_error_statuses: tuple[int, ...] = SERVER_ERROR_STATUSES
    html_statuses: tuple[int, ...] = HTML_STATUSES
    drift_kinds: tuple[str, ...] = DRIFT_KINDS
    failing_time_after: frozenset[int] = frozenset()
    paths: frozenset[str] | None = None

    def __post_init__(self) -> None:
        rates = self.rates()
        if any(not 0.0 <= rate <= 1.0 for rate in rates.values()):
            raise ValueError(f"fault rates must be between 0 and 1, got {rates}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must add up to at most 1, got {sum(rates.values())}")
        if not set(self.drift_kinds) <= set(DRIFT_KINDS) or not self.drift_kinds:
            raise ValueError(f"drift_kinds must be a non-empty subset of {DRIFT_KINDS}")
        if not self.server_error_statuses or not self.html_statuses:
            raise ValueError("server_error_statuses and html_statuses must not be empty")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")

    @classmethod
    def spread(
        cls, total_rate: float, *, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS
    ) -> FaultPlan:
        """A plan where `total_rate` of the requests fail, shared equally among `kinds`."""
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {FAULT_KINDS}")
        rates: dict[str, Any] = dict.fromkeys(kinds, total_rate / len(kinds))
        return cls(seed=seed, **rates)

    def rates(self) -> dict[str, float]:
        """Rate of each fault kind, in the order of `FAULT_KINDS`."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {kind: float(values[kind]) for kind in FAULT_KINDS}

    def decide(self, sequence_number: int, path: str = SESSION_METRICS_PATH) -> Fault | None:
        """The fault of request number `sequence_number` (from 0) to `path`, or None."""
        if self.paths is not None and path not in self.paths:
            return None
        draws = random.Random(f"{self.seed}:{sequence_number}")
        draw = draws.random()
        threshold = 0.0
        for kind, rate in self.rates().items():
            threshold += rate
            if draw < threshold:
                if kind == "server_error":
                    return Fault(kind, status=draws.choice(self.server_error_statuses))
                if kind == "html":
                    return Fault(kind, status=draws.choice(self.html_statuses))
                if kind == "schema_drift":
                    return Fault(kind, drift=draws.choice(self.drift_kinds))
                return Fault(kind)
        return None

    def fails_permanently(self, path: str, query: str) -> bool:
        """Whether this request is one of the chosen always-failing metrics requests."""
        if path != SESSION_METRICS_PATH or not self.failing_time_after:
            return False
        values = [value for name, value in parse_qsl(query) if name == "time_after"]
        try:
            return bool(values) and int(values[-1]) in self.failing_time_after
        except ValueError:
            return False


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

    Raises
    ------
    ValueError
        If `host` is not a loopback address or `latency` is negative.

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
    ) -> None:
        _check_loopback(host)
        if latency < 0:
            raise ValueError(f"latency must not be negative, got {latency}")
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
            self._write(_text_response(HTTPStatus.INTERNAL_SERVER_ERROR))
            return
        answer = demo.api.handle(self.command, parts.path, parts.query, dict(self.headers))
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
            self._write(_text_response(HTTPStatus(fault.status or 500)))
        elif kind == "html":
            self._write(_html_response(fault.status or 502))
        elif kind == "truncated_json":
            self._write(DemoResponse(answer.status, answer.headers, _half(answer.body)))
        elif kind == "incomplete_body":
            self._write(answer, sent_body=_half(answer.body), close=True)
        elif kind == "schema_drift" and path == SESSION_METRICS_PATH and answer.status == 200:
            body = _drift(answer.body, fault.drift or DRIFT_KINDS[0])
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


def _text_response(status: HTTPStatus) -> DemoResponse:
    body = f"{status.value} {status.phrase}".encode()
    return DemoResponse(int(status), {"Content-Type": "text/plain; charset=utf-8"}, body)


def _html_response(status: int) -> DemoResponse:
    phrase = HTTPStatus(status).phrase
    body = HTML_ERROR_PAGE.format(status=status, phrase=phrase).encode()
    return DemoResponse(status, {"Content-Type": "text/html; charset=utf-8"}, body)


def _half(body: bytes) -> bytes:
    return body[: len(body) // 2]


def _drift(body: bytes, drift: str) -> bytes:
    """The metrics payload `body` changed the way a newer server might change it."""
    payload = json.loads(body)
    if drift == "unknown_origin":
        origins = payload["sessions_created_by_origin"]
        moved = origins.get("webapp", 0) // 10
        origins["webapp"] = origins.get("webapp", 0) - moved
        origins[UNKNOWN_ORIGIN] = moved
    elif drift == "unknown_metric":
        payload[UNKNOWN_METRIC] = payload["sessions_created_with_search_count"] // 2
    elif drift == "missing_size":
        payload["sessions_created_by_size"].pop(MISSING_SIZE, None)
    return json.dumps(payload, separators=(",", ":")).encode()


def serve_forever(
    *,
    port: int = DEFAULT_PORT,
    latency: float = 0.0,
    faults: FaultPlan | None = None,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    host: str = DEFAULT_HOST,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
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
        Timezone-aware end of the generated year and clock of the API. Default: the current
        hour, UTC.
    seed : int
        Seed of the synthetic enterprise.
    days : int
        Days of generated history before `now`.
    host : str
        Loopback address to bind.
    out : TextIO, optional
        Where to print the URL and the API key. Default: standard output.
    stop : threading.Event, optional
        Stop when this event is set (for tests); Ctrl-C always stops.
    """
    stream = sys.stdout if out is None else out
    enterprise = generate_enterprise(seed=seed, end=now, days=days)
    api = DemoAPI(enterprise)
    with DemoServer(api, host=host, port=port, latency=latency, faults=faults) as server:
        print(f"Demo Devin API serving at {server.url}", file=stream)
        print(
            f"API key: {DEMO_API_KEY}  (header 'Authorization: Bearer {DEMO_API_KEY}')", file=stream
        )
        print(
            f"{len(enterprise.sessions)} sessions; press Ctrl-C to stop.", file=stream, flush=True
        )
        waiter = threading.Event() if stop is None else stop
        try:
            while not waiter.wait(_STOP_POLL_SECONDS):
                pass
        except KeyboardInterrupt:
            print("Stopped.", file=stream, flush=True)
