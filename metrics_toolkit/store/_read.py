"""Reading the store: the frames a fetch gives, a SQL escape hatch, and Parquet files."""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._rules import ENDPOINT_ATTR
from .._vocabulary import (
    BILLING_CALENDAR,
    BREAKDOWNS,
    BUCKET_END,
    BUCKET_START,
    ERROR,
    ID_FIELDS,
)
from ..buckets import bucket_floor, time_buckets
from ..errors import FutureBucketsWarning, InvalidParameterError
from ..frames import rollup
from ..frequencies import parse_freq
from ..params import check_names, to_timestamp
from ._families import BILLING_DAY, CONSUMPTION, Family, family_of
from ._sync import Breakdown
from ._tables import (
    DEMO_ORIGIN,
    FETCHED_AT,
    ORIGIN,
    POSITION,
    SETTLED,
    connect,
    has_table,
    ident,
    meta,
)

__all__ = ["Store"]

_DAY = "day"
_UTC = "UTC"


class Store:
    """Read a store kept by :func:`~metrics_toolkit.sync`.

    Parameters
    ----------
    path : str or pathlib.Path
        The DuckDB file.
    now : TimeLike, optional
        The time partial buckets are judged against (default: the current time).

    Examples
    --------
    >>> store = Store("history.duckdb")  # doctest: +SKIP
    >>> weekly = store.frame("2026-10-05", "2026-11-16", "week", by="org")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, now: Any = None) -> None:
        self.path = Path(path)
        self._now = now

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def now(self) -> pd.Timestamp:
        """The time the store's frames are judged against (UTC)."""
        if self._now is None:
            return pd.Timestamp.now(tz=_UTC)
        return to_timestamp(self._now, "now", _UTC).tz_convert(_UTC)

    @property
    def tz(self) -> str | None:
        """The zone of the store's days (None before the first sync)."""
        con = connect(self.path, read_only=True)
        try:
            return meta(con, "tz")
        finally:
            con.close()

    @property
    def origin(self) -> str | None:
        """Where its answers came from: ``"demo"`` (the synthetic demo enterprise) or the
        API's host; None before the first sync."""
        con = connect(self.path, read_only=True)
        try:
            return meta(con, ORIGIN)
        finally:
            con.close()

    @property
    def is_demo(self) -> bool:
        """Whether its answers came from the synthetic demo enterprise."""
        return self.origin == DEMO_ORIGIN

    def last_sync(self) -> pd.Timestamp | None:
        """When the latest answer it keeps was fetched (UTC); None when it keeps none."""
        con = connect(self.path, read_only=True)
        try:
            tables = _tables(con)
            if not tables:
                return None
            union = " UNION ALL ".join(
                f"SELECT max({FETCHED_AT}) AS t FROM {ident(t)}" for t in tables
            )
            [(moment,)] = con.execute(f"SELECT max(t) FROM ({union})").fetchall()
        finally:
            con.close()
        return None if moment is None else pd.Timestamp(moment).tz_convert(_UTC)

    def tables(self) -> list[str]:
        """The store's tables of metrics (``sessions``, ``prs_by_org``, ...), sorted."""
        con = connect(self.path, read_only=True)
        try:
            return _tables(con)
        finally:
            con.close()

    def sql(
        self, query: str, params: Sequence[Any] | None = None, *, write: bool = False
    ) -> pd.DataFrame:
        """Run a SQL query on the store (DuckDB dialect) and return its result as a frame.

        Times are ``TIMESTAMP WITH TIME ZONE`` (shown in UTC); every table has the wide
        frame's columns and ``fetched_at``, ``settled`` and ``group_position``. The store is
        opened read-only unless ``write=True`` (a change is the user's own: a row marked
        not settled is asked again by the next sync).
        """
        con = connect(self.path, read_only=not write)
        try:
            return con.execute(query, list(params or [])).df()
        finally:
            con.close()

    def to_parquet(self, directory: str | Path) -> list[Path]:
        """Write each table to ``directory/<table>.parquet`` (created if missing).

        Returns
        -------
        list of pathlib.Path
            The files written, one per table.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        con = connect(self.path, read_only=True)
        try:
            for table in self.tables():
                target = out / f"{table}.parquet"
                con.execute(
                    f"COPY {ident(table)} TO '{_quoted(target)}' (FORMAT parquet)"
                ).fetchall()
                written.append(target)
        finally:
            con.close()
        return written

    def frame(
        self,
        start: Any,
        end: Any,
        freq: Any = _DAY,
        *,
        tz: str | None = None,
        metric: str = "sessions",
        by: Breakdown | None = None,
        ids: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The frame a fetch gives, read from the store.

        Parameters
        ----------
        start, end : TimeLike
            The range, half-open ``[start, end)``, read in the store's zone.
        freq : str, default "day"
            Daily rows as kept, or a coarser frequency rolled up with
            :func:`~metrics_toolkit.frames.rollup`. Active users are read at the grain asked
            (day, week or month), never rolled up; consumption is in billing days (``"day"``
            or ``"billing day"``), rolled up by billing day.
        tz : str, optional
            Must be the store's zone if given (another is refused).
        metric : str, default "sessions"
            The family, of :data:`~metrics_toolkit.store.METRIC_NAMES`.
        by : {"org", "user", "service_user", "playbook"}, optional
            The breakdown kept by the sync.
        ids : sequence of str, optional
            Keep these groups only (ids or names, as kept).

        Returns
        -------
        pandas.DataFrame
            What :func:`~metrics_toolkit.fetch_series` (or
            :func:`~metrics_toolkit.fetch_consumption`) gives for the same arguments: same
            columns, dtypes and ``attrs`` (but ``fetch_stats``); ``partial`` judged against
            :meth:`now`. Buckets not synced are missing.

        Raises
        ------
        InvalidParameterError
            The store is empty or lacks the table, ``tz`` is not its zone, or the family is
            not kept at ``freq``.
        """
        now = self.now()
        if by is not None and by not in BREAKDOWNS:
            raise InvalidParameterError(
                "by", f"got {by!r}; expected None or one of {', '.join(map(repr, BREAKDOWNS))}"
            )
        freq_name = parse_freq(freq).name if freq != BILLING_DAY else BILLING_DAY
        family = family_of(metric, _DAY if metric == CONSUMPTION else freq_name)
        con = connect(self.path, read_only=True)
        try:
            zone = self._zone(con, tz)
            table = family.table(by)
            dtypes_text = meta(con, f"dtypes:{table}")
            if dtypes_text is None or not has_table(con, table):
                raise _missing(con, table, metric, by)
            dtypes: dict[str, str] = json.loads(dtypes_text)
            after, before, buckets = self._range(family, start, end, freq, zone, now)
            first = con.execute(f"SELECT min({BUCKET_START}) FROM {ident(table)}").fetchall()
            if first[0][0] is None or after < pd.Timestamp(first[0][0]):
                kept = pd.Timestamp(first[0][0]).tz_convert(zone) if first[0][0] else None
                raise InvalidParameterError(
                    "start",
                    f"got {after.isoformat()}; the store keeps {table} from "
                    f"{kept.isoformat() if kept else 'no day yet'}: start there or later, or sync "
                    "from an earlier start",
                )
            raw = con.execute(
                f"SELECT * FROM {ident(table)} WHERE {BUCKET_END} > ? AND {BUCKET_START} < ? "
                f"AND {BUCKET_START} < ?",
                [after.to_pydatetime(), before.to_pydatetime(), now.to_pydatetime()],
            ).df()
        finally:
            con.close()
        frame = _restore(raw, dtypes, zone if family.grain != BILLING_DAY else _UTC, now)
        if ids is not None:
            frame = _only(frame, by, check_names(ids, "ids") or [])
        if family.metric == CONSUMPTION:
            return self._consumption(frame, after, before, freq, by, now)
        cut = tuple(b for b in buckets if b.start >= now)
        if cut:
            warnings.warn(
                f"{len(cut)} bucket(s) from {cut[0].start.isoformat()} on start at or after now "
                f"({now.isoformat()}) and have no numbers yet",
                FutureBucketsWarning,
                stacklevel=2,
            )
        frame.attrs.update(
            {
                "freq": family.grain,
                "tz": zone,
                "group_by": by,
                ENDPOINT_ATTR: family.metric,
                "now": now,
                "cut_after_now": cut,
            }
        )
        if family.grain == freq_name or parse_freq(freq) == parse_freq(family.grain):
            frame.attrs["freq"] = freq
            return frame
        if family.metric == "categories":
            raise InvalidParameterError(
                "freq",
                f"got {freq!r}; sessions by category are kept per day: read them per day, or "
                "fetch category_frame at that frequency",
            )
        return rollup(frame, freq, tz=zone)  # a bucket is partial when a day of it is

    def _zone(self, con: Any, tz: str | None) -> str:
        zone = meta(con, "tz")
        if zone is None:
            raise InvalidParameterError("path", f"the store {self.path} is empty: sync it first")
        if tz is not None and tz != zone:
            raise InvalidParameterError(
                "tz",
                f"this store keeps days in {zone!r}, not {tz!r}: read it in {zone!r}, or sync "
                f"another store in {tz!r}",
            )
        return zone

    @staticmethod
    def _range(
        family: Family, start: Any, end: Any, freq: Any, zone: str, now: pd.Timestamp
    ) -> tuple[pd.Timestamp, pd.Timestamp, list[Any]]:
        """The stored rows' window [after, before) and the buckets asked."""
        if family.metric == CONSUMPTION:
            after, before = to_timestamp(start, "start", _UTC), to_timestamp(end, "end", _UTC)
            if after >= before:
                raise InvalidParameterError(
                    "end", f"got {before.isoformat()}; it must be after start ({after.isoformat()})"
                )
            return after, before, []
        buckets = time_buckets(start, end, freq, tz=zone, now=now)
        for name, edge in (("start", buckets[0].start), ("end", buckets[-1].end)):
            if bucket_floor(edge, family.grain, zone) != edge:
                raise InvalidParameterError(
                    name,
                    f"got {edge.isoformat()}; the store keeps whole {family.grain}s of {zone}: "
                    f"give a {name} that begins a {family.grain} there",
                )
        return buckets[0].start, buckets[-1].end, buckets

    @staticmethod
    def _consumption(
        frame: pd.DataFrame,
        after: pd.Timestamp,
        before: pd.Timestamp,
        freq: Any,
        by: str | None,
        now: pd.Timestamp,
    ) -> pd.DataFrame:
        starts = frame.index
        frame["clipped"] = (starts < after) | (frame[BUCKET_END] > before)
        frame.index.name = BUCKET_START
        frame.attrs.update(
            {
                "freq": BILLING_DAY,
                "tz": _UTC,
                "calendar": BILLING_CALENDAR,
                ENDPOINT_ATTR: CONSUMPTION,
                "group_by": by,
                "now": now,
            }
        )
        if freq in (_DAY, BILLING_DAY):
            return frame
        return rollup(frame, freq)


def _restore(
    raw: pd.DataFrame, dtypes: dict[str, str], zone: str, now: pd.Timestamp
) -> pd.DataFrame:
    """The stored rows as a fetched frame: zone, dtypes, order, partial judged at ``now``."""
    frame = raw.drop(columns=[SETTLED])
    for column in (BUCKET_START, BUCKET_END, FETCHED_AT):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(zone)
    frame = frame.set_index(BUCKET_START)
    group = next((c for c in ID_FIELDS.values() if c in frame.columns), None)
    keys = [POSITION, group, BUCKET_START] if group else [BUCKET_START]
    frame = frame.sort_values(keys, kind="stable")
    # partial: not over now, or not over when it was fetched (its numbers stop there)
    frame["partial"] = (frame[BUCKET_END] > now) | (frame[BUCKET_END] > frame[FETCHED_AT])
    if "categories" in frame.columns:
        frame["categories"] = frame["categories"].map(
            lambda text: json.loads(text) if isinstance(text, str) else None
        )
    if ERROR in dtypes and (ERROR not in frame.columns or frame[ERROR].isna().all()):
        dtypes = {k: v for k, v in dtypes.items() if k != ERROR}  # as a fetch: only on failure
    for column in dtypes:
        if column not in frame.columns:  # a column first kept after these rows were
            frame[column] = None
    frame = frame[list(dtypes)].astype(dtypes)
    frame.index = frame.index.astype(f"datetime64[us, {zone}]")
    return frame


