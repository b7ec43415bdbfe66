"""The persistent HTTP cache: where it lives, what it keys on, and which windows it keeps.

Built on requests-cache (SQLite storage, safe across threads, per-request expiry). The policy
follows the API's semantics (see the README, "Cache"): a window that reaches past "now" is never
cached; a window that ended less than ``settle_period`` ago is provisional (merged PRs and ACUs
still arrive) and kept for ``provisional_ttl`` only; an older window is settled and kept until the
cache is cleared.

The key holds the base URL, the endpoint, the canonical (sorted) parameters and a fingerprint of
the account (a hash of the token). In front of the SQLite store, each client keeps the answers
it has parsed in memory (:class:`AnswerMemo`) under the same expiry rules. The token itself is
never stored: requests-cache removes the ``Authorization`` header from what it saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import pickle
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import requests
from requests_cache import CachedSession
from requests_cache.policy.expiration import DO_NOT_CACHE, NEVER_EXPIRE
from requests_cache.serializers import SerializerPipeline, Stage
from requests_cache.serializers.preconf import base_stage

from .errors import CacheWarning, InvalidParameterError

__all__ = [
    "CACHE_FILE_NAME",
    "DEFAULT_PROVISIONAL_TTL",
    "DEFAULT_SETTLE_PERIOD",
    "AnswerMemo",
    "CachePolicy",
    "CacheWarning",
    "account_fingerprint",
    "cache_key",
    "clear_cache",
    "default_cache_dir",
    "open_cached_session",
    "stored_body",
]

#: How long after a window ends its numbers may still change (merged PRs, ACUs).
DEFAULT_SETTLE_PERIOD = dt.timedelta(days=14)
#: How long a provisional window's answer is reused before it is asked again.
DEFAULT_PROVISIONAL_TTL = dt.timedelta(hours=1)
#: Parsed answers kept in memory per client, at most.
MEMO_ENTRIES = 50_000
#: The SQLite file inside the cache directory.
CACHE_FILE_NAME = "http_cache.sqlite"
#: Owner-only permissions for the cache directory and its files (they hold account data).
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class CachePolicy:
    """Which answers are kept, and for how long.

    Parameters
    ----------
    settle_period : datetime.timedelta
        A window that ended less than this long ago is provisional.
    provisional_ttl : datetime.timedelta
        How long a provisional answer is reused.
    """

    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD
    provisional_ttl: dt.timedelta = DEFAULT_PROVISIONAL_TTL

    def expire_after(self, time_before: int, now: int) -> int:
        """The requests-cache expiry for a window ending at ``time_before`` (Unix seconds).

        Returns ``DO_NOT_CACHE`` when the window reaches past ``now``, ``NEVER_EXPIRE`` when it
        is settled, else the provisional time to live in whole seconds (at least 1).
        """
        if time_before > now:
            return int(DO_NOT_CACHE)
        if now - time_before >= self.settle_period.total_seconds():
            return int(NEVER_EXPIRE)
        return max(1, int(self.provisional_ttl.total_seconds()))


def default_cache_dir() -> Path:
    """The user's cache directory for metrics_toolkit (e.g. ``~/.cache/metrics-toolkit``)."""
    return Path(platformdirs.user_cache_dir("metrics-toolkit"))


def account_fingerprint(api_key: str | None, salt: str = "") -> str:
    """A short, one-way hash of the token: tells accounts apart without storing the token.

    ``salt`` tells apart data sets behind one token (the demo's enterprises).
    """
    digest = hashlib.sha256(f"metrics-toolkit/account/{salt}/{api_key or ''}".encode())
    return digest.hexdigest()[:16]


def cache_key(fingerprint: str, url: str) -> str:
    """The key of one GET: the account's fingerprint and the full URL with its query.

    The client builds every query in one canonical order (sorted id lists), so the same call
    always has the same URL, and the key needs no normalising.
    """
    return hashlib.blake2b(f"{fingerprint} GET {url}".encode(), digest_size=16).hexdigest()


