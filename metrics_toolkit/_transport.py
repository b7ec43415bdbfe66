"""The one object that does HTTP: connections, auth header, retries, rate limits, error mapping.

:class:`Transport` sends one GET and parses its 200 body into the model it is given; it knows
no endpoint's meaning, no cache and no demo. The client asks it for what the answer store does
not hold.

Why not a ``requests.Session``: measured against a loopback server at 0 ms latency,
``Session.get`` costs 0.93 ms of CPU per call (0.65 ms without ``trust_env``): merging settings,
cookies and hooks on every request. A series runs 8 workers on one GIL, so that CPU is what
separates a fetch from the latency floor. Straight to the host, GETs go through the lean
HTTP/1.1 pool of :mod:`._http11` (0.13 ms of CPU per call, parsing and model included, against
0.36 ms through urllib3; why, in its docstring); through a proxy, and to follow a redirect,
through a urllib3 pool manager. The proxy for the host is read from the environment as the
standard library reads it (``HTTPS_PROXY``, ``NO_PROXY``), once per client. A requests transport
adapter may be given instead (``adapter=``: the demo enterprise answers in-process through one,
and so do test fixtures); requests is imported only then.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urljoin, urlsplit

import pydantic
import urllib3

from ._constants import DEFAULT_POOL_SIZE, MAX_BACKOFF, MAX_RETRY_AFTER, TOKEN_MASK
from ._http11 import REDIRECTS, Http11Pool
from ._wire import environment_proxies, pool_manager, read_by, same_origin, with_query
from .errors import (
    APIConnectionError,
    APITimeoutError,
    MetricsError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    status_error,
)
from .models import APIModel

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

__all__ = [
    "RateGate",
    "Reply",
    "Sent",
    "Transport",
]

logger = logging.getLogger("metrics_toolkit")

ModelT = TypeVar("ModelT", bound=APIModel)

#: Sent with every request (the token is added when there is one).
HEADERS = {
    "User-Agent": "metrics-toolkit",
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
}


#: Retries are this module's own (with backoff and the rate gate): urllib3 only follows
#: redirects, as requests would, dropping the token when one leads to another host.
REDIRECTS_ONLY = urllib3.Retry(
    total=None, connect=0, read=0, status=0, other=0, redirect=5, raise_on_redirect=False
)


@dataclass(frozen=True)
class Reply:
    """What the server answered: status, headers (case-insensitive) and the body's bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Sent(Generic[ModelT]):
    """A parsed 200 answer, its body as sent (for the answer store) and the attempts it took."""

    data: ModelT
    body: bytes
    attempts: int


class RateGate:
    """Shared by every thread of a client: a pause after a 429, and an optional request rate cap.

    Parameters
    ----------
    max_requests_per_second : float, optional
        At most this many requests start per second, over all threads. None: no cap.
    """

    def __init__(self, max_requests_per_second: float | None = None) -> None:
        self._interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._next_slot = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (a 429 was answered)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def wait(self) -> None:
        """Block until this thread may send a request."""
        if not self._interval and not self._paused_until:
            return  # no cap and never paused: nothing to wait for, no lock to take
        while True:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._paused_until, self._next_slot)
                if start <= now:
                    self._next_slot = now + self._interval
                    return
            time.sleep(start - now)


class Transport:
    """GETs against one base URL, with retries, backoff, a shared rate gate and error mapping.

    Parameters
    ----------
    base_url : str
        Checked already (no trailing slash).
    api_key : str, optional
        Sent as ``Authorization: Bearer ...``; never logged, masked in error bodies.
    timeout : float
        Seconds an attempt may take in all: the connection, the answer and its whole body (a body
        trickled a byte at a time ends there too, as a timeout).
    max_retries : int
        Further attempts after a connection error, timeout, 429, 5xx or a broken body.
    backoff : float
        First wait in seconds between attempts; doubled each time (with jitter), at most 30.
    max_requests_per_second : float, optional
        Cap on requests started per second over all threads.
    adapter : requests.adapters.BaseAdapter, optional
        Send through this instead of a connection pool (an in-process server, a test fixture).
    pool_size : int, default 32
        Connections kept open (at least the largest worker count).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout: float,
        max_retries: int,
        backoff: float,
        max_requests_per_second: float | None = None,
        adapter: BaseAdapter | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.gate = RateGate(max_requests_per_second)
        self._secret = api_key
        self._headers = dict(HEADERS)
        if api_key is not None:
            self._headers["Authorization"] = f"Bearer {api_key}"
        # One host: its proxy and CA bundle are read from the environment once, not per call.
        self.proxies: dict[str, str] = environment_proxies(base_url)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.verify: bool | str = bundle or True
        self._adapter = adapter
        self._timeouts = urllib3.Timeout(connect=timeout, read=timeout, total=timeout)
        self._pool: urllib3.PoolManager | None = None
        self._lean: Http11Pool | None = None
        self._origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        if adapter is None:
            self._pool = pool_manager(base_url, self.proxies, bundle, pool_size)
            if not self.proxies:  # straight to the host: the lean path
                self._lean = Http11Pool(
                    base_url, headers=self._headers, ca_bundle=bundle, maxsize=pool_size
                )

    def get(
        self, path: str, params: Mapping[str, Any], *, model: type[ModelT], permission: str
    ) -> Sent[ModelT]:
        """GET ``base_url + path`` with ``params``, retrying what may pass; parse the 200 body.

        Parameters
        ----------
        path : str
            Below the base URL, starting with ``/``.
        params : mapping
            The query; lists are sent as repeated keys.
        model : type
            The pydantic model of the 200 body.
        permission : str
            The permission a 403 names.

        Raises
        ------
        MetricsError
            The last attempt's error, once it is not retryable or the retries are spent.
        """
        url = with_query(self.base_url + path, params)
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(url, model, permission)
            if not isinstance(outcome, MetricsError):
                data, body = outcome
                return Sent(data, body, attempts)
            if attempts > self.max_retries or not _is_retryable(outcome):
                raise outcome
            delay = self._backoff_delay(attempts)
            if isinstance(outcome, RateLimitError):
                wait = delay if outcome.retry_after is None else outcome.retry_after
                self.gate.pause(min(wait, MAX_RETRY_AFTER))
                delay = 0.0
            logger.debug("retrying %s after %s (attempt %d)", url, type(outcome).__name__, attempts)
            time.sleep(delay)

    def close(self) -> None:
        """Close the connections."""
        if self._lean is not None:
            self._lean.clear()
        if self._pool is not None:
            self._pool.clear()
        if self._adapter is not None:
            self._adapter.close()

    def _attempt(
        self, url: str, model: type[ModelT], permission: str
    ) -> tuple[ModelT, bytes] | MetricsError:
        """One try: the parsed payload and its body, or the error."""
        self.gate.wait()
        started = time.perf_counter()
        try:
            reply = self._send(url)
        except MetricsError as error:
            return error
        logger.debug(
            "GET %s -> %d in %.1f ms", url, reply.status, 1000 * (time.perf_counter() - started)
        )
        if reply.status != 200:
            return self._status_error(reply, url, permission)
        body = _scrubbed(reply.body, self._secret)
        try:
            return _parse(model, body, url, secret=self._secret), body
        except ResponseValidationError as error:
            return error

    def _send(self, url: str) -> Reply:
        if self._pool is None:
            return self._send_through_adapter(url)
        deadline = time.monotonic() + self.timeout
        try:
            if self._lean is not None:  # the hot path (see _http11)
                raw = self._lean.get(url[len(self._origin) :], deadline)
                location = raw.headers.get("Location") if raw.status in REDIRECTS else None
                if not location:
                    return Reply(raw.status, raw.headers, raw.body)
                response = self._redirected(url, urljoin(url, location))
            else:  # through a proxy
                response = self._pool.urlopen(
                    "GET",
                    url,
                    headers=self._headers,
                    retries=REDIRECTS_ONLY,
                    timeout=self._timeouts,
                    preload_content=False,
                )
            return Reply(response.status, response.headers, read_by(response, deadline))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc  # MaxRetryError wraps the cause
            # a refused connection is a NewConnectionError, which urllib3 2 derives from
            # ConnectTimeoutError: it is not a timeout
            timeouts = (TimeoutError, urllib3.exceptions.TimeoutError)
            if isinstance(reason, timeouts) and not isinstance(
                reason, urllib3.exceptions.NewConnectionError
            ):
                raise APITimeoutError(f"no answer within {self.timeout:g} s", url=url) from None
            raise APIConnectionError(
                f"connection failed: {type(reason).__name__}", url=url
            ) from None

    def _redirected(self, url: str, target: str) -> urllib3.BaseHTTPResponse:
        """Follow a redirect through the pool manager, without the token when it leads to another
        scheme, host or port (as requests does)."""
        assert self._pool is not None
        headers = self._headers
        if not same_origin(target, url):
            headers = {k: v for k, v in headers.items() if k != "Authorization"}
        return self._pool.urlopen(
            "GET",
            target,
            headers=headers,
            retries=REDIRECTS_ONLY,
            timeout=self._timeouts,
            preload_content=False,
        )

    def _send_through_adapter(self, url: str) -> Reply:
        """The demo and test doubles: a requests adapter (requests is imported only then)."""
        import requests

        assert self._adapter is not None
        prepared = requests.Request("GET", url, headers=self._headers).prepare()
        try:
            answer = self._adapter.send(
                prepared, timeout=self.timeout, verify=self.verify, proxies=self.proxies
            )
        except requests.Timeout:
            raise APITimeoutError(f"no answer within {self.timeout:g} s", url=url) from None
        except requests.RequestException as exc:
            raise APIConnectionError(f"connection failed: {type(exc).__name__}", url=url) from None
        return Reply(answer.status_code, answer.headers, answer.content)

    def _status_error(self, reply: Reply, url: str, permission: str) -> MetricsError:
        text = _masked(reply.body.decode("utf-8", errors="replace"), self._secret)
        try:
            body: Any = _masked_json(json.loads(text), self._secret)
        except ValueError:
            body = text[:500]
        return status_error(
            reply.status,
            url=url,
            body=body,
            retry_after=_retry_after(reply.headers.get("Retry-After")),
            permission=permission,
        )

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


def _masked(text: str, secret: str | None) -> str:
    """``text`` with the token replaced by ``TOKEN_MASK`` (a server may quote it back)."""
    return text.replace(secret, TOKEN_MASK) if secret else text


def _masked_json(value: Any, secret: str | None) -> Any:
    """A decoded JSON value with the token masked in every string (a server may quote it back
    with JSON escapes, ``cog\\u005f...``, which only decoding reveals)."""
    if not secret:
        return value
    if isinstance(value, str):
        return _masked(value, secret)
    if isinstance(value, list):
        return [_masked_json(item, secret) for item in value]
    if isinstance(value, dict):
        return {_masked(k, secret): _masked_json(v, secret) for k, v in value.items()}
    return value


def _scrubbed(body: bytes, secret: str | None) -> bytes:
    """A 200 body without the token in it, in any form: it becomes frame cells and cache bytes.

    The plain form is replaced in the bytes; a body with JSON escapes is decoded, masked and
    encoded again (only then: a body without a backslash-u cannot hide the token that way).
    """
    if not secret:
        return body
    token = secret.encode()
    if token in body:
        body = body.replace(token, TOKEN_MASK.encode())
    if b"\\u" in body:
        try:
            decoded = json.loads(body)
        except ValueError:
            return body  # not JSON: parsing reports it
        masked = _masked_json(decoded, secret)
        if masked != decoded:
            body = json.dumps(masked, separators=(",", ":")).encode()
    return body


def _parse(model: type[ModelT], body: bytes, url: str, *, secret: str | None) -> ModelT:
    try:
        return model.model_validate_json(body)
    except pydantic.ValidationError as exc:
        problems = exc.errors(include_url=False)
        text = _masked(body.decode("utf-8", errors="replace"), secret)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise ResponseValidationError(
                "the body is not valid JSON (cut short, or an error page)",
                status_code=200,
                url=url,
                body_text=text,
                retryable=True,
            ) from None
        readable = "; ".join(
            _masked(f"{'.'.join(map(str, p['loc'])) or '(body)'}: {p['msg']}", secret)
            + f" (got {_masked(repr(p.get('input')), secret):.40})"  # masked, then cut
            for p in problems[:5]
        )
        raise ResponseValidationError(
            f"the body does not match {model.__name__}: {readable}",
            status_code=200,
            url=url,
            body_text=text,
        ) from None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # the asctime form, or a "-0000" zone: HTTP dates are in GMT
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _is_retryable(error: MetricsError) -> bool:
    if isinstance(error, ResponseValidationError):
        return error.retryable
    return isinstance(error, APIConnectionError | RateLimitError | ServerError)
