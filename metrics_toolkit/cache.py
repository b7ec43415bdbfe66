"""The answer store: where answers are kept, what they are keyed on, and which windows it keeps.

The policy follows the API's semantics (see the README, "The cache"): a window that reaches past
"now" is never stored; a window that ended less than ``settle_period`` ago is provisional
(merged PRs and ACUs still arrive) and kept for ``provisional_ttl`` only; an older window is
settled and kept until the cache is cleared.

The key is a hash of the account's fingerprint (a hash of the token) and the URL with its
canonical query. The value is the 200 body exactly as the server sent it, stored only after it
parsed: never a broken body, never a header, so never the token.

Why a store of its own on :mod:`sqlite3` rather than requests-cache: measured on 2 cores with 8
workers, requests-cache cost 2.9x the CPU of an uncached call (its per-request policy code, its
serialiser and one SQLite lock taken by every worker for every write), and answers were read
twice. Here a series is looked up in one query before any thread starts
(:meth:`AnswerStore.get_many`), workers only append to a list, and the answers are written by
one writer in one transaction per batch (:meth:`AnswerStore.flush`). Nothing parsed is kept in
memory: what a fetch returns lives in its frame.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._constants import DEFAULT_PROVISIONAL_TTL, DEFAULT_SETTLE_PERIOD
from .errors import CacheWarning, InvalidParameterError

__all__ = [
    "CACHE_FILE_NAME",
    "DEFAULT_PROVISIONAL_TTL",
    "DEFAULT_SETTLE_PERIOD",
    "AnswerStore",
    "CachePolicy",
    "CacheWarning",
    "account_fingerprint",
    "cache_key",
    "clear_cache",
    "default_cache_dir",
]

#: The SQLite file inside the cache directory.
CACHE_FILE_NAME = "answers.sqlite"
#: Files of earlier versions' caches in the same directory, removed by :func:`clear_cache`.
LEGACY_FILE_NAMES = ("http_cache.sqlite",)
#: The layout of the file; a file with another is emptied and laid out anew.
SCHEMA_VERSION = 1
#: Owner-only permissions for the cache directory and its files (they hold account data).
DIR_MODE = 0o700
FILE_MODE = 0o600
#: Answers waiting to be written before a worker writes them itself (bounds the memory).
MAX_PENDING = 2_000
#: Keys asked for per SQL statement (SQLite's historical limit on bound parameters is 999).
KEYS_PER_QUERY = 900
#: The table, and the one index it needs (the key).
SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value BLOB, expires REAL)"
COLUMNS = ("key", "value", "expires")
#: A cache file that cannot be read is kept under this suffix, and a new one started.
DAMAGED_SUFFIX = ".damaged"
#: Seconds a writer waits for another process's lock on the file.
BUSY_TIMEOUT = 30.0


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

    def expire_after(self, time_before: int, now: int) -> float | None:
        """Seconds to keep the answer of a window ending at ``time_before`` (Unix seconds).

        Returns None when the window reaches past ``now`` (never stored), ``math.inf`` when it
        is settled (kept until the cache is cleared), else the provisional time to live in
        seconds (at least 1).
        """
        if time_before > now:
            return None
        if now - time_before >= self.settle_period.total_seconds():
            return math.inf
        return max(1.0, self.provisional_ttl.total_seconds())


def default_cache_dir() -> Path:
    """The user's cache directory for metrics_toolkit (e.g. ``~/.cache/metrics-toolkit``)."""
    import platformdirs  # only when the default is asked for: it costs an import

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