def _only(frame: pd.DataFrame, by: str | None, wanted: list[str]) -> pd.DataFrame:
    """The rows of the groups ``wanted`` names (by id, or by name where names are kept); a
    value that names no kept group is refused with the closest."""
    if by is None:
        raise InvalidParameterError("ids", "ids are the groups of a breakdown; pass by= too")
    group = ID_FIELDS[by]
    name = f"{by}_name"
    known = set(frame[group].astype(str))
    if name in frame.columns:
        known |= set(frame[name].dropna().astype(str))
    for value in wanted:
        if value not in known:
            close = difflib.get_close_matches(value, sorted(known), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise InvalidParameterError(
                "ids", f"{value!r} is not a {by} the store keeps in that range{hint}"
            )
    keep = frame[group].isin(wanted)
    if name in frame.columns:
        keep |= frame[name].isin(wanted)
    return frame[keep]


def _tables(con: Any) -> list[str]:
    """The store's tables of metrics, sorted (not its own settings)."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY table_name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _missing(con: Any, table: str, metric: str, by: str | None) -> InvalidParameterError:
    """The error for a table the store lacks, naming the tables it has and the sync that
    fills this one."""
    has = ", ".join(_tables(con)) or "none"
    how = f"mt.sync(client, path, start, metrics=[{metric!r}]" + (f", by={by!r})" if by else ")")
    return InvalidParameterError(
        "by" if by else "metric",
        f"the store has no {table!r} table (it has: {has}); {how} keeps it",
    )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