class AnswerMemo:
    """Parsed answers kept in memory, in front of the SQLite store, each until it expires.

    Reading an answer back from SQLite costs a query and an unpickling; a series asked again
    in the same session (a notebook cell run twice, the panel's Apply) is answered from here.

    Parameters
    ----------
    max_entries : int, default 50,000
        The least recently used answers are forgotten beyond this.
    """

    def __init__(self, max_entries: int = MEMO_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: str) -> Any | None:
        """The answer stored under ``key`` if it has not expired, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, expires_at = entry
            if expires_at <= time.time():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: Any, expire_after: int) -> None:
        """Keep ``value``: ``expire_after`` seconds, or as requests-cache's constants say."""
        if expire_after == DO_NOT_CACHE:
            return
        expires_at = math.inf if expire_after == NEVER_EXPIRE else time.time() + expire_after
        with self._lock:
            self._entries[key] = (value, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()


def stored_body(session: CachedSession, key: str) -> tuple[bytes, int] | None:
    """The body of a fresh stored answer and its remaining seconds (or ``NEVER_EXPIRE``)."""
    stored = session.cache.get_response(key)
    if stored is None or stored.is_expired:
        return None
    if stored.expires is None:
        return stored.content, int(NEVER_EXPIRE)
    remaining = (stored.expires - dt.datetime.now(dt.timezone.utc)).total_seconds()
    return stored.content, max(1, int(remaining))


def _loads_or_warn(data: bytes) -> Any:
    try:
        return pickle.loads(data)
    except Exception as exc:  # any damage to the stored bytes means "not cached"
        warnings.warn(
            f"a cache entry could not be read ({type(exc).__name__}); fetching it again",
            CacheWarning,
            stacklevel=2,
        )
        raise ValueError("unreadable cache entry") from exc


_SERIALIZER = SerializerPipeline(
    [base_stage, Stage(dumps=pickle.dumps, loads=_loads_or_warn)],
    name="metrics-toolkit-pickle",
    is_binary=True,
)


def _is_json_object(response: requests.Response) -> bool:
    """Only 200 bodies shaped like one JSON object are stored: an HTML page or a body cut short
    is not. (A cheap check of the ends; the client parses every answer it reads back anyway.)"""
    if response.status_code != 200:
        return False
    body = response.content.strip()
    return body.startswith(b"{") and body.endswith(b"}")


def _check_writable(cache_dir: Path) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        probe = cache_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidParameterError(
            "cache_dir",
            f"{str(cache_dir)!r} cannot be written ({exc.strerror or exc}); pass a writable "
            "directory, or cache=False",
        ) from None


def open_cached_session(
    cache_dir: Path | None, *, fingerprint: str, in_memory: bool = False
) -> CachedSession:
    """A requests-cache session keyed by account, storing only JSON-object 200 answers.

    Parameters
    ----------
    cache_dir : pathlib.Path or None
        Where the SQLite file lives; None means :func:`default_cache_dir`. Created owner-only.
    fingerprint : str
        :func:`account_fingerprint` of the token; part of every key.
    in_memory : bool, default False
        Keep the cache in memory for this session only (used by the demo client).

    Raises
    ------
    InvalidParameterError
        When ``cache_dir`` cannot be created or written.
    """

    def key_fn(request: Any, **kwargs: Any) -> str:
        return cache_key(fingerprint, request.url)

    common: dict[str, Any] = {
        "expire_after": NEVER_EXPIRE,
        "allowable_codes": (200,),
        "allowable_methods": ("GET",),
        "filter_fn": _is_json_object,
        "key_fn": key_fn,
        "serializer": _SERIALIZER,
    }
    if in_memory:
        return CachedSession(backend="memory", **common)
    directory = cache_dir or default_cache_dir()
    _check_writable(directory)
    os.chmod(directory, DIR_MODE)
    path = directory / CACHE_FILE_NAME
    session = CachedSession(str(path), backend="sqlite", wal=True, **common)
    for file in directory.glob(CACHE_FILE_NAME + "*"):
        os.chmod(file, FILE_MODE)
    return session


def clear_cache(cache_dir: str | Path | None = None) -> int:
    """Delete the cache files; returns how many files were removed.

    Parameters
    ----------
    cache_dir : str or pathlib.Path, optional
        The directory given to the client; default :func:`default_cache_dir`.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = 0
    for file in directory.glob(CACHE_FILE_NAME + "*"):
        file.unlink()
        removed += 1
    return removed
