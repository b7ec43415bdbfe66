"""A local history store: daily metrics kept in a DuckDB file by :func:`sync`, read back as
the same wide frames a fetch gives by :class:`Store`.

>>> import metrics_toolkit as mt
>>> client = mt.MetricsClient.demo(now="2026-11-20")
>>> summary = mt.sync(client, "history.duckdb", "2026-10-01")  # doctest: +SKIP
>>> store = mt.Store("history.duckdb")  # doctest: +SKIP
>>> weekly = store.frame("2026-10-05", "2026-11-16", freq="week")  # doctest: +SKIP

The store keeps one table per metric family (``sessions``, ``prs``, ...; ``sessions_by_user``
with a breakdown), one row per (day, group) in the store's zone, with every field of the wide
frame, when it was fetched (``fetched_at``, UTC) and whether it is settled: a day that ended
more than :data:`~metrics_toolkit._constants.DEFAULT_SETTLE_PERIOD` before the sync, the
answer cache's rule (:class:`~metrics_toolkit.cache.CachePolicy`). A sync asks only for the
days not yet settled: provisional days, failed days, new days and days before the first one
kept. The zone is fixed when the store is created. Needs the ``store`` extra (``duckdb``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ._constants import DEFAULT_SETTLE_PERIOD
from .buckets import Bucket, time_buckets
from .combine import group_column
from .errors import InvalidParameterError
from .fetch import MetricsSource, fetch_series
from .frequencies import parse_freq

if TYPE_CHECKING:
    import duckdb

__all__ = ["Store", "SyncSummary", "sync"]

#: The store's own columns, besides the wide frame's.
_FETCHED_AT = "fetched_at"
_SETTLED = "settled"
#: A group's place in the fetch's order (the directory's), so frames read back in that order.
_POSITION = "group_position"
_BUCKET_START = "bucket_start"
_DAY = "day"
_META = "_meta"

Breakdown = Literal["org", "user", "service_user", "playbook"]


@dataclass(frozen=True)
class SyncSummary:
    """What one :func:`sync` did.

    Attributes
    ----------
    calls : int
        Calls made to the API (one per day and group asked, >= 0).
    rows : int
        Rows written (replaced or added) across the tables, >= 0.
    days : dict of str to int
        Days asked per table (>= 0 each).
    """

    calls: int
    rows: int
    days: dict[str, int]


def _connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    try:
        import duckdb
    except ModuleNotFoundError as error:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "the store needs duckdb: pip install 'metrics-toolkit[store]'"
        ) from error
    con = duckdb.connect(str(path))
    _run(con, "SET TimeZone = 'UTC'")
    _run(con, f"CREATE TABLE IF NOT EXISTS {_META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    return con


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> None:
    """Run a statement and consume its result (the connection is then free for the next)."""
    con.execute(sql, list(params)).fetchall()


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute(f"SELECT value FROM {_META} WHERE key = ?", [key]).fetchall()
    return str(rows[0][0]) if rows else None


def _table_name(metric: str, by: str | None) -> str:
    if not metric.replace("_", "").isalnum():
        raise InvalidParameterError("metric", f"{metric!r} is not a plain name")
    return metric if by is None else f"{metric}_by_{by}"


def _store_zone(con: duckdb.DuckDBPyConnection, tz: str) -> str:
    """The store's zone, fixed as ``tz`` on first use; another ``tz`` later is refused."""
    zone = _meta(con, "tz")
    if zone is None:
        _run(con, f"INSERT INTO {_META} VALUES ('tz', ?)", [tz])
        return tz
    if zone != tz:
        raise InvalidParameterError(
            "tz",
            f"this store keeps days in {zone!r}, not {tz!r}: its zone is fixed when it is "
            f"created; use another store for {tz!r} days",
        )
    return zone


