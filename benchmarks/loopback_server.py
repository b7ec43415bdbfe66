"""A lean loopback server for the benchmarks: the demo's answers, a precise latency, little CPU.

The demo server (:class:`~metrics_toolkit.demo.DemoServer`) is an ``http.server`` that
aggregates the synthetic log on every request: when eight requests arrive together its own
GIL serialises them, and that server time, not the client's, would separate every client from
the latency floor. This server is independent of the toolkit's HTTP stack: a thread per
connection, HTTP/1.1 keep-alive, ``TCP_NODELAY``, a request head read with two string
operations, and ``time.sleep(latency)`` (a nanosleep: an event loop's millisecond timer would
land up to 1 ms late). Answers come from :meth:`DemoAPI.handle
<metrics_toolkit.demo.DemoAPI.handle>`, each distinct request computed once and kept, so every
client measured gets the same cheap answers after the first pass, and every scenario's
correctness checks still compare with the demo's numbers.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from http import HTTPStatus
from typing import Any

from metrics_toolkit.demo import DemoAPI

# Scenarios 1 and 6 ask for a day or two before the demo's history (0 for every client alike):
# the demo's notice of it would only be noise in every run's output.
logging.getLogger("metrics_toolkit.demo").setLevel(logging.ERROR)

__all__ = ["LoopbackServer"]

#: Most lines of one request head read.
MAX_HEAD_LINES = 100
#: The statuses with a standard reason phrase.
PHRASES = frozenset(status.value for status in HTTPStatus)


class LoopbackServer:
    """Serve ``api`` on 127.0.0.1 from threads of this process.

    Parameters
    ----------
    api : DemoAPI
        What answers.
    latency : float
        Seconds waited before each answer.
    keep_answers : bool, default True
        Compute each distinct request once and keep its answer; False: compute every answer
        (the first client pays no more than the next, and memory does not grow with the
        distinct requests).
    """

    def __init__(self, api: DemoAPI, latency: float = 0.0, *, keep_answers: bool = True) -> None:
        self.api = api
        self.latency = latency
        self.keep_answers = keep_answers
        self.request_count = 0
        self.url = ""
        self._answers: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()
        self._server = _ThreadingServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LoopbackServer:
        """Serve in a background thread."""
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=30)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        """The whole response to one request, computed once per distinct request (or every
        time, without ``keep_answers``)."""
        key = (method, target, headers.get("authorization", ""))
        kept = self._answers.get(key)
        if kept is not None:
            return kept
        path, _, query = target.partition("?")
        with self._lock:  # the simulator is not asked from two threads at once
            answer = self.api.handle(method, path, query, headers)
        reason = HTTPStatus(answer.status).phrase if answer.status in PHRASES else ""
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in answer.headers.items()]
        lines += [f"Content-Length: {len(answer.body)}", "Connection: keep-alive", "", ""]
        response = "\r\n".join(lines).encode("latin-1") + answer.body
        if answer.status == 200 and self.keep_answers:
            self._answers[key] = response
        return response


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    owner: LoopbackServer


class _Handler(socketserver.StreamRequestHandler):
    """One connection: requests answered in turn until the client closes it."""

    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        owner = self.server.owner
        while True:
            head = _read_head(self.rfile)
            if head is None:
                return
            method, target, headers = head
            with owner._lock:
                owner.request_count += 1
            if owner.latency:
                time.sleep(owner.latency)
            try:
                self.wfile.write(owner.answer(method, target, headers))
            except OSError:
                return


def _read_head(stream: Any) -> tuple[str, str, dict[str, str]] | None:
    """The request line and headers (lower-case names); None when the client closed."""
    try:
        line = stream.readline()
    except OSError:
        return None
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    for _ in range(MAX_HEAD_LINES):
        line = stream.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers
