"""The one object that does HTTP: session, auth, base URL, retries, rate limits, cache, errors.

Every endpoint goes through :meth:`MetricsClient.request`, with an :class:`Endpoint` that names
its path, its payload model and the permission it needs. Adding a sibling endpoint of the API
(``/v3/enterprise/metrics/prs``, ``/usage``, ...) is one model, one ``Endpoint`` and a method of
a few lines.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import json
import logging
import math
import os
import random
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

import pandas as pd
import pydantic
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests_cache import CachedSession
from requests_cache.policy.expiration import DO_NOT_CACHE

from .cache import (
    AnswerMemo,
    CachePolicy,
    account_fingerprint,
    cache_key,
    open_cached_session,
    stored_body,
)
from .errors import (
    APIConnectionError,
    APITimeoutError,
    InsecureTransportError,
    InvalidParameterError,
    MetricsError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TokenFormatWarning,
    status_error,
)
from .models import (
    APIModel,
    Organization,
    Page,
    Playbook,
    ServiceUser,
    SessionMetrics,
    User,
    combine_metrics,
)
from .params import (
    TimeLike,
    check_base_url,
    check_flag,
    check_positive_int,
    session_metrics_params,
    to_timestamp,
)

if TYPE_CHECKING:
    from .demo import DemoAPI
    from .directory import Directory

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "SESSION_METRICS",
    "Answer",
    "Endpoint",
    "MetricsClient",
    "TokenFormatWarning",
]

logger = logging.getLogger("metrics_toolkit")

#: Where the Devin API lives.
DEFAULT_BASE_URL = "https://api.devin.ai"
#: Environment variables read when the argument is not given.
ENV_API_KEY = "DEVIN_API_KEY"
ENV_BASE_URL = "DEVIN_API_BASE_URL"
#: Seconds to wait for a connection and for each read.
DEFAULT_TIMEOUT = 30.0
#: Further attempts after the first, for connection errors, timeouts, 429, 5xx and broken bodies.
DEFAULT_MAX_RETRIES = 4
#: First backoff in seconds; doubled at each retry, with jitter, up to ``MAX_BACKOFF``.
DEFAULT_BACKOFF = 0.5
MAX_BACKOFF = 30.0
#: The longest ``Retry-After`` honoured, in seconds.
MAX_RETRY_AFTER = 120.0
#: Connections kept open per host (at least the largest worker count in use).
DEFAULT_POOL_SIZE = 32
#: Service-user tokens start with this.
TOKEN_PREFIX = "cog_"
#: Retried statuses besides 5xx.
RETRY_STATUSES = frozenset({429})
#: Replaces the token wherever an error would quote a body that contains it.
TOKEN_MASK = "***"


ModelT = TypeVar("ModelT", bound=APIModel)
ItemT = TypeVar("ItemT", bound=APIModel)


@dataclass(frozen=True)
class Endpoint(Generic[ModelT]):
    """One GET endpoint of the API.

    Parameters
    ----------
    path : str
        The path below the base URL, starting with ``/``.
    model : type
        The pydantic model of its 200 body.
    permission : str
        The permission a 403 names.
    windowed : bool, default False
        The answer covers ``[time_after, time_before)`` (int Unix seconds in the query), so
        how long it is cached follows :class:`~metrics_toolkit.cache.CachePolicy`; otherwise
        (lists) it is kept for the client's ``directory_ttl``.
    combine : callable, optional
        Combines the answers of adjacent windows into one exactly; with it, a window longer than
        the client's ``max_window`` is split into several calls.
    """

    path: str
    model: type[ModelT]
    permission: str
    windowed: bool = False
    combine: Callable[[Sequence[ModelT]], ModelT] | None = None


SESSION_METRICS = Endpoint(
    "/v3/enterprise/metrics/sessions",
    SessionMetrics,
    "ViewAccountMetrics",
    windowed=True,
    combine=combine_metrics,
)
ORGANIZATIONS = Endpoint("/v3/enterprise/organizations", Page[Organization], "ViewOrganizations")
USERS = Endpoint("/v3/enterprise/members/users", Page[User], "ViewAccountMembership")
SERVICE_USERS = Endpoint(
    "/v3/enterprise/members/service-users", Page[ServiceUser], "ViewAccountMembership"
)
PLAYBOOKS = Endpoint("/v3/enterprise/playbooks", Page[Playbook], "ViewPlaybooks")
#: Entries asked for per page of a list (the API's maximum).
PAGE_SIZE = 200
#: How long the directory lists are reused before they are asked again.
DEFAULT_DIRECTORY_TTL = dt.timedelta(days=1)


@dataclass(frozen=True)
class Answer(Generic[ModelT]):
    """A parsed 200 answer and how it was obtained."""

    data: ModelT
    """The payload."""
    from_cache: bool
    """Whether it came from the cache (no request sent)."""
    attempts: int
    """Requests sent for it (0 when from the cache)."""


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
        while True:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._paused_until, self._next_slot)
                if start <= now:
                    self._next_slot = now + self._interval
                    return
            time.sleep(start - now)


class _GatedAdapter(BaseAdapter):
    """Passes requests to ``inner`` once the client's :class:`RateGate` allows (cache hits
    never reach a transport adapter, so they are never held)."""

    def __init__(self, inner: BaseAdapter, gate: RateGate) -> None:
        super().__init__()
        self.inner = inner
        self.gate = gate

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self.gate.wait()
        return self.inner.send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )

    def close(self) -> None:
        self.inner.close()


class MetricsClient:
    """Client for the Devin v3 enterprise metrics API.

    Parameters
    ----------
    api_key : str, optional
        A service-user token (``cog_...``). Default: the ``DEVIN_API_KEY`` environment variable.
    base_url : str, optional
        Default: ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``.
    timeout : float, default 30
        Seconds to wait for a connection and for each read, on every request.
    max_retries : int, default 4
        Further attempts after a connection error, timeout, 429, 5xx or a broken body.
    backoff : float, default 0.5
        First wait in seconds between attempts; doubled each time (with jitter), at most 30.
    max_requests_per_second : float, optional
        Cap on requests started per second over all threads. None: no cap.
    cache : bool, default True
        Keep answers in a persistent cache (see :mod:`metrics_toolkit.cache`).
    cache_dir : str or pathlib.Path, optional
        Where the cache lives. Default: the user's cache directory.
    cache_policy : CachePolicy, optional
        How long windows stay provisional and how long provisional answers are kept.
    now : datetime or callable, optional
        The current time for cache finality and partial buckets. Default: the wall clock.
    allow_insecure_http : bool, default False
        Allow sending the token over plain ``http://`` to a host that is not loopback.
    directory_ttl : datetime.timedelta, default 1 day
        How long the directory lists (organizations, users, ...) are reused.
    max_window : datetime.timedelta, optional
        The longest window asked in one call; :meth:`session_metrics` splits a longer one into
        consecutive calls and combines them exactly (counts summed, the average re-weighted).
        None: no limit (the API publishes none).

    Raises
    ------
    InvalidParameterError
        For a malformed setting, before any request.
    InsecureTransportError
        When the token would travel over plain http to another machine.

    Examples
    --------
    >>> client = MetricsClient.demo()
    >>> client.session_metrics("2026-11-02", "2026-11-09").sessions_created_count  # doctest: +SKIP
    1034
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        max_requests_per_second: float | None = None,
        cache: bool = True,
        cache_dir: str | Path | None = None,
        cache_policy: CachePolicy | None = None,
        now: dt.datetime | pd.Timestamp | Callable[[], dt.datetime] | None = None,
        allow_insecure_http: bool = False,
        directory_ttl: dt.timedelta = DEFAULT_DIRECTORY_TTL,
        max_window: dt.timedelta | None = None,
        _adapter: BaseAdapter | None = None,
        _cache_in_memory: bool = False,
        _account_salt: str = "",
        _demo_api: DemoAPI | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY) or None
        self._account_salt = _account_salt
        self._demo_api = _demo_api
        self.base_url = check_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        self.timeout = _check_positive_number(timeout, "timeout")
        self.max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
        self.backoff = _check_positive_number(backoff, "backoff", allow_zero=True)
        if max_requests_per_second is not None:
            _check_positive_number(max_requests_per_second, "max_requests_per_second")
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise InvalidParameterError(
                "cache_policy", f"got {type(cache_policy).__name__}; expected a CachePolicy or None"
            )
        self.cache_policy = cache_policy or CachePolicy()
        self._now = _check_now(now)
        check_flag(allow_insecure_http, "allow_insecure_http")
        if self._api_key is not None:
            _check_token(self._api_key)
            if not allow_insecure_http:
                _refuse_insecure(self.base_url)
        self.cache_enabled = check_flag(cache, "cache")
        self._cache_in_memory = _cache_in_memory
        if cache_dir is not None and not isinstance(cache_dir, str | os.PathLike):
            raise InvalidParameterError(
                "cache_dir", f"got {type(cache_dir).__name__}; expected a directory path or None"
            )
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if not isinstance(directory_ttl, dt.timedelta) or directory_ttl.total_seconds() < 0:
            raise InvalidParameterError(
                "directory_ttl", f"got {directory_ttl!r}; expected a timedelta >= 0"
            )
        self.directory_ttl = directory_ttl
        if max_window is not None and (
            not isinstance(max_window, dt.timedelta) or max_window.total_seconds() < 1
        ):
            raise InvalidParameterError(
                "max_window", f"got {max_window!r}; expected a timedelta of at least 1 second"
            )
        self.max_window = max_window
        self._directory: tuple[float, Directory] | None = None
        self._directory_lock = threading.Lock()
        self._gate = RateGate(max_requests_per_second)
        self._session = self._build_session(_adapter, in_memory=_cache_in_memory)
        self._store = self._session if isinstance(self._session, CachedSession) else None
        self._memo = AnswerMemo()

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def demo(
        cls,
        *,
        api: DemoAPI | None = None,
        now: TimeLike | None = None,
        seed: int | None = None,
        **settings: Any,
    ) -> MetricsClient:
        """A client over the synthetic demo enterprise, in-process: no key, no network.

        Parameters
        ----------
        api : DemoAPI, optional
            The simulator to answer from; default a new one over ``generate_enterprise(seed)``.
        now : datetime, date, str, pandas.Timestamp or int, optional
            The demo's "now", where its year of sessions ends (naive values are UTC; default:
            the last whole hour). Fix it to make the numbers the same on any day.
        seed : int, optional
            Seed of the synthetic enterprise.
        **settings
            Other :class:`MetricsClient` settings. The cache is kept in memory unless
            ``cache_dir`` is given.
        """
        from .demo import DEMO_API_KEY, DEMO_BASE_URL, DemoAdapter, DemoAPI, generate_enterprise

        if api is None:
            end = None if now is None else to_timestamp(now, "now").to_pydatetime()
            options: dict[str, Any] = {"end": end}
            if seed is not None:
                options["seed"] = seed
            api = DemoAPI(generate_enterprise(**options))
        demo_api = api
        settings.setdefault("now", lambda: demo_api.now)
        # every demo enterprise is another "account": its settled weeks differ by seed and end
        enterprise = demo_api.enterprise
        settings.setdefault("_account_salt", f"demo:{enterprise.seed}:{enterprise.end}")
        settings["_demo_api"] = demo_api
        in_memory = settings.get("cache_dir") is None
        return cls(
            DEMO_API_KEY,
            base_url=DEMO_BASE_URL,
            _adapter=DemoAdapter(demo_api),
            _cache_in_memory=in_memory,
            **settings,
        )

    def _build_session(self, adapter: BaseAdapter | None, *, in_memory: bool) -> requests.Session:
        if self.cache_enabled:
            session: requests.Session = open_cached_session(
                self.cache_dir, fingerprint=self.account_fingerprint, in_memory=in_memory
            )
        else:
            session = requests.Session()
        transport = HTTPAdapter(
            pool_connections=4, pool_maxsize=DEFAULT_POOL_SIZE, max_retries=0, pool_block=False
        )
        session.mount("https://", _GatedAdapter(transport, self._gate))
        session.mount("http://", _GatedAdapter(transport, self._gate))
        if adapter is not None:
            session.mount(self.base_url, _GatedAdapter(adapter, self._gate))
        session.headers["User-Agent"] = "metrics-toolkit"
        session.headers["Accept"] = "application/json"
        if self._api_key is not None:
            session.headers["Authorization"] = f"Bearer {self._api_key}"
        # The client talks to one host: read its proxy and CA bundle from the environment once,
        # rather than on every request (with trust_env, requests re-reads them, and ~/.netrc,
        # for each call: a third of the client's CPU time per call).
        session.trust_env = False
        session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle:
            session.verify = ca_bundle
        return session

    # -- public -----------------------------------------------------------------------------

    @property
    def account_fingerprint(self) -> str:
        """A one-way hash of the token that tells accounts apart (never the token)."""
        return account_fingerprint(self._api_key, self._account_salt)

    @property
    def has_api_key(self) -> bool:
        """Whether a token is set."""
        return self._api_key is not None

    @property
    def is_demo(self) -> bool:
        """Whether this client answers from the synthetic demo enterprise (in-process)."""
        return self._demo_api is not None

    def now(self) -> pd.Timestamp:
        """The current time as this client sees it (tz-aware, UTC)."""
        if self._now is None:
            return pd.Timestamp.now(tz="UTC")
        now = self._now()
        if isinstance(now, pd.Timestamp) and now.tzinfo is not None:
            return now.tz_convert("UTC")
        return to_timestamp(now, "now", "UTC")

    def session_metrics(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        user_ids: list[str] | None = None,
        service_user_ids: list[str] | None = None,
        org_ids: list[str] | None = None,
        playbook_id: str | None = None,
        refresh: bool = False,
    ) -> SessionMetrics:
        """Session totals over the half-open window ``[time_after, time_before)``.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        user_ids, service_user_ids, org_ids : list of str, optional
            Keep sessions of any of these ids; filters combine with AND.
        playbook_id : str, optional
            Keep sessions created with this playbook.
        refresh : bool, default False
            Ask the server even when the cache holds an answer.

        Returns
        -------
        SessionMetrics

        Raises
        ------
        InvalidParameterError
            Before any request, for a malformed parameter.
        MetricsError
            A subclass per failure; see :mod:`metrics_toolkit.errors`.
        """
        params = session_metrics_params(
            time_after,
            time_before,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )
        return self.request(SESSION_METRICS, params, refresh=refresh).data

    def session_metrics_frame(
        self, start: TimeLike, end: TimeLike, freq: Any = "week", **options: Any
    ) -> pd.DataFrame:
        """Session metrics per bucket (and group) as a wide DataFrame: one call per bucket.

        A shortcut for :func:`metrics_toolkit.fetch_series` with this client; see it for
        ``tz``, ``by``, ``ids``, the filters, ``workers``, ``progress`` and ``on_error``.

        Examples
        --------
        >>> client = MetricsClient.demo()
        >>> frame = client.session_metrics_frame(  # doctest: +SKIP
        ...     "2026-09-01", "2026-11-01", freq="week", tz="Europe/Berlin", by="org"
        ... )
        """
        from .fetch import fetch_series

        return fetch_series(self, start, end, freq, **options)

    # -- the directory ------------------------------------------------------------------------

    def organizations(self, *, refresh: bool = False) -> list[Organization]:
        """Every organization of the enterprise (all pages)."""
        return self.list_all(ORGANIZATIONS, {}, refresh=refresh)

    def users(self, *, email: str | None = None, refresh: bool = False) -> list[User]:
        """Every user of the enterprise (all pages), or the one with this exact ``email``."""
        params = {} if email is None else {"email": _check_text(email, "email")}
        return self.list_all(USERS, params, refresh=refresh)

    def service_users(
        self, *, include_inactive: bool = False, refresh: bool = False
    ) -> list[ServiceUser]:
        """The enterprise's service users: active ones, or all with ``include_inactive``."""
        if not isinstance(include_inactive, bool):
            raise InvalidParameterError(
                "include_inactive", f"got {include_inactive!r}; expected True or False"
            )
        params = {"include_inactive": "true"} if include_inactive else {}
        return self.list_all(SERVICE_USERS, params, refresh=refresh)

    def playbooks(self, *, refresh: bool = False) -> list[Playbook]:
        """Every enterprise playbook (all pages)."""
        return self.list_all(PLAYBOOKS, {}, refresh=refresh)

    def directory(self, *, refresh: bool = False) -> Directory:
        """Organizations, users, service users (inactive ones too) and playbooks, with lookups.

        Kept for ``directory_ttl`` (in memory, and in the HTTP cache when it is on);
        ``refresh=True`` asks the server again.
        """
        from .directory import Directory

        with self._directory_lock:
            if self._directory is not None and not refresh:
                loaded_at, directory = self._directory
                if time.monotonic() - loaded_at < self.directory_ttl.total_seconds():
                    return directory
            directory = Directory(
                organizations=self.organizations(refresh=refresh),
                users=self.users(refresh=refresh),
                service_users=self.service_users(include_inactive=True, refresh=refresh),
                playbooks=self.playbooks(refresh=refresh),
            )
            self._directory = (time.monotonic(), directory)
            return directory

    def list_all(
        self,
        endpoint: Endpoint[Page[ItemT]],
        params: Mapping[str, Any],
        *,
        page_size: int = PAGE_SIZE,
        refresh: bool = False,
    ) -> list[ItemT]:
        """Follow a list's cursor pagination to the end (``first``/``after``/``end_cursor``).

        Parameters
        ----------
        endpoint : Endpoint
            A list endpoint (its model is a :class:`~metrics_toolkit.models.Page`).
        params : mapping
            Its filters, e.g. ``{"email": ...}``.
        page_size : int, default 200
            Entries asked for per request (``first``): 1 to 200, the API's bounds.
        refresh : bool, default False
            Ask the server even when the cache holds the pages.

        Returns
        -------
        list
            Every entry of every page, in the server's order.
        """
        page_size = check_positive_int(page_size, "page_size")
        if page_size > PAGE_SIZE:
            raise InvalidParameterError(
                "page_size", f"got {page_size}; the API takes 1 to {PAGE_SIZE} per page"
            )
        items: list[ItemT] = []
        after: str | None = None
        while True:
            query = {**params, "first": page_size}
            if after is not None:
                query["after"] = after
            page = self.request(endpoint, query, refresh=refresh).data
            items.extend(page.items)
            if not page.has_next_page or not page.end_cursor:
                return items
            after = page.end_cursor

    def request(
        self,
        endpoint: Endpoint[ModelT],
        params: Mapping[str, Any],
        *,
        refresh: bool = False,
    ) -> Answer[ModelT]:
        """GET one endpoint with retries, the rate gate and the cache; parse its 200 body.

        Parameters
        ----------
        endpoint : Endpoint
            What to call and how to parse it.
        params : mapping
            Query parameters; lists are sent as repeated keys. A ``time_before`` (Unix seconds)
            decides how long the answer is cached (see :class:`~metrics_toolkit.cache.CachePolicy`).
        refresh : bool, default False
            Bypass the cache for reading (the fresh answer is stored).

        Returns
        -------
        Answer
        """
        windows = self._windows(endpoint, params)
        if len(windows) > 1 and endpoint.combine is not None:
            parts = [self.request(endpoint, window, refresh=refresh) for window in windows]
            return Answer(
                endpoint.combine([part.data for part in parts]),
                all(part.from_cache for part in parts),
                sum(part.attempts for part in parts),
            )
        url = self.base_url + endpoint.path
        shown_url = _with_query(url, params)
        cache_options = self._cache_options(endpoint, params)
        cacheable = bool(cache_options) and cache_options["expire_after"] != DO_NOT_CACHE
        if cacheable and not refresh:
            hit = self._from_cache(endpoint, shown_url)
            if hit is not None:
                return Answer(hit, True, 0)
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(endpoint, url, shown_url, params, cache_options)
            if not isinstance(outcome, MetricsError):
                data, from_cache = outcome
                if cacheable:
                    self._memo.put(shown_url, data, cache_options["expire_after"])
                return Answer(data, from_cache, 0 if from_cache else attempts)
            if attempts > self.max_retries or not _is_retryable(outcome):
                raise outcome
            delay = self._backoff_delay(attempts)
            if isinstance(outcome, RateLimitError):
                wait = delay if outcome.retry_after is None else outcome.retry_after
                self._gate.pause(min(wait, MAX_RETRY_AFTER))
                delay = 0.0
            logger.debug(
                "retrying %s after %s (attempt %d)", shown_url, type(outcome).__name__, attempts
            )
            time.sleep(delay)

    def cached(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any]
    ) -> Answer[ModelT] | None:
        """The answer :meth:`request` would take from the cache, or None; never a request.

        A series asks this first, so that answers already kept cost no thread and no HTTP
        machinery.
        """
        options = self._cache_options(endpoint, params)
        if not options or options["expire_after"] == DO_NOT_CACHE:
            return None
        if len(self._windows(endpoint, params)) > 1:
            return None
        data = self._from_cache(endpoint, _with_query(self.base_url + endpoint.path, params))
        return None if data is None else Answer(data, True, 0)

    def close(self) -> None:
        """Close the HTTP session and its connections."""
        self._session.close()

    def __enter__(self) -> MetricsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self._api_key else "not set"
        if not self.cache_enabled:
            cache = "off"
        elif self._cache_in_memory:
            cache = "memory"
        else:
            cache = str(self.cache_dir or "default")
        return f"MetricsClient(base_url={self.base_url!r}, api_key=<{key}>, cache={cache!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("MetricsClient cannot be pickled (it holds a token and open connections)")

    # -- internals ----------------------------------------------------------------------------

    def _from_cache(self, endpoint: Endpoint[ModelT], url: str) -> ModelT | None:
        """A fresh cached answer without any HTTP machinery: memory first, then SQLite."""
        data: ModelT | None = self._memo.get(url)
        if data is not None or self._store is None:
            return data
        stored = stored_body(self._store, cache_key(self.account_fingerprint, url))
        if stored is None:
            return None
        body, expire_after = stored
        try:
            data = endpoint.model.model_validate_json(body)
        except pydantic.ValidationError:
            return None  # asked again through the session, which reports what is wrong
        self._memo.put(url, data, expire_after)
        return data

    def _cache_options(self, endpoint: Endpoint[Any], params: Mapping[str, Any]) -> dict[str, Any]:
        """How requests-cache should treat one request; empty when the cache is off.

        The client looks answers up itself (:meth:`_from_cache`) before any request, so
        requests-cache only stores (``force_refresh``): it never reads a second time.
        """
        if not self.cache_enabled:
            return {}
        options: dict[str, Any] = {"force_refresh": True}
        if endpoint.windowed:
            time_before = params.get("time_before")
            now = int(time.time()) if self._now is None else int(self.now().timestamp())
            expire_after = (
                self.cache_policy.expire_after(time_before, now)
                if isinstance(time_before, int)
                else DO_NOT_CACHE  # a raw query without its window: never kept
            )
            if expire_after == DO_NOT_CACHE:
                # requests-cache skips reading for DO_NOT_CACHE but would still store the
                # answer under the session's default expiry: no-store keeps it out entirely
                options["headers"] = {"Cache-Control": "no-store"}
        else:
            expire_after = max(1, int(self.directory_ttl.total_seconds()))
        options["expire_after"] = expire_after
        return options

    def _windows(self, endpoint: Endpoint[Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The query split into windows of at most ``max_window`` (one when no split applies)."""
        after, before = params.get("time_after"), params.get("time_before")
        if (
            not endpoint.windowed
            or endpoint.combine is None
            or self.max_window is None
            or not (isinstance(after, int) and isinstance(before, int))
        ):
            return [dict(params)]
        spans = _split_window(after, before, self.max_window)
        return [{**params, "time_after": after, "time_before": before} for after, before in spans]

    def _attempt(
        self,
        endpoint: Endpoint[ModelT],
        url: str,
        shown_url: str,
        params: Mapping[str, Any],
        cache_options: Mapping[str, Any],
    ) -> tuple[ModelT, bool] | MetricsError:
        """One try: the parsed payload and whether it came from the cache, or the error."""
        started = time.perf_counter()
        try:
            response = self._session.get(url, params=params, timeout=self.timeout, **cache_options)
        except requests.Timeout:
            return APITimeoutError(f"no answer within {self.timeout:g} s", url=shown_url)
        except requests.RequestException as exc:
            return APIConnectionError(f"connection failed: {type(exc).__name__}", url=shown_url)
        from_cache = bool(getattr(response, "from_cache", False))
        logger.debug(
            "GET %s -> %d in %.1f ms%s",
            shown_url,
            response.status_code,
            1000 * (time.perf_counter() - started),
            " (from cache)" if from_cache else "",
        )
        if response.status_code != 200:
            return _status_error(endpoint, response, shown_url, secret=self._api_key)
        try:
            return _parse(endpoint, response, shown_url, secret=self._api_key), from_cache
        except ResponseValidationError as error:
            return error

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


def _masked(text: str, secret: str | None) -> str:
    """``text`` with the token replaced by ``TOKEN_MASK`` (a server may quote it back)."""
    return text.replace(secret, TOKEN_MASK) if secret else text


def _with_query(url: str, params: Mapping[str, Any]) -> str:
    """The URL as sent (lists as repeated keys), for cache keys and messages."""
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _parse(
    endpoint: Endpoint[ModelT], response: requests.Response, url: str, *, secret: str | None
) -> ModelT:
    try:
        return endpoint.model.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        problems = exc.errors(include_url=False)
        text = _masked(response.content.decode("utf-8", errors="replace"), secret)
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
            f"the body does not match {endpoint.model.__name__}: {readable}",
            status_code=200,
            url=url,
            body_text=text,
        ) from None


def _status_error(
    endpoint: Endpoint[Any], response: requests.Response, url: str, *, secret: str | None
) -> MetricsError:
    text = _masked(response.text, secret)
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text[:500]
    return status_error(
        response.status_code,
        url=url,
        body=body,
        retry_after=_retry_after(response),
        permission=endpoint.permission,
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _is_retryable(error: MetricsError) -> bool:
    if isinstance(error, ResponseValidationError):
        return error.retryable
    return isinstance(error, APIConnectionError | RateLimitError | ServerError)


# -- setting checks -----------------------------------------------------------------------------


def _check_positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(
            name, f"got {value!r}; expected a finite number of seconds {bound}"
        )
    return float(value)


def _split_window(
    after: int, before: int, max_window: dt.timedelta | None
) -> list[tuple[int, int]]:
    """Consecutive half-open windows of at most ``max_window`` covering ``[after, before)``."""
    if max_window is None:
        return [(after, before)]
    step = int(max_window.total_seconds())
    return [(start, min(start + step, before)) for start in range(after, before, step)]


def _check_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(name, f"got {value!r}; expected a non-empty string")
    return value


def _check_now(now: Any) -> Callable[[], Any] | None:
    if now is None:
        return None
    if callable(now):
        return now  # type: ignore[no-any-return]
    stamp = to_timestamp(now, "now")
    return lambda: stamp


def _check_token(api_key: Any) -> None:
    # The messages never quote the token.
    if not isinstance(api_key, str) or not api_key.strip():
        raise InvalidParameterError("api_key", "expected a non-empty token string (cog_...)")
    if any(char.isspace() or not char.isprintable() for char in api_key):
        raise InvalidParameterError(
            "api_key",
            "the token contains whitespace or a control character (a newline read from a "
            "file?); pass the token alone",
        )
    if not api_key.startswith(TOKEN_PREFIX):
        warnings.warn(
            f"the API key does not start with {TOKEN_PREFIX!r}, as Devin service-user tokens "
            "do; it is sent anyway",
            TokenFormatWarning,
            stacklevel=3,  # the line that created the client
        )


def _refuse_insecure(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        return
    host = parts.hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise InsecureTransportError(
        f"refusing to send the API token over plain http to {host!r}: use https, or pass "
        "allow_insecure_http=True if you really mean it"
    )
