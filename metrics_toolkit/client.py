"""The client facade: settings, the demo, and a typed method per endpoint.

Every method is a few lines over one generic path (:mod:`metrics_toolkit._request_path`):
the parameters are checked, the endpoint's declaration (:mod:`metrics_toolkit._endpoints`)
says what to call, and the answer comes from the store or the transport. Series of calls
(one per bucket and group) are :func:`metrics_toolkit.fetch_series`.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pandas as pd
from requests.adapters import BaseAdapter

from ._constants import (
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_DIRECTORY_TTL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    ENV_API_KEY,
    ENV_BASE_URL,
    PAGE_SIZE,
)
from ._endpoints import (
    ORGANIZATIONS,
    PLAYBOOKS,
    SEARCH_METRICS,
    SERVICE_USERS,
    SESSION_METRICS,
    USERS,
    Answer,
    Endpoint,
)
from ._request_path import RequestPath
from ._transport import Transport
from .buckets import FreqLike
from .cache import AnswerStore, CachePolicy, account_fingerprint, default_cache_dir
from .directory import Directory
from .errors import InvalidParameterError
from .fetch import fetch_series
from .models import (
    APIModel,
    Organization,
    Page,
    Playbook,
    SearchMetrics,
    ServiceUser,
    SessionMetrics,
    User,
)
from .params import (
    TimeLike,
    check_base_url,
    check_directory,
    check_duration,
    check_flag,
    check_now,
    check_positive_int,
    check_positive_number,
    check_text,
    check_token,
    refuse_insecure_http,
    session_metrics_params,
    to_timestamp,
    window_params,
)

if TYPE_CHECKING:
    from .demo import DemoAPI

__all__ = ["MetricsClient"]

ModelT = TypeVar("ModelT", bound=APIModel)
ItemT = TypeVar("ItemT", bound=APIModel)


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
        Keep answers in a persistent store (see :mod:`metrics_toolkit.cache`).
    cache_dir : str or pathlib.Path, optional
        Where the store lives. Default: the user's cache directory.
    cache_policy : CachePolicy, optional
        How long windows stay provisional and how long provisional answers are kept.
    now : datetime or callable, optional
        The current time for cache finality and partial buckets. Default: the wall clock.
    allow_insecure_http : bool, default False
        Allow sending the token over plain ``http://`` to a host that is not loopback.
    directory_ttl : datetime.timedelta, default 1 day
        How long the directory lists (organizations, users, ...) are reused.
    max_window : datetime.timedelta, optional
        The longest window asked in one call; a longer one is split into consecutive calls and
        combined exactly (counts summed, averages re-weighted). None: no limit (the API
        publishes none). Endpoints whose answers are distinct counts are never split.
    transport : requests.adapters.BaseAdapter, optional
        Send every request through this adapter instead of the network (an in-process server,
        a test double).

    Raises
    ------
    InvalidParameterError
        For a malformed setting, before any request.
    InsecureTransportError
        When the token would travel over plain http to another machine.

    Examples
    --------
    >>> client = MetricsClient.demo(now="2026-11-30")
    >>> client.session_metrics("2026-11-02", "2026-11-09").sessions_created_count > 0
    True
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
        transport: BaseAdapter | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY) or None
        self.base_url = check_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        self.timeout = check_positive_number(timeout, "timeout")
        self.max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
        self.backoff = check_positive_number(backoff, "backoff", allow_zero=True)
        if max_requests_per_second is not None:
            check_positive_number(max_requests_per_second, "max_requests_per_second")
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise InvalidParameterError(
                "cache_policy", f"got {type(cache_policy).__name__}; expected a CachePolicy or None"
            )
        self.cache_policy = cache_policy or CachePolicy()
        self._now = check_now(now)
        check_flag(allow_insecure_http, "allow_insecure_http")
        if self._api_key is not None:
            check_token(self._api_key)
            if not allow_insecure_http:
                refuse_insecure_http(self.base_url)
        self.cache_enabled = check_flag(cache, "cache")
        self.cache_dir = check_directory(cache_dir, "cache_dir")
        self.directory_ttl = check_duration(directory_ttl, "directory_ttl")
        if max_window is not None:
            check_duration(max_window, "max_window", minimum=dt.timedelta(seconds=1))
        self.max_window = max_window
        if transport is not None and not isinstance(transport, BaseAdapter):
            raise InvalidParameterError(
                "transport", f"got {type(transport).__name__}; expected a requests BaseAdapter"
            )
        self._is_demo = False
        self._directory: tuple[float, Directory] | None = None
        self._directory_lock = threading.Lock()
        self._path = RequestPath(
            Transport(
                self.base_url,
                api_key=self._api_key,
                timeout=self.timeout,
                max_retries=self.max_retries,
                backoff=self.backoff,
                max_requests_per_second=max_requests_per_second,
                adapter=transport,
            ),
            AnswerStore(self.cache_dir or default_cache_dir()) if self.cache_enabled else None,
            fingerprint=account_fingerprint(self._api_key),
            policy=self.cache_policy,
            now=self.now,
            directory_ttl=self.directory_ttl,
            max_window=max_window,
        )

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
            Other :class:`MetricsClient` settings. Answers are kept in memory unless
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
        in_memory = settings.get("cache_dir") is None and settings.get("cache", True)
        if in_memory:
            settings["cache"] = False  # replaced by a store in memory below
        client = cls(
            DEMO_API_KEY, base_url=DEMO_BASE_URL, transport=DemoAdapter(demo_api), **settings
        )
        client._is_demo = True
        if in_memory:
            client.cache_enabled = True
            client._path.store = AnswerStore(None)
        # every demo enterprise is another "account": its settled weeks differ by seed and end
        enterprise = demo_api.enterprise
        salt = f"demo:{enterprise.seed}:{enterprise.end}"
        client._path.fingerprint = account_fingerprint(DEMO_API_KEY, salt)
        return client

    # -- what the client is ---------------------------------------------------------------

    @property
    def account_fingerprint(self) -> str:
        """A one-way hash of the token that tells accounts apart (never the token)."""
        return self._path.fingerprint

    @property
    def has_api_key(self) -> bool:
        """Whether a token is set."""
        return self._api_key is not None

    @property
    def is_demo(self) -> bool:
        """Whether this client answers from the synthetic demo enterprise (in-process)."""
        return self._is_demo

    def now(self) -> pd.Timestamp:
        """The current time as this client sees it (tz-aware, UTC)."""
        if self._now is None:
            return pd.Timestamp.now(tz="UTC")
        now = self._now()
        if isinstance(now, pd.Timestamp) and now.tzinfo is not None:
            return now.tz_convert("UTC")
        return to_timestamp(now, "now", "UTC")

    # -- the metrics ----------------------------------------------------------------------

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
            Ask the server even when the store holds an answer.

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

    def search_metrics(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        refresh: bool = False,
    ) -> SearchMetrics:
        """Searches (Ask Devin queries) over the half-open window ``[time_after, time_before)``.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        org_ids : list of str, optional
            Keep searches made in any of these organizations.
        refresh : bool, default False
            Ask the server even when the store holds an answer.

        Returns
        -------
        SearchMetrics
        """
        params = window_params(
            time_after, time_before, allowed=SEARCH_METRICS.filters, org_ids=org_ids
        )
        return self.request(SEARCH_METRICS, params, refresh=refresh).data

    def session_metrics_frame(
        self,
        start: TimeLike,
        end: TimeLike,
        freq: FreqLike = "week",
        *,
        tz: str = "UTC",
        by: Literal["org", "user", "service_user", "playbook"] | None = None,
        ids: Sequence[str] | None = None,
        user_ids: Sequence[str] | None = None,
        service_user_ids: Sequence[str] | None = None,
        org_ids: Sequence[str] | None = None,
        playbook_id: str | None = None,
        workers: int = DEFAULT_WORKERS,
        progress: bool | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_error: Literal["raise", "mark"] = "raise",
        refresh: bool = False,
        directory: Directory | None = None,
    ) -> pd.DataFrame:
        """Session metrics per bucket (and group) as a wide DataFrame: one call per bucket.

        :func:`metrics_toolkit.fetch_series` with this client; see it for every parameter.

        Examples
        --------
        >>> client = MetricsClient.demo(now="2026-11-30")
        >>> frame = client.session_metrics_frame(
        ...     "2026-09-07", "2026-11-02", freq="week", tz="Europe/Berlin", by="org"
        ... )
        >>> frame.index.name, "org_id" in frame.columns
        ('bucket_start', True)
        """
        return fetch_series(
            self,
            start,
            end,
            freq,
            tz=tz,
            by=by,
            ids=ids,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
            workers=workers,
            progress=progress,
            on_progress=on_progress,
            on_error=on_error,
            refresh=refresh,
            directory=directory,
        )

    # -- the directory --------------------------------------------------------------------

    def organizations(self, *, refresh: bool = False) -> list[Organization]:
        """Every organization of the enterprise (all pages)."""
        return self.list_all(ORGANIZATIONS, {}, refresh=refresh)

    def users(self, *, email: str | None = None, refresh: bool = False) -> list[User]:
        """Every user of the enterprise (all pages), or the one with this exact ``email``."""
        params = {} if email is None else {"email": check_text(email, "email")}
        return self.list_all(USERS, params, refresh=refresh)

    def service_users(
        self, *, include_inactive: bool = False, refresh: bool = False
    ) -> list[ServiceUser]:
        """The enterprise's service users: active ones, or all with ``include_inactive``."""
        check_flag(include_inactive, "include_inactive")
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

    # -- the generic path ------------------------------------------------------------------

    def request(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any], *, refresh: bool = False
    ) -> Answer[ModelT]:
        """GET one endpoint: from the answer store when it holds the answer, else the server
        (with retries and the rate gate); a window longer than ``max_window`` is split.

        Parameters
        ----------
        endpoint : Endpoint
            What to call and how to parse and combine it.
        params : mapping
            Query parameters; lists are sent as repeated keys. A ``time_before`` (Unix seconds)
            decides how long the answer is kept (see :class:`~metrics_toolkit.cache.CachePolicy`).
        refresh : bool, default False
            Do not read the store (the fresh answer is stored).

        Returns
        -------
        Answer
        """
        return self._path.request(endpoint, params, refresh=refresh)

    def cached_many(
        self, endpoint: Endpoint[ModelT], queries: Sequence[Mapping[str, Any]]
    ) -> list[Answer[ModelT] | None]:
        """The stored answer of each query, or None: one lookup for all, never a request."""
        return self._path.cached_many(endpoint, queries)

    def batch(self) -> AbstractContextManager[None]:
        """A context in which answers are written to the store together, when it ends."""
        return self._path.batch()

    def close(self) -> None:
        """Write what is waiting to the store; close it and the connections."""
        self._path.close()

    def __enter__(self) -> MetricsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self._api_key else "not set"
        store = self._path.store
        if store is None:
            cache = "off"
        elif store.path is None:
            cache = "memory"
        else:
            cache = str(self.cache_dir or "default")
        return f"MetricsClient(base_url={self.base_url!r}, api_key=<{key}>, cache={cache!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("MetricsClient cannot be pickled (it holds a token and open connections)")
