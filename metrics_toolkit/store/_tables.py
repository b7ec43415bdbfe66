"""The DuckDB side of the store: connecting, the store's own settings, the keys a table holds
settled, and merging a batch of rows on its primary key (bucket start, group).

Every statement runs through :func:`run`, which consumes its result so the connection is
free for the next one. DuckDB is imported only when a store is opened (the ``store`` extra).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._vocabulary import BUCKET_START
from ..errors import InvalidParameterError, StoreBusyError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "DEMO_ORIGIN",
    "FETCHED_AT",
    "ORIGIN",
    "POSITION",
    "SETTLED",
    "connect",
    "has_table",
    "ident",
    "merge",
    "meta",
    "remember",
    "reorder_groups",
    "run",
    "settled_keys",
    "store_zone",
    "unsettled_groups",
]

#: The store's own columns, besides the wide frame's: when a row was fetched (UTC), whether it
#: is settled (never asked again), and its group's place in the series' order of groups.
FETCHED_AT = "fetched_at"
SETTLED = "settled"
POSITION = "group_position"
_META = "_meta"
#: The setting that says where a store's answers come from: the demo, or the API's host.
ORIGIN = "origin"
DEMO_ORIGIN = "demo"
_INCOMING = "_incoming"


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (or create) the store at ``path``, its clock in UTC."""
    try:
        import duckdb
    except ModuleNotFoundError as error:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "the store needs duckdb: pip install 'metrics-toolkit[store]'"
        ) from error
    if read_only and not Path(path).exists():
        raise InvalidParameterError("path", f"there is no store at {path}: sync one first")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.IOException, duckdb.ConnectionException) as error:
        if "lock" not in str(error).lower() and "configuration" not in str(error).lower():
            raise
        raise StoreBusyError(
            f"the store {path} is open for writing elsewhere (a sync?): a store has one writer "
            "and no reader while it writes; try again when that ends"
        ) from None
    run(con, "SET TimeZone = 'UTC'")
    if not read_only:
        run(con, f"CREATE TABLE IF NOT EXISTS {_META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    return con


def ident(name: str) -> str:
    """A table or column name quoted for SQL (a field the server names may hold anything)."""
    return '"' + str(name).replace('"', '""') + '"'


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> None:
    """Run a statement and consume its result."""
    con.execute(sql, list(params)).fetchall()


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the store holds ``table``."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    return bool(rows[0][0])


def meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """One of the store's settings (its zone, a table's dtypes), or None."""
    if not has_table(con, _META):
        return None
    rows = con.execute(f"SELECT value FROM {_META} WHERE key = ?", [key]).fetchall()
    return str(rows[0][0]) if rows else None


def remember(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Keep one of the store's settings (replacing it)."""
    run(con, f"INSERT OR REPLACE INTO {_META} VALUES (?, ?)", [key, value])


def store_zone(con: duckdb.DuckDBPyConnection, tz: str) -> str:
    """The store's zone, fixed as ``tz`` on first use; another ``tz`` later is refused."""
    zone = meta(con, "tz")
    if zone is None:
        run(con, f"INSERT INTO {_META} VALUES ('tz', ?)", [tz])
        return tz
    if zone != tz:
        raise InvalidParameterError(
            "tz",
            f"this store keeps days in {zone!r}, not {tz!r}: its zone is fixed when it is "
            f"created; use another store for {tz!r} days",
        )
    return zone


def settled_keys(
    con: duckdb.DuckDBPyConnection, table: str, group: str | None
) -> dict[str | None, np.ndarray[Any, np.dtype[np.int64]]]:
    """The bucket starts (Unix seconds, sorted) each group holds settled and not failed: the
    calls a sync never makes again. Arrays, not sets, so a large store stays small here."""
    if not has_table(con, table):
        return {}
    column = "NULL" if group is None else ident(group)
    found = con.execute(
        f"SELECT {column} AS g, epoch({BUCKET_START})::BIGINT AS s FROM {ident(table)} "
        f"WHERE {SETTLED} AND NOT failed ORDER BY g, s"
    ).fetchnumpy()
    starts = np.asarray(found["s"], dtype=np.int64)
    if not len(starts):
        return {}
    if group is None:
        return {None: starts}
    groups = np.asarray(found["g"], dtype=object)
    cuts = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    firsts = np.concatenate([[0], cuts])
    return {str(groups[i]): part for i, part in zip(firsts, np.split(starts, cuts), strict=True)}


def unsettled_groups(con: duckdb.DuckDBPyConnection, table: str, group: str) -> list[str]:
    """The groups with a row not settled yet (asked again even when the directory no longer
    lists them: a deleted user's last days still settle)."""
    if not has_table(con, table):
        return []
    rows = con.execute(
        f"SELECT DISTINCT {ident(group)} FROM {ident(table)} WHERE NOT {SETTLED} ORDER BY 1"
    ).fetchall()
    return [str(row[0]) for row in rows]


def merge(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pd.DataFrame,
    group: str | None,
    dtypes: dict[str, str],
) -> None:
    """Write ``rows`` on their keys (bucket start, group), in one transaction: a row replaces
    the one the table holds, except that a failed row never replaces a row with numbers (that
    row stays unsettled, asked again next time). A column the table lacks is added; text
    columns are written as text even when every value is missing; ``dtypes`` (the wide frame's
    pandas dtypes, in its order) are kept in the store's settings, to give back the same
    frame."""
    incoming = rows.reset_index()
    for column in incoming.columns:
        if incoming[column].dtype == object:
            incoming[column] = incoming[column].astype("string")
    target = ident(table)
    same = f"t.{BUCKET_START} = i.{BUCKET_START}"
    if group is not None:
        same += f" AND t.{ident(group)} = i.{ident(group)}"
    con.register(_INCOMING, incoming)
    try:
        run(con, "BEGIN TRANSACTION")
        if not has_table(con, table):
            run(con, f"CREATE TABLE {target} AS SELECT * FROM {_INCOMING} LIMIT 0")
        _add_columns(con, table)
        run(
            con,
            f"DELETE FROM {target} AS t USING {_INCOMING} AS i WHERE {same} "
            "AND (NOT i.failed OR t.failed)",
        )
        run(
            con,
            f"INSERT INTO {target} BY NAME SELECT * FROM {_INCOMING} AS i "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {same})",
        )
        known = json.loads(meta(con, f"dtypes:{table}") or "{}")
        known.update({k: v for k, v in dtypes.items() if k not in known or v != "object"})
        kept = [f"dtypes:{table}", json.dumps(known)]
        run(con, f"INSERT OR REPLACE INTO {_META} VALUES (?, ?)", kept)
        run(con, "COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):  # a failed COMMIT has ended the transaction
            run(con, "ROLLBACK")
        raise
    finally:
        con.unregister(_INCOMING)


def reorder_groups(
    con: duckdb.DuckDBPyConnection, table: str, group: str, order: Sequence[str]
) -> None:
    """Number the rows of the groups in ``order`` (the latest series' order of groups) by
    their place in it, touching only the rows whose place changed (a sync that keeps the
    order writes nothing here). Groups it does not list keep their place."""
    if not has_table(con, table):
        return
    places = pd.DataFrame({"g": pd.array(list(order), dtype="string"), "p": range(len(order))})
    con.register("_places", places)
    try:
        run(
            con,
            f"UPDATE {ident(table)} AS t SET {POSITION} = _places.p FROM _places "
            f"WHERE _places.g = t.{ident(group)} AND t.{POSITION} <> _places.p",
        )
    finally:
        con.unregister("_places")


def _add_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Add to ``table`` the incoming columns it lacks (a product first sent later)."""
    have = {row[0] for row in con.execute(f"DESCRIBE {ident(table)}").fetchall()}
    for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {_INCOMING}").fetchall():
        if name not in have:
            run(con, f"ALTER TABLE {ident(table)} ADD COLUMN {ident(name)} {kind}")
