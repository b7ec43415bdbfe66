"""The client's machinery: settings, the demo, pagination and the generic request path.

:class:`BaseClient` knows no endpoint; :class:`~metrics_toolkit.MetricsClient` adds a typed
method per endpoint on top of it (the shape of the Anthropic and OpenAI SDKs' base client).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from ._constants import (
    DEFAULT_BACKOFF,
    DEFAULT_BASE_URL,
    DEFAULT_DIRECTORY_TTL,
    DEFAULT_LIST_FORMAT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    PAGE_SIZE,
)
from ._endpoints import Answer, Endpoint
from ._request_path import RequestPath
from ._transport import Transport
from ._vocabulary import LIST_FORMATS
from .cache import AnswerStore, CachePolicy, account_fingerprint, default_cache_dir
from .directory import Directory
from .errors import InvalidParameterError, ResponseValidationError
from .models import APIModel, MetricsAnswer, Page
from .params import (
    TimeLike,
    check_base_url,
    check_directory,
    check_duration,
    check_flag,
    check_ids,
    check_now,
    check_positive_int,
    check_positive_number,
    check_token,
    refuse_insecure_http,
    to_timestamp,
)

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

    from .demo import DemoAPI

__all__ = ["BaseClient", "demo_key", "demo_now"]

ModelT = TypeVar("ModelT", bound=APIModel)
ItemT = TypeVar("ItemT", bound=APIModel)
ClientT = TypeVar("ClientT", bound="BaseClient")

#: Most pages read from one list (a million entries at 200 a page): a list that goes on beyond
#: is a server that never ends its pagination.
MAX_PAGES = 5_000


def demo_now(value: TimeLike, name: str = "now") -> dt.datetime:
    """The demo's "now", checked: tz-aware (naive values are UTC), after its first day.

    Parameters
    ----------
    value : datetime, date, str, pandas.Timestamp or int
        The time (ISO 8601 for a string, Unix seconds for an int).
    name : str, default "now"
        The parameter's name in the message (``"--now"`` for the command line).

    Raises
    ------
    InvalidParameterError
        Naming ``name``, when ``value`` is unreadable or not after
        :data:`metrics_toolkit.demo.FIRST_DAY`, 00:00 UTC, where the demo's history begins.
    """
    from .demo import FIRST_DAY

    stamp = to_timestamp(value, name)
    first = pd.Timestamp(FIRST_DAY, tz="UTC")
    if stamp <= first:
        raise InvalidParameterError(
            name,
            f"{stamp:%Y-%m-%d %H:%M} UTC is not after the demo's first day, {FIRST_DAY:%A} "
            f"{FIRST_DAY.day} {FIRST_DAY:%B %Y} (00:00 UTC), where its history begins; "
            "give a later time, or leave it out for the last whole hour",
        )
    return stamp.to_pydatetime()


class BaseClient:
    """Settings, the demo constructor and the generic path; see
    :class:`~metrics_toolkit.MetricsClient` for the parameters."""

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
        org_id: str | None = None,
        list_format: str = DEFAULT_LIST_FORMAT,
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
        if transport is not None and not callable(getattr(transport, "send", None)):
            raise InvalidParameterError(
                "transport", f"got {type(transport).__name__}; expected a requests BaseAdapter"
            )
        self.org_id, self.list_format = _scope_settings(org_id, list_format)
        self._demo_api: DemoAPI | None = None
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
            now_seconds=self._now_seconds,
            directory_ttl=self.directory_ttl,
            max_window=max_window,
            list_format=self.list_format,
            org_id=self.org_id,
        )

    @classmethod
    def demo(
        cls: type[ClientT],
        *,
        api: DemoAPI | None = None,
        now: TimeLike | None = None,
        seed: int | None = None,
        **settings: Any,
    ) -> ClientT:
        """A client over the synthetic demo enterprise, in-process: no key, no network.

        Parameters
        ----------
        api : DemoAPI, optional
            The simulator to answer from; default a new one over ``generate_enterprise(seed)``.
        now : datetime, date, str, pandas.Timestamp or int, optional
            The demo's "now" (naive values are UTC; default: the last whole hour): its history
            begins on :data:`metrics_toolkit.demo.FIRST_DAY` (Monday 1 December 2025, 00:00
            UTC) and ends at ``now``, which must be after that. A past day reads the same
            whatever ``now`` is; fix ``now`` to make the open weeks the same on any day too.
        seed : int, optional
            Seed of the synthetic enterprise.
        **settings
            Other :class:`MetricsClient` settings (answers kept in memory unless ``cache_dir``
            is given). ``org_id`` scopes it to that organization, with the demo's key of that
            organization (``DEMO_ORG_API_KEY``: the first one's) or else the enterprise key.

        Raises
        ------
        InvalidParameterError
            Naming ``now``, when it is unreadable or not after the demo's first day.
        """
        from .demo import DEMO_BASE_URL, DemoAdapter, DemoAPI, generate_enterprise

        if api is None:
            end = None if now is None else demo_now(now)
            options: dict[str, Any] = {"end": end}
            if seed is not None:
                options["seed"] = seed
            api = DemoAPI(generate_enterprise(**options))
        demo_api = api
        settings.setdefault("now", lambda: demo_api.now)
        in_memory = settings.get("cache_dir") is None and settings.get("cache", True)
        if in_memory:
            settings["cache"] = False  # replaced by a store in memory below
        key = demo_key(demo_api, settings.get("org_id"))
        client = cls(key, base_url=DEMO_BASE_URL, transport=DemoAdapter(demo_api), **settings)
        client._demo_api = demo_api
        if in_memory:
            client.cache_enabled = True
            client._path.store = AnswerStore(None)
        # every demo enterprise is another "account": its settled weeks differ by seed and end
        enterprise = demo_api.enterprise
        salt = f"demo:{enterprise.seed}:{enterprise.end}"
        client._path.fingerprint = account_fingerprint(key, salt)
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
        return self._demo_api is not None

    def now(self) -> pd.Timestamp:
        """The current time as this client sees it (tz-aware, UTC)."""
        if self._now is None:
            return pd.Timestamp.now(tz="UTC")
        now = self._now()
        if isinstance(now, pd.Timestamp) and now.tzinfo is not None:
            return now.tz_convert("UTC")
        return to_timestamp(now, "now", "UTC")

    def _now_seconds(self) -> int:
        """:meth:`now` as Unix seconds, without building a timestamp when it can be avoided."""
        if self._now is None:
            return int(time.time())
        now = self._now()
        if isinstance(now, pd.Timestamp | dt.datetime) and now.tzinfo is not None:
            return int(now.timestamp())
        return int(self.now().timestamp())

    # -- the generic path ------------------------------------------------------------------

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
        seen: set[str] = set()
        pages = 0
        while True:
            pages += 1
            query = {**params, "first": page_size}
            if after is not None:
                query["after"] = after
            page = self.request(endpoint, query, refresh=refresh).data
            items.extend(page.items)
            if not page.has_next_page or not page.end_cursor:
                return items
            after = page.end_cursor
            if after in seen or not page.items or pages >= MAX_PAGES:
                raise ResponseValidationError(
                    f"the list's pages do not end (page {pages}: cursor "
                    f"{'seen before' if after in seen else 'new'}, {len(page.items)} entries); "
                    f"stopped after {len(items)} entries",
                    status_code=200,
                    url=self.base_url + endpoint.path,
                    body_text="",
                )
            seen.add(after)

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
            Query parameters and the path's placeholders (``org_id``, ...); at organization
            scope a call goes to the organization's path. A ``time_before`` (Unix seconds)
            decides how long the answer is kept (see :class:`~metrics_toolkit.cache.CachePolicy`).
        refresh : bool, default False
            Do not read the store (the fresh answer is stored).

        Returns
        -------
        Answer
            A metrics answer notes the window it answers (shown by its ``repr``).
        """
        answer = self._path.request(endpoint, params, refresh=refresh)
        if isinstance(answer.data, MetricsAnswer):
            answer.data._note_window(params)
        return answer

    def cached_many(
        self, endpoint: Endpoint[ModelT], queries: Sequence[Mapping[str, Any]]
    ) -> list[Answer[ModelT] | None]:
        """The stored answer of each query, or None: one lookup for all, never a request."""
        return self._path.cached_many(endpoint, queries)

    def cached(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any]
    ) -> Answer[ModelT] | None:
        """The answer :meth:`request` would take from the store, or None; never a request."""
        return self._path.cached_many(endpoint, [params])[0]

    def batch(self, *, cache: bool = True) -> AbstractContextManager[None]:
        """Answers are written to the store together when it ends (with cache=False: never)."""
        return self._path.batch() if cache else self._path.unkept()

    def close(self) -> None:
        """Write what is waiting to the store; close it and the connections."""
        self._path.close()

    def __enter__(self: ClientT) -> ClientT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        """``MetricsClient(base_url=..., api_key=<set>, cache=...)``; for the demo
        ``MetricsClient(demo, seed=..., now='2026-12-02T03:00Z', cache='memory')``. Never
        the token."""
        store = self._path.store
        if store is None:
            cache = "off"
        elif store.path is None:
            cache = "memory"
        else:
            cache = str(self.cache_dir or "default")
        if self._demo_api is not None:
            seed, now = self._demo_api.enterprise.seed, self.now()
            return f"MetricsClient(demo, seed={seed}, now='{now:%Y-%m-%dT%H:%M}Z', cache={cache!r})"
        key = "set" if self._api_key else "not set"
        return f"MetricsClient(base_url={self.base_url!r}, api_key=<{key}>, cache={cache!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("MetricsClient cannot be pickled (it holds a token and open connections)")


def _scope_settings(org_id: Any, list_format: Any) -> tuple[str | None, str]:
    """``org_id`` (None, or one id without a comma, space or control character) and
    ``list_format`` (one of ``LIST_FORMATS``), checked."""
    if list_format not in LIST_FORMATS:
        raise InvalidParameterError(
            "list_format", f"got {list_format!r}; expected one of {', '.join(LIST_FORMATS)}"
        )
    if org_id is None:
        return None, list_format
    if not isinstance(org_id, str):
        raise InvalidParameterError("org_id", f"got {type(org_id).__name__}; expected one id")
    ids = check_ids([org_id], "org_id")
    assert ids is not None
    return ids[0], list_format


def demo_key(api: DemoAPI, org_id: str | None) -> str:
    """The key of the demo ``api`` for ``org_id``: its organization key when it has one for that
    organization (``DEMO_ORG_API_KEY`` for the first), else its enterprise key
    (``DEMO_API_KEY``, also for None)."""
    from .demo import DEMO_API_KEY

    keys = [key for key, (org, _) in api.org_tokens.items() if org == org_id]
    return keys[0] if keys else DEMO_API_KEY
