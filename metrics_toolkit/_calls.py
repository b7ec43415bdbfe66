"""Answering the calls of a series: what the store holds in one lookup, the rest on a pool of
workers, the answers back in call order.

The workers loop over one queue rather than one future per call: no future per call, and the
main thread, which reports progress, wakes a few times a second instead of once per answer (an
8-worker series at 20 ms latency spends its time on the GIL, so that is time off every call).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pandas as pd

from ._constants import PROGRESS_INTERVAL, PROGRESS_MIN_CALLS
from ._endpoints import Answer, Endpoint
from .buckets import Bucket
from .directory import Directory
from .errors import AuthenticationError, MetricsError, PermissionDeniedError
from .frames import Row
from .models import APIModel

__all__ = ["STOPPING_ERRORS", "BucketFailure", "Call", "FetchStats", "MetricsSource", "answer_all"]

#: The token's errors (401, 403): the first stops the whole series, whatever ``on_error``.
STOPPING_ERRORS = (AuthenticationError, PermissionDeniedError)

ModelT = TypeVar("ModelT", bound=APIModel)


class MetricsSource(Protocol):
    """What a series needs of a client (:class:`~metrics_toolkit.MetricsClient` is one)."""

    def now(self) -> pd.Timestamp:
        """The current time, tz-aware."""
        ...

    def directory(self, *, refresh: bool = False) -> Directory:
        """The enterprise's directory (for the ids of a breakdown, and their names)."""
        ...

    def cached_many(
        self, endpoint: Endpoint[ModelT], queries: Sequence[Mapping[str, Any]]
    ) -> list[Answer[ModelT] | None]:
        """The stored answer of each query, or None; never a request."""
        ...

    def request(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any], *, refresh: bool = False
    ) -> Answer[ModelT]:
        """One answer; ``refresh`` skips the store (which a series has asked already)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """A context in which answers are written to the store together."""
        ...


@dataclass(frozen=True)
class BucketFailure:
    """A (group, bucket) whose call still failed after its retries."""

    bucket: Bucket
    group: str | None
    error: MetricsError

    def __str__(self) -> str:
        where = f"[{self.bucket.start.isoformat()}, {self.bucket.end.isoformat()})"
        if self.group is not None:
            where += f" {self.group}"
        return f"{where}: {type(self.error).__name__}: {self.error}"


@dataclass
class FetchStats:
    """What a fetch did, for status lines."""

    calls: int = 0
    """(group, bucket) calls planned."""
    from_cache: int = 0
    """Answered from the cache, no request sent."""
    fetched: int = 0
    """Answered by the server."""
    failed: int = 0
    """Still failing after retries."""
    requests: int = 0
    """HTTP requests sent, retries included."""
    seconds: float = 0.0
    """Wall time of the fetch."""
    failures: list[BucketFailure] = field(default_factory=list)

    def summary(self) -> str:
        """One line, e.g. ``52 calls: 40 from cache, 12 fetched, 0 failed in 0.8 s``."""
        return (
            f"{self.calls} calls: {self.from_cache} from cache, {self.fetched} fetched, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class Call:
    """One planned call: a bucket, its group, the query parameters and, for a fetch of several
    endpoints at once, the endpoint it asks (None: the fetch's endpoint)."""

    bucket: Bucket
    group: str | None
    params: dict[str, Any]
    endpoint: Endpoint[Any] | None = None


def answer_all(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    workers: int,
    progress: bool | None,
    on_progress: Callable[[int, int], None] | None,
    refresh: bool,
) -> tuple[list[Row], FetchStats]:
    """Answer every call: the stored answers in one lookup per endpoint, then the others on one
    thread pool (so through the client's one rate gate), written to the store together.

    Parameters
    ----------
    client : MetricsSource
    endpoint : Endpoint
        The endpoint of every call that does not name its own (:attr:`Call.endpoint`): the
        calls of several endpoints share the pool, its ``workers`` and its progress.
    calls : sequence of Call
    workers : int
        Calls in flight at once, at least 1.
    progress : bool, optional
        Show a progress bar; default: above ``PROGRESS_MIN_CALLS`` calls.
    on_progress : callable, optional
        Called as ``on_progress(done, total)``.
    refresh : bool
        Ask the server even for stored answers.

    Returns
    -------
    rows : list of Row
        One per call, in call order (a failed one with ``metrics=None`` and its error).
    stats : FetchStats
    """
    started = time.perf_counter()
    stats = FetchStats(calls=len(calls))
    results: list[Row | None] = [None] * len(calls)
    bar = None
    if progress if progress is not None else len(calls) > PROGRESS_MIN_CALLS:
        from tqdm.auto import tqdm  # notebook-aware; imported only when a bar is shown

        nouns = {(call.endpoint or endpoint).noun for call in calls}
        noun = nouns.pop() if len(nouns) == 1 else "metrics"
        bar = tqdm(total=len(calls), desc=noun, unit="call")
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if bar is not None:
            bar.update(count)
        if on_progress is not None and count:
            on_progress(done, len(calls))

    try:
        if not refresh:
            advance(_take_cached(client, endpoint, calls, results, stats))
        with client.batch():
            _fetch_missing(client, endpoint, calls, results, stats, workers, advance)
    finally:
        if bar is not None:
            bar.close()
    stats.failures.sort(key=lambda f: (str(f.group), f.bucket.start))
    stats.seconds = time.perf_counter() - started
    return [row for row in results if row is not None], stats


def _take_cached(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    results: list[Row | None],
    stats: FetchStats,
) -> int:
    """Fill in the answers the store keeps, in one lookup per endpoint (no thread, no
    request)."""
    by_endpoint: dict[int, tuple[Endpoint[Any], list[int]]] = {}  # by id: fields are a dict
    for index, call in enumerate(calls):
        asked = call.endpoint or endpoint
        by_endpoint.setdefault(id(asked), (asked, []))[1].append(index)
    for asked, indexes in by_endpoint.values():
        answers = client.cached_many(asked, [calls[index].params for index in indexes])
        for index, answer in zip(indexes, answers, strict=True):
            if answer is not None:
                call = calls[index]
                results[index] = Row(call.bucket, call.group, answer.data)
                stats.from_cache += 1
    return stats.from_cache


def _fetch_missing(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    results: list[Row | None],
    stats: FetchStats,
    workers: int,
    advance: Callable[[int], None],
) -> None:
    """Ask for the calls still without an answer, ``workers`` at a time, in any order."""
    missing = [index for index, row in enumerate(results) if row is None]
    if not missing:
        return
    stop = threading.Event()  # set on Ctrl-C, a 401 or a 403: workers start no new call
    lock = threading.Lock()  # guards the queue, the results, the stats and `ended`
    queue = iter(missing)
    ended = [0]
    raised: list[BaseException] = []

    def work() -> None:
        while not stop.is_set():
            with lock:
                index = next(queue, None)
            if index is None:
                return
            call = calls[index]
            try:
                got = client.request(call.endpoint or endpoint, call.params, refresh=True)
            except MetricsError as error:
                if isinstance(error, STOPPING_ERRORS):  # every other call would fail alike
                    raised.append(error)
                    stop.set()
                    return
                with lock:
                    stats.failed += 1
                    stats.failures.append(BucketFailure(call.bucket, call.group, error))
                    results[index] = Row(
                        call.bucket, call.group, None, f"{type(error).__name__}: {error}"
                    )
                    ended[0] += 1
            except BaseException as error:  # KeyboardInterrupt, SystemExit, a bug: raised below
                raised.append(error)
                stop.set()
                return
            else:
                with lock:
                    stats.from_cache += got.from_cache
                    stats.fetched += not got.from_cache
                    stats.requests += got.attempts
                    results[index] = Row(call.bucket, call.group, got.data)
                    ended[0] += 1

    threads = [
        threading.Thread(target=work, daemon=True) for _ in range(min(workers, len(missing)))
    ]
    for thread in threads:
        thread.start()
    reported = 0

    def report() -> None:  # one step per answer, as ``on_progress(done, total)`` promises
        nonlocal reported
        while reported < ended[0]:
            reported += 1
            advance(1)

    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(PROGRESS_INTERVAL)
                report()
        report()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if raised:
        raise raised[0]
