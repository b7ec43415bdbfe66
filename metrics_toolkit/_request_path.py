"""The one generic request path every endpoint declaration goes through.

checks (done by the caller) -> window splitting -> answer store -> transport -> model.

:class:`RequestPath` reads an :class:`~metrics_toolkit._endpoints.Endpoint` and never names a
metric: whether an answer is stored and for how long follows the endpoint's ``windowed`` flag
and the :class:`~metrics_toolkit.cache.CachePolicy`; whether a long window is split follows
its field rules, and the parts are combined by :func:`~metrics_toolkit.combine.combine_answers`.
A path's placeholders (``{org_id}``, ``{user_id}``, ...) are filled from the call's parameters,
and the query is written in the client's list format; the store's key is that whole URL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import pydantic

from ._constants import DEFAULT_LIST_FORMAT
from ._endpoints import Answer, Endpoint, scoped
from ._transport import Transport
from ._wire import with_query
from .buckets import fixed_spans
from .cache import AnswerStore, CachePolicy, cache_key
from .combine import combine_answers
from .errors import CacheWarning, PermissionDeniedError
from .models import APIModel

__all__ = ["RequestPath"]

ModelT = TypeVar("ModelT", bound=APIModel)


class RequestPath:
    """Answers for endpoint declarations: from the store when it holds them, else the server.

    Parameters
    ----------
    transport : Transport
        Sends what the store does not hold.
    store : AnswerStore, optional
        None: nothing is kept.
    fingerprint : str
        The account's fingerprint, part of every key.
    policy : CachePolicy
        How long windows are kept.
    now_seconds : callable
        The current time in Unix seconds (for whether a window is settled).
    directory_ttl : datetime.timedelta
        How long answers of endpoints without a window (lists) are kept.
    max_window : datetime.timedelta, optional
        The longest window asked in one call.
    list_format : {"repeat", "comma"}, default "repeat"
        How list parameters are written: repeated keys or comma-joined.
    org_id : str, optional
        The organization the client is scoped to: each call is sent at that scope
        (:func:`~metrics_toolkit._endpoints.scoped`; what exists only at enterprise scope is a
        :class:`~metrics_toolkit.errors.ScopeError`, before any request). None: enterprise.
    """

    def __init__(
        self,
        transport: Transport,
        store: AnswerStore | None,
        *,
        fingerprint: str,
        policy: CachePolicy,
        now_seconds: Callable[[], int],
        directory_ttl: dt.timedelta,
        max_window: dt.timedelta | None,
        list_format: str = DEFAULT_LIST_FORMAT,
        org_id: str | None = None,
    ) -> None:
        self.transport = transport
        self.store = store
        self.fingerprint = fingerprint
        self.policy = policy
        self.now_seconds = now_seconds
        self.directory_ttl = directory_ttl
        self.max_window = max_window
        self.list_format = list_format
        self.org_id = org_id
        self._batches = 0
        self._unkept = 0
        self._batch_lock = threading.Lock()

    def request(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any], *, refresh: bool = False
    ) -> Answer[ModelT]:
        """The answer to one call: split into windows of at most ``max_window`` when the
        endpoint's answers combine, each from the store unless ``refresh``, else the server."""
        endpoint, params = scoped(endpoint, params, self.org_id)
        windows = self._windows(endpoint, params)
        if len(windows) > 1:
            parts = [self.request(endpoint, window, refresh=refresh) for window in windows]
            return Answer(
                combine_answers(endpoint, [part.data for part in parts]),
                all(part.from_cache for part in parts),
                sum(part.attempts for part in parts),
            )
        if not refresh:
            [kept] = self.cached_many(endpoint, [params])
            if kept is not None:
                return kept
        try:
            sent = self.transport.get(
                self._target(endpoint, params),
                {},
                model=endpoint.model,
                permission=endpoint.permission,
            )
        except PermissionDeniedError as error:
            if len(endpoint.candidates) < 2:
                raise
            raise error.naming(endpoint.candidates) from None
        expire_after = self._expire_after(endpoint, params, self.now_seconds())
        if self.store is not None and expire_after is not None and not self._unkept:
            self.store.put(self._key(endpoint, params), sent.body, expire_after)
            if not self._batches:
                self.store.flush()
        return Answer(sent.data, False, sent.attempts)

    def cached_many(
        self, endpoint: Endpoint[ModelT], queries: Sequence[Mapping[str, Any]]
    ) -> list[Answer[ModelT] | None]:
        """The stored answer of each query, or None; one lookup for all, never a request.

        A query split into windows is answered when every window's answer is stored.
        """
        if self.store is None:
            return [None] * len(queries)
        if self.org_id is not None and queries:
            pairs = [scoped(endpoint, query, self.org_id) for query in queries]
            endpoint, queries = pairs[0][0], [query for _, query in pairs]
        now = self.now_seconds()
        split = endpoint.splittable and self.max_window is not None  # else one window each
        parts = [
            [
                self._key(endpoint, window)
                if self._expire_after(endpoint, window, now) is not None
                else None
                for window in (self._windows(endpoint, query) if split else (query,))
            ]
            for query in queries
        ]
        found = self.store.get_many([key for keys in parts for key in keys if key is not None])
        data: dict[str, ModelT] = {}
        unreadable = []
        validate = endpoint.model.model_validate_json
        for key, body in found.items():
            try:
                data[key] = validate(body)
            except pydantic.ValidationError:
                unreadable.append(key)
        if unreadable:
            warnings.warn(
                f"{len(unreadable)} cache entr{'y' if len(unreadable) == 1 else 'ies'} could "
                "not be read; fetching it again",
                CacheWarning,
                stacklevel=3,
            )
            self.store.discard(unreadable)
        answers: list[Answer[ModelT] | None] = []
        for keys in parts:
            kept = [data[key] for key in keys if key is not None and key in data]
            if len(kept) != len(keys):
                answers.append(None)
            elif len(kept) == 1:
                answers.append(Answer(kept[0], True, 0))
            else:
                answers.append(Answer(combine_answers(endpoint, kept), True, 0))
        return answers

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Within it, answers are written to the store together, when it ends (or every
        ``MAX_PENDING`` answers), in one transaction each."""
        with self._batch_lock:
            self._batches += 1
        try:
            yield
        finally:
            with self._batch_lock:
                self._batches -= 1
            if self.store is not None:
                self.store.flush()

    @contextlib.contextmanager
    def unkept(self) -> Iterator[None]:
        """Within it, fresh answers are not written to the store (another keeps them)."""
        with self._batch_lock:
            self._unkept += 1
        try:
            yield
        finally:
            with self._batch_lock:
                self._unkept -= 1

    def close(self) -> None:
        """Write what is waiting, close the store and the connections."""
        if self.store is not None:
            self.store.close()
        self.transport.close()

    def _target(self, endpoint: Endpoint[Any], params: Mapping[str, Any]) -> str:
        """The path and query sent: placeholders filled, lists in the client's format."""
        path, query = endpoint.fill(params)
        return with_query(path, query, self.list_format)

    def _key(self, endpoint: Endpoint[Any], params: Mapping[str, Any]) -> str:
        """The store's key: the account, the URL (placeholders filled) and the query in sorted
        order (the same call has the same key however its parameters were ordered), and the
        list format when lists are comma-joined (a server may read them otherwise)."""
        path, query = endpoint.fill(params)
        text = repr(sorted(query.items()))
        if self.list_format != DEFAULT_LIST_FORMAT:
            text += f"&list_format={self.list_format}"
        return cache_key(self.fingerprint, f"{self.transport.base_url}{path}?{text}")

    def _expire_after(
        self, endpoint: Endpoint[Any], params: Mapping[str, Any], now: int
    ) -> float | None:
        """Seconds to keep the answer; None when it is not kept (an open window)."""
        if not endpoint.windowed:
            return max(1.0, self.directory_ttl.total_seconds())
        time_before = params.get("time_before")
        if not isinstance(time_before, int):
            return None  # a raw query without its window: never kept
        return self.policy.expire_after(time_before, now)

    def _windows(self, endpoint: Endpoint[Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The query split into windows of at most ``max_window`` (one when no split applies)."""
        after, before = params.get("time_after"), params.get("time_before")
        if (
            not endpoint.splittable
            or self.max_window is None
            or not (isinstance(after, int) and isinstance(before, int))
        ):
            return [dict(params)]
        step = max(1, math.floor(self.max_window.total_seconds()))
        return [
            {**params, "time_after": start, "time_before": end}
            for start, end in fixed_spans(after, before, step)
        ]
