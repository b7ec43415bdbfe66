"""The lean HTTP/1.1 client of the request path, against servers started here on 127.0.0.1.

Each server is a plain socket server scripted per test: what it sends is exactly the bytes
written, so framing (lengths, chunks, the end of the connection), encodings, informational
answers, kept-alive connections closed while idle, malformed answers and TLS are each seen by
the client as a real server would send them.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import metrics_toolkit as mt
from metrics_toolkit import _http11
from metrics_toolkit._http11 import Http11Pool, ProtocolError

#: Reads one request's head from the connection and returns the bytes to answer with (None:
#: close the connection without answering).
Answer = Callable[[bytes], bytes | None]
BODY = json.dumps({"sessions_created_count": 3}).encode()
WEEK = ("2026-11-16", "2026-11-23")


class Server:
    """A socket server on 127.0.0.1: a thread per connection, requests answered by ``answer``."""

    def __init__(self, answer: Answer, *, tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            buffer = b""
            while not self.closing.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.requests.append(head)
                reply = self.answer(head)
                if reply is None:
                    return
                sock.sendall(reply)
        except OSError:
            return
        finally:
            sock.close()

    def close(self) -> None:
        self.closing.set()
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(answer: Answer, **options: Any) -> Server:
        servers.append(Server(answer, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def ok(body: bytes = BODY, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as some servers send it."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def pool(server: Server, scheme: str = "http", **options: Any) -> Http11Pool:
    settings: dict[str, Any] = {"headers": {"Accept": "application/json"}, "ca_bundle": None}
    settings["maxsize"] = 4
    settings.update(options)
    return Http11Pool(f"{scheme}://127.0.0.1:{server.port}", **settings)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_a_body_by_length_and_the_connection_kept_for_the_next(serve: Any) -> None:
    server = serve(lambda head: ok(BODY, "X-Seen: yes"))
    client = pool(server)
    for _ in range(3):
        reply = client.get("/v3/x?a=1", soon())
        assert (reply.status, reply.body, reply.headers["x-seen"]) == (200, BODY, "yes")
    assert server.connections == 1 and len(server.requests) == 3
    first = server.requests[0].decode()
    assert first.startswith("GET /v3/x?a=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}" in first and "Accept: application/json" in first


def test_a_chunked_body_with_extensions_and_trailers(serve: Any) -> None:
    chunked = b"5;name=x\r\n" + BODY[:5] + b"\r\n" + f"{len(BODY) - 5:x}".encode() + b"\r\n"
    chunked += BODY[5:] + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    server = serve(lambda head: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    client = pool(server)
    assert client.get("/", soon()).body == BODY
    assert client.get("/", soon()).body == BODY  # framing ended where it said: reused
    assert server.connections == 1


def test_a_body_to_the_end_of_the_connection_is_read_whole_and_not_reused(serve: Any) -> None:
    def answer_then_close(sock: socket.socket) -> None:  # no length: the end ends the body
        try:
            sock.recv(65536)
            sock.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + BODY)
        finally:
            sock.close()

    server = serve(lambda head: None)
    server._serve = answer_then_close  # type: ignore[method-assign]
    client = pool(server)
    assert client.get("/", soon()).body == BODY
    assert client.get("/", soon()).body == BODY
    assert server.connections == 2


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: raw_deflate(data)),
    ],
)
def test_gzip_and_deflate_bodies_are_decoded(
    serve: Any, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    server = serve(lambda head: ok(encode(BODY), f"Content-Encoding: {encoding}"))
    assert pool(server).get("/", soon()).body == BODY


def test_informational_answers_are_skipped(serve: Any) -> None:
    server = serve(lambda head: b"HTTP/1.1 100 Continue\r\n\r\n" + ok())
    assert pool(server).get("/", soon()).body == BODY


def test_a_connection_the_server_closed_while_idle_is_replaced_without_sending_twice(
    serve: Any,
) -> None:
    answered: list[int] = []

    def once_per_connection(head: bytes) -> bytes:
        answered.append(1)
        return ok(BODY, "Connection: keep-alive")

    server = serve(once_per_connection)

    def serve_then_close(sock: socket.socket) -> None:  # one answer, then the idle close
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            server.requests.append(head)
            sock.sendall(once_per_connection(head))
            time.sleep(0.05)
        finally:
            sock.close()

    server._serve = serve_then_close  # type: ignore[method-assign]
    client = pool(server)
    assert client.get("/", soon()).body == BODY
    time.sleep(0.3)  # the server has closed the kept connection by now
    assert client.get("/", soon()).body == BODY
    assert server.connections == 2 and len(server.requests) == 2 == len(answered)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"SPDY/3 200 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + BODY, "ended after"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "header line"),
        (ok(b"abc", "Content-Encoding: br"), "encoding not asked for"),
        (ok(b"not gzip", "Content-Encoding: gzip"), "does not decode"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (1 << 17), "too long|more than"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 2\xb20 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "protocol switch"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "transfer coding"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "more than"),
        (ok(gzip.compress(BODY) + b"junk", "Content-Encoding: gzip"), "bytes after its end"),
        (ok(gzip.compress(b"0" * 5000), "Content-Encoding: gzip"), "inflates past"),
    ],
)
def test_a_malformed_answer_is_a_protocol_error(
    serve: Any, answer: bytes, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http11, "MAX_BODY", 4096)  # a bomb in miniature

    def reply_then_close(sock: socket.socket) -> None:
        try:
            sock.recv(65536)
            sock.sendall(answer)
        finally:
            sock.close()

    server = serve(lambda head: None)
    server._serve = reply_then_close  # type: ignore[method-assign]
    with pytest.raises(ProtocolError, match=says):
        pool(server).get("/", soon())


def test_204_and_304_have_no_body_whatever_their_headers_say(serve: Any) -> None:
    answers = iter(
        [
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\n",
            ok(),
        ]
    )
    server = serve(lambda head: next(answers))
    client = pool(server)
    assert (client.get("/", soon(2)).status, client.get("/", soon(2)).body) == (204, b"")
    assert client.get("/", soon(2)).body == BODY and server.connections == 1


def test_a_length_beside_chunks_is_read_as_chunks_and_the_connection_closed(serve: Any) -> None:
    chunked = f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n"
    framing = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    server = serve(lambda head: framing + chunked)
    client = pool(server)
    assert client.get("/", soon()).body == BODY
    assert client.get("/", soon()).body == BODY
    assert server.connections == 2  # ambiguous framing: never reused


def test_a_folded_header_line_is_joined_to_the_one_before(serve: Any) -> None:
    server = serve(lambda head: ok(BODY, "X-Note: one\r\n two"))
    assert pool(server).get("/", soon()).headers["x-note"] == "one two"


def test_a_tls_handshake_that_never_answers_ends_at_the_deadline(serve: Any) -> None:
    stop = threading.Event()
    server = serve(lambda head: None)
    server._serve = lambda sock: stop.wait(10)  # type: ignore[method-assign,assignment,return-value]
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            pool(server, "https").get("/", soon(0.3))
        assert time.monotonic() - started < 5  # bounded by the deadline, not the socket default
    finally:
        stop.set()


def test_a_malformed_answer_reaches_the_caller_as_a_connection_error(serve: Any) -> None:
    server = serve(lambda head: b"SPDY/3 200 OK\r\n\r\n")
    client = mt.MetricsClient(
        "cog_x", base_url=f"http://127.0.0.1:{server.port}", cache=False, max_retries=1, backoff=0
    )
    with pytest.raises(mt.APIConnectionError, match="ProtocolError"):
        client.session_metrics(*WEEK)
    assert len(server.requests) == 2  # retried like any broken connection


def test_the_deadline_ends_a_stalled_answer_as_a_timeout(serve: Any) -> None:
    stop = threading.Event()
    server = serve(lambda head: None)

    def stall(sock: socket.socket) -> None:
        try:
            sock.recv(65536)
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
            stop.wait(10)
        finally:
            sock.close()

    server._serve = stall  # type: ignore[method-assign]
    try:
        with pytest.raises(TimeoutError):
            pool(server).get("/", soon(0.3))
    finally:
        stop.set()


@pytest.fixture(scope="module")
def authority() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def tls_server(serve: Any, authority: Any) -> Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return serve(lambda head: ok(), tls=context)


def test_tls_is_verified_against_the_given_bundle(
    serve: Any, authority: Any, tmp_path: Any
) -> None:
    server = tls_server(serve, authority)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    client = pool(server, "https", ca_bundle=str(bundle))
    assert client.get("/", soon()).body == BODY
    assert client.get("/", soon()).body == BODY and server.connections == 1


def test_tls_refuses_a_certificate_it_cannot_verify(serve: Any, authority: Any) -> None:
    server = tls_server(serve, authority)
    with pytest.raises(ssl.SSLCertVerificationError):
        pool(server, "https").get("/", soon())  # certifi's bundle does not know this CA
    assert server.requests == []  # nothing was sent, the token least of all


def test_the_transport_sends_through_the_lean_pool_with_its_token(serve: Any) -> None:
    server = serve(lambda head: ok(json.dumps({"searches_created_count": 2}).encode()))
    client = mt.MetricsClient("cog_token", base_url=f"http://127.0.0.1:{server.port}", cache=False)
    client.search_metrics(*WEEK)
    client.search_metrics("2026-11-23", "2026-11-30")
    assert server.connections == 1
    assert all(b"Authorization: Bearer cog_token" in head for head in server.requests)
