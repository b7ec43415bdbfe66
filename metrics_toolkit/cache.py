"""The persistent HTTP cache: where it lives, what it keys on, and which windows it keeps.

Built on requests-cache (SQLite storage, safe across threads, per-request expiry). The policy
follows the API's semantics (see the README, "Cache"): a window that reaches past "now" is never
cached; a window that ended less than ``settle_period`` ago is provisional (merged PRs and ACUs
still arrive) and kept for ``provisional_ttl`` only; an older window is settled and kept until the
cache is cleared.

The key holds the base URL, the endpoint, the canonical (sorted) parameters and a fingerprint of
the account (a hash of the token). The token itself is never stored: requests-cache removes the
``Authorization`` header from what it saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import requests
from requests_cache import CachedSession
from requests_cache.cache_keys import create_key
from requests_cache.policy.expiration import DO_NOT_CACHE, NEVER_EXPIRE
from requests_cache.serializers import SerializerPipeline, Stage
from requests_cache.serializers.preconf import base_stage

from .errors import InvalidParameterError

__all__ = [
    "CACHE_FILE_NAME",
    "DEFAULT_PROVISIONAL_TTL",
    "DEFAULT_SETTLE_PERIOD",
    "CachePolicy",
    "CacheWarning",
    "account_fingerprint",
    "clear_cache",
    "default_cache_dir",
    "open_cached_session",
]

#: How long after a window ends its numbers may still change (merged PRs, ACUs).
DEFAULT_SETTLE_PERIOD = dt.timedelta(days=14)
#: How long a provisional window's answer is reused before it is asked again.
DEFAULT_PROVISIONAL_TTL = dt.timedelta(hours=1)
#: The SQLite file inside the cache directory.
CACHE_FILE_NAME = "http_cache.sqlite"
#: Owner-only permissions for the cache directory and its files (they hold account data).
DIR_MODE = 0o700
FILE_MODE = 0o600


class CacheWarning(UserWarning):
    """A cache entry could not be read; it is fetched again."""


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


def account_fingerprint(api_key: str | None) -> str:
    """A short, one-way hash of the token: tells accounts apart without storing the token."""
    digest = hashlib.sha256(b"metrics-toolkit/account/" + (api_key or "").encode())
    return digest.hexdigest()[:16]


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
    """Only bodies that parse as a JSON object are stored (a truncated body is not)."""
    if response.status_code != 200:
        return False
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


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
        return f"{fingerprint}-{create_key(request, **kwargs)}"

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


def no_cache_session() -> requests.Session:
    """A plain session for ``cache=False``."""
    return requests.Session()