class AnswerStore:
    """Answers' bodies in one SQLite file (or in memory), looked up in bulk, written in batches.

    Safe to share between threads: reads and writes go through one connection, one at a time;
    :meth:`put` only appends to a list.

    Parameters
    ----------
    directory : pathlib.Path, optional
        Where the SQLite file lives, created owner-only. None keeps the store in memory, for
        this object's life only (the demo client).

    Raises
    ------
    InvalidParameterError
        When ``directory`` cannot be created or written.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.path = None if directory is None else _prepare(directory) / CACHE_FILE_NAME
        self._lock = threading.Lock()  # the connection, one user at a time
        self._pending_lock = threading.Lock()  # the answers waiting to be written
        self._pending: list[tuple[str, bytes, float | None]] = []
        try:
            connection = self._connect()
        except sqlite3.DatabaseError as error:
            if self.path is None:
                raise
            damaged = self.path.with_name(CACHE_FILE_NAME + DAMAGED_SUFFIX)
            warnings.warn(
                f"the cache file {str(self.path)!r} could not be read ({error}); it is kept "
                f"as {damaged.name!r} and a new one is started",
                CacheWarning,
                stacklevel=3,
            )
            os.replace(self.path, damaged)
            for side_file in ("-wal", "-shm"):
                self.path.with_name(CACHE_FILE_NAME + side_file).unlink(missing_ok=True)
            connection = self._connect()
        self._connection: sqlite3.Connection | None = connection
        self._secure_files()

    def _connect(self) -> sqlite3.Connection:
        """Open the file (or memory) and lay the table out, emptying one of another layout."""
        connection = sqlite3.connect(
            ":memory:" if self.path is None else self.path,
            timeout=BUSY_TIMEOUT,
            check_same_thread=False,
            isolation_level=None,  # transactions are explicit
        )
        try:
            if self.path is not None:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            columns = [row[1] for row in connection.execute("PRAGMA table_info(responses)")]
            if version != SCHEMA_VERSION or columns not in ([], list(COLUMNS)):
                connection.execute("DROP TABLE IF EXISTS responses")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored bodies of those keys that have not expired, in one query per 900 keys."""
        found: dict[str, bytes] = {}
        now = time.time()
        with self._lock:
            connection = self._open()
            for start in range(0, len(keys), KEYS_PER_QUERY):
                chunk = keys[start : start + KEYS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, value FROM responses WHERE key IN ({marks}) "
                    "AND (expires IS NULL OR expires > ?)",
                    (*chunk, now),
                )
                found.update((key, bytes(value)) for key, value in rows)
        return found

    def put(self, key: str, body: bytes, expire_after: float) -> None:
        """Keep ``body`` for ``expire_after`` seconds (``math.inf``: until cleared).

        The answer is written at the next :meth:`flush`, or by this call when
        ``MAX_PENDING`` answers are waiting.
        """
        expires = None if math.isinf(expire_after) else time.time() + expire_after
        with self._pending_lock:
            self._pending.append((key, body, expires))
            full = len(self._pending) >= MAX_PENDING
        if full:
            self.flush()

    def flush(self) -> int:
        """Write every waiting answer in one transaction; returns how many were written.

        A write that fails (the file locked by another process past ``BUSY_TIMEOUT``, a full
        disk) is a :class:`~metrics_toolkit.errors.CacheWarning`, never an error: the answers
        were fetched and are returned; they are kept to be written at the next flush (the
        latest ``MAX_PENDING`` of them). An interrupt keeps them too, and is raised.
        """
        with self._pending_lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        try:
            with self._lock:
                if self._connection is None:
                    return 0
                self._write(self._connection, pending)
        except sqlite3.Error as error:
            self._keep(pending)
            warnings.warn(
                f"{len(pending)} answer(s) could not be written to the cache ({error}); "
                "they will be asked again if they are not written later",
                CacheWarning,
                stacklevel=2,
            )
            return 0
        except BaseException:
            self._keep(pending)
            raise
        self._secure_files()
        return len(pending)

    def _write(
        self, connection: sqlite3.Connection, rows: list[tuple[str, bytes, float | None]]
    ) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(
                "INSERT OR REPLACE INTO responses (key, value, expires) VALUES (?, ?, ?)", rows
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _keep(self, rows: list[tuple[str, bytes, float | None]]) -> None:
        """Put answers that were not written back in front of the waiting ones (bounded)."""
        with self._pending_lock:
            self._pending = [*rows, *self._pending][-MAX_PENDING:]

    def discard(self, keys: Iterable[str]) -> None:
        """Forget these answers (a stored body that no longer parses)."""
        with self._lock:
            self._open().executemany("DELETE FROM responses WHERE key = ?", [(k,) for k in keys])

    def close(self) -> None:
        """Write what is waiting, then close the file."""
        self.flush()
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __len__(self) -> int:
        with self._lock:
            (rows,) = self._open().execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(rows) + len(self._pending)

    def _secure_files(self) -> None:
        """Make the database and its WAL files owner-only, whatever the umask."""
        if self.path is None:
            return
        for file in self.path.parent.glob(CACHE_FILE_NAME + "*"):
            if file.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(file, FILE_MODE)

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the answer store is closed")
        return self._connection


def _prepare(directory: Path) -> Path:
    """Create the directory owner-only and check it can be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        probe = directory / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidParameterError(
            "cache_dir",
            f"{str(directory)!r} cannot be written ({exc.strerror or exc}); pass a writable "
            "directory, or cache=False",
        ) from None
    os.chmod(directory, DIR_MODE)
    return directory


def clear_cache(cache_dir: str | Path | None = None) -> int:
    """Delete the cache files; returns how many files were removed.

    Parameters
    ----------
    cache_dir : str or pathlib.Path, optional
        The directory given to the client; default :func:`default_cache_dir`.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = 0
    for name in (CACHE_FILE_NAME, *LEGACY_FILE_NAMES):
        for file in directory.glob(name + "*"):
            file.unlink()
            removed += 1
    return removed
