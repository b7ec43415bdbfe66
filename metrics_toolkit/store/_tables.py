"""The DuckDB side of the store: connecting, the store's own settings, the keys a table holds
settled, and merging a batch of rows on its primary key (bucket start, group).

Every statement runs through :func:`run`, which consumes its result so the connection is
free for the next one. DuckDB is imported only when a store is opened (the ``store`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._vocabulary import BUCKET_START
from ..errors import InvalidParameterError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "FETCHED_AT",
    "POSITION",
    "SETTLED",
    "connect",
    "has_table",
    "merge",
    "meta",
    "run",
    "settled_keys",
    "store_zone",
]

#: The store's own columns, besides the wide frame's: when a row was fetched (UTC), whether it
#: is settled (never asked again), and its group's place in the series' order of groups.
FETCHED_AT = "fetched_at"
SETTLED = "settled"
POSITION = "group_position"
_META = "_meta"
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
    con = duckdb.connect(str(path), read_only=read_only)
    run(con, "SET TimeZone = 'UTC'")
    if not read_only:
        run(con, f"CREATE TABLE IF NOT EXISTS {_META} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    return con


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
    column = "NULL" if group is None else f'"{group}"'
    found = con.execute(
        f'SELECT {column} AS g, epoch({BUCKET_START})::BIGINT AS s FROM "{table}" '
        f"WHERE {SETTLED} AND NOT failed ORDER BY g, s"
    ).df()
    if found.empty:
        return {}
    if group is None:
        return {None: found["s"].to_numpy(dtype=np.int64)}
    return {
        str(key): part.to_numpy(dtype=np.int64) for key, part in found.groupby("g", sort=False)["s"]
    }


def merge(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pd.DataFrame,
    group: str | None,
    dtypes: dict[str, str],
) -> None:
    """Replace the rows of ``rows``' keys (bucket start, group) by ``rows``, in one
    transaction; a column the table lacks is added, and ``dtypes`` (the wide frame's pandas
    dtypes, in its order) are kept in the store's settings, to give back the same frame."""
    incoming = rows.reset_index()
    con.register(_INCOMING, incoming)
    try:
        run(con, "BEGIN TRANSACTION")
        if not has_table(con, table):
            run(con, f'CREATE TABLE "{table}" AS SELECT * FROM {_INCOMING} LIMIT 0')
        _add_columns(con, table)
        same_group = "" if group is None else f' AND t."{group}" = i."{group}"'
        run(
            con,
            f'DELETE FROM "{table}" AS t USING {_INCOMING} AS i '
            f"WHERE t.{BUCKET_START} = i.{BUCKET_START}{same_group}",
        )
        run(con, f'INSERT INTO "{table}" BY NAME SELECT * FROM {_INCOMING}')
        known = json.loads(meta(con, f"dtypes:{table}") or "{}")
        known.update({k: v for k, v in dtypes.items() if k not in known or v != "object"})
        run(
            con,
            f"INSERT OR REPLACE INTO {_META} VALUES (?, ?)",
            [f"dtypes:{table}", json.dumps(known)],
        )
        run(con, "COMMIT")
    except Exception:
        run(con, "ROLLBACK")
        raise
    finally:
        con.unregister(_INCOMING)


def _add_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Add to ``table`` the incoming columns it lacks (a product first sent later)."""
    have = {row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()}
    for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {_INCOMING}").fetchall():
        if name not in have:
            run(con, f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')