def _done_days(con: duckdb.DuckDBPyConnection, table: str) -> set[pd.Timestamp]:
    """Days whose every row is settled and none failed: never asked again."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    if not exists[0][0]:
        return set()
    rows = con.execute(
        f'SELECT {_BUCKET_START} FROM "{table}" GROUP BY {_BUCKET_START} '
        f"HAVING bool_and({_SETTLED}) AND NOT bool_or(failed)"
    ).fetchall()
    return {pd.Timestamp(row[0]).tz_convert("UTC") for row in rows}


def _runs(days: Sequence[Bucket]) -> list[tuple[Any, Any]]:
    """Contiguous runs of ``days`` as half-open (start, end) pairs (a day of a clock change
    lasts 23 or 25 hours: its end is the next day's start, not 24 hours on)."""
    runs: list[tuple[Any, Any]] = []
    for day in days:
        if runs and runs[-1][1] == day.start:
            runs[-1] = (runs[-1][0], day.end)
        else:
            runs.append((day.start, day.end))
    return runs


def _positions(frame: pd.DataFrame) -> Any:
    """Each row's group's place in the frame's order of groups (0 without a breakdown)."""
    group = group_column(frame)
    return 0 if group is None else pd.factorize(frame[group])[0]


def _merge(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, dtypes: dict[str, str]
) -> None:
    """Replace the rows of ``frame``'s days by ``frame``'s, in one transaction."""
    rows = frame.reset_index()
    con.register("_incoming", rows)
    try:
        _run(con, "BEGIN TRANSACTION")
        _run(con, f'CREATE TABLE IF NOT EXISTS "{table}" AS SELECT * FROM _incoming LIMIT 0')
        _run(
            con,
            f'DELETE FROM "{table}" WHERE {_BUCKET_START} IN '
            f"(SELECT DISTINCT {_BUCKET_START} FROM _incoming)",
        )
        _run(con, f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
        _run(
            con,
            f"INSERT OR REPLACE INTO {_META} VALUES (?, ?)",
            [f"dtypes:{table}", json.dumps(dtypes)],
        )
        _run(con, "COMMIT")
    except Exception:
        _run(con, "ROLLBACK")
        raise
    finally:
        con.unregister("_incoming")


def sync(
    client: MetricsSource,
    db_path: str | Path,
    start: Any,
    *,
    tz: str = "UTC",
    metrics: Sequence[str] = ("sessions",),
    by: Breakdown | None = None,
) -> SyncSummary:
    """Bring the store at ``db_path`` up to date: every day from ``start`` to today.

    Days already settled in the store are not asked again; the others (provisional, failed,
    new, before the first day kept) are fetched with ``refresh=True`` (the store, not the
    HTTP cache, is the source of truth) and merged on (day, group). Running it twice in a
    row gives the same tables.

    Parameters
    ----------
    client : MetricsClient
        Or another :class:`~metrics_toolkit.fetch.MetricsSource`; its ``now()`` is the sync's.
    db_path : str or pathlib.Path
        The DuckDB file, created if missing.
    start : TimeLike
        The first day kept (read in ``tz``).
    tz : str, default "UTC"
        IANA zone of the store's days; fixed when the store is created (another is refused).
    metrics : sequence of str, default ("sessions",)
        Metric families, as ``fetch_series(metric=...)`` names them.
    by : {"org", "user", "service_user", "playbook"}, optional
        Keep this breakdown (its own table per family).

    Returns
    -------
    SyncSummary
        Calls made and rows written.

    Raises
    ------
    InvalidParameterError
        ``tz`` is not the store's zone.
    """
    now = pd.Timestamp(client.now()).tz_convert("UTC")
    end = now.tz_convert(tz).normalize() + pd.Timedelta(days=1)
    wanted = time_buckets(start, end, _DAY, tz=tz, now=now)
    con = _connect(db_path)
    calls = rows = 0
    days: dict[str, int] = {}
    try:
        _store_zone(con, tz)
        for metric in metrics:
            table = _table_name(metric, by)
            done = _done_days(con, table)
            needed = [
                day for day in wanted if pd.Timestamp(day.start).tz_convert("UTC") not in done
            ]
            days[table] = len(needed)
            for run_start, run_end in _runs(needed):
                frame = fetch_series(
                    client,
                    run_start,
                    run_end,
                    _DAY,
                    tz=tz,
                    by=by,
                    metric=metric,
                    refresh=True,
                    on_error="mark",
                    progress=False,
                )
                calls += frame.attrs["fetch_stats"].calls
                dtypes = {str(k): str(v) for k, v in frame.dtypes.items()}
                frame = frame.assign(
                    **{
                        _FETCHED_AT: now,
                        _POSITION: _positions(frame),
                        _SETTLED: ~frame["failed"]
                        & (frame["bucket_end"] <= now - DEFAULT_SETTLE_PERIOD),
                    }
                )
                _merge(con, table, frame, dtypes)
                rows += len(frame)
    finally:
        con.close()
    return SyncSummary(calls=calls, rows=rows, days=days)


class Store:
    """Read a store kept by :func:`sync`.

    Parameters
    ----------
    path : str or pathlib.Path
        The DuckDB file.
    now : TimeLike, optional
        The time partial buckets are judged against (default: the current time).
    """

    def __init__(self, path: str | Path, *, now: Any = None) -> None:
        self.path = Path(path)
        self._now = now

    def now(self) -> pd.Timestamp:
        """The time the store's frames are judged against (UTC)."""
        if self._now is None:
            return pd.Timestamp.now(tz="UTC")
        value = pd.Timestamp(self._now)
        return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")

    @property
    def tz(self) -> str | None:
        """The zone of the store's days (None before the first sync)."""
        con = _connect(self.path)
        try:
            return _meta(con, "tz")
        finally:
            con.close()

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a SQL query on the store (DuckDB dialect) and return its result as a frame."""
        con = _connect(self.path)
        try:
            return con.execute(query, params or []).df()
        finally:
            con.close()

    def frame(
        self,
        start: Any,
        end: Any,
        freq: Any = _DAY,
        *,
        tz: str | None = None,
        metric: str = "sessions",
        by: Breakdown | None = None,
    ) -> pd.DataFrame:
        """The wide frame a fetch gives, read from the store.

        Parameters
        ----------
        start, end : TimeLike
            The range, half-open ``[start, end)``, read in the store's zone.
        freq : str, default "day"
            Daily rows as stored, or a coarser frequency rolled up with
            :func:`~metrics_toolkit.frames.rollup`.
        tz : str, optional
            Must be the store's zone if given (another is refused).
        metric : str, default "sessions"
            The metric family.
        by : {"org", "user", "service_user", "playbook"}, optional
            The breakdown kept by the sync.

        Returns
        -------
        pandas.DataFrame
            Same columns, dtypes and attrs (``freq``, ``tz``, ``group_by``, ``endpoint``,
            ``now``, ``cut_after_now``) as :func:`~metrics_toolkit.fetch.fetch_series`;
            ``partial`` is judged against :meth:`now`. Days not synced are missing.

        Raises
        ------
        InvalidParameterError
            The store is empty, or ``tz`` is not its zone.
        """
        from .frames import rollup

        now = self.now()
        con = _connect(self.path)
        try:
            zone = _meta(con, "tz")
            if zone is None:
                raise InvalidParameterError(
                    "path", f"the store {self.path} is empty: sync it first"
                )
            if tz is not None and tz != zone:
                raise InvalidParameterError(
                    "tz",
                    f"this store keeps days in {zone!r}, not {tz!r}: read it in {zone!r}, "
                    f"or sync another store in {tz!r}",
                )
            table = _table_name(metric, by)
            dtypes_text = _meta(con, f"dtypes:{table}")
            if dtypes_text is None:
                raise InvalidParameterError(
                    "metric", f"the store has no {table!r} table: sync it first"
                )
            dtypes: dict[str, str] = json.loads(dtypes_text)
            buckets = time_buckets(start, end, freq, tz=zone, now=now)
            first, last = buckets[0].start, buckets[-1].end
            raw = con.execute(
                f'SELECT * FROM "{table}" WHERE {_BUCKET_START} >= ? AND {_BUCKET_START} < ? '
                f"AND {_BUCKET_START} < ?",
                [first.to_pydatetime(), last.to_pydatetime(), now.to_pydatetime()],
            ).df()
        finally:
            con.close()
        daily = self._restore(raw, dtypes, zone, now)
        daily.attrs.update(
            {
                "freq": _DAY,
                "tz": zone,
                "group_by": by,
                "endpoint": metric,
                "now": now,
                "cut_after_now": tuple(b for b in buckets if b.start >= now),
            }
        )
        if parse_freq(freq) == parse_freq(_DAY):
            return daily
        return rollup(daily, freq, tz=zone, now=now)

    @staticmethod
    def _restore(
        raw: pd.DataFrame, dtypes: dict[str, str], zone: str, now: pd.Timestamp
    ) -> pd.DataFrame:
        """The stored rows as a fetched frame: zone, dtypes, order, partial from ``now``."""
        frame = raw.drop(columns=[_FETCHED_AT, _SETTLED])
        for column in (_BUCKET_START, "bucket_end"):
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(zone)
        frame = frame.set_index(_BUCKET_START)
        group = group_column(frame)
        keys = [_POSITION, group, _BUCKET_START] if group else [_BUCKET_START]
        frame = frame.sort_values(keys, kind="stable")
        frame["partial"] = frame["bucket_end"] > now
        frame = frame[list(dtypes)].astype(dtypes)
        frame.index = frame.index.astype(f"datetime64[us, {zone}]")
        return frame
