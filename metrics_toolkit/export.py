"""Frames for Excel: local wall times and the name of their zone (pure, no I/O).

Excel has no time zones: ``DataFrame.to_excel`` refuses tz-aware datetimes ("Excel does not
support datetimes with timezones"). :func:`excel_ready` turns every tz-aware datetime, in the
columns and in the index, into the wall time a clock in the frame's zone showed, and adds a
column naming that zone, so the sheet reads as the report reads::

    weekly = client.session_metrics_frame("2026-09-01", "2026-11-01", tz="Europe/Berlin")
    mt.excel_ready(weekly).to_excel("weekly.xlsx")

``metrics-toolkit fetch --out weekly.xlsx`` writes the same sheet.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import InvalidParameterError
from .params import check_timezone

__all__ = ["ZONE_COLUMN", "excel_ready"]

#: The column :func:`excel_ready` adds: the IANA name of the zone the wall times are in.
ZONE_COLUMN = "time_zone"


def excel_ready(frame: pd.DataFrame, tz: str | None = None) -> pd.DataFrame:
    """A copy of ``frame`` that Excel can hold: tz-aware times as local wall times, plus the zone.

    Every tz-aware datetime column, and a tz-aware index (or index level), is converted to
    ``tz`` and stripped of its zone: ``2026-11-16 00:00+01:00`` becomes ``2026-11-16 00:00``.
    A column :data:`ZONE_COLUMN` (``"time_zone"``) naming the zone is inserted after the last
    converted column (first when only the index was converted). Naive datetimes and every other
    column are left as they are; ``frame`` itself is not changed.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame, e.g. one of :meth:`~metrics_toolkit.MetricsClient.session_metrics_frame`.
    tz : str, optional
        IANA time zone of the wall times. Default: the frame's own (``frame.attrs["tz"]``, as
        fetched frames carry it), else the zone of its first tz-aware column or index.

    Returns
    -------
    pandas.DataFrame
        The converted copy (its ``attrs`` kept). Without any tz-aware datetime, an unchanged
        copy without the zone column.

    Raises
    ------
    InvalidParameterError
        For ``frame`` not a DataFrame, ``tz`` not an IANA time zone name, or a frame that
        already has a ``"time_zone"`` column and tz-aware times.

    Examples
    --------
    >>> stamps = pd.date_range("2026-11-16", periods=2, freq="7D", tz="Europe/Berlin")
    >>> weekly = pd.DataFrame({"sessions": [3, 5]}, index=stamps.rename("bucket_start"))
    >>> excel_ready(weekly, tz="America/New_York")  # doctest: +NORMALIZE_WHITESPACE
                                time_zone  sessions
    bucket_start
    2026-11-15 18:00:00  America/New_York         3
    2026-11-22 18:00:00  America/New_York         5
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError("frame", f"got {type(frame).__name__}; expected a DataFrame")
    aware = [name for name, dtype in frame.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]
    index_levels = [
        position
        for position in range(frame.index.nlevels)
        if isinstance(frame.index.get_level_values(position).dtype, pd.DatetimeTZDtype)
    ]
    if not aware and not index_levels:
        return frame.copy()
    zone = _zone_of(frame, aware, index_levels) if tz is None else check_timezone(tz)
    if ZONE_COLUMN in frame.columns:
        raise InvalidParameterError(
            "frame",
            f"already has a {ZONE_COLUMN!r} column; rename it, or convert the times yourself",
        )
    table = frame.copy()
    for name in aware:
        table[name] = table[name].dt.tz_convert(zone).dt.tz_localize(None)
    if index_levels:
        table.index = _wall_index(table.index, index_levels, zone)
    position = table.columns.get_loc(aware[-1]) + 1 if aware else 0
    table.insert(position, ZONE_COLUMN, str(zone))
    return table


def _zone_of(frame: pd.DataFrame, aware: list[Any], index_levels: list[int]) -> Any:
    """The frame's zone: ``attrs["tz"]``, else that of its first tz-aware column or index (a
    name, or a fixed offset such as ``UTC+02:00``)."""
    declared = frame.attrs.get("tz")
    if declared is not None:
        return check_timezone(declared, "frame.attrs['tz']")
    first = frame[aware[0]] if aware else frame.index.get_level_values(index_levels[0])
    return pd.DatetimeIndex(first).tz


def _wall_index(index: pd.Index, levels: list[int], zone: Any) -> pd.Index:
    """``index`` with its tz-aware levels as wall times in ``zone``."""
    if not isinstance(index, pd.MultiIndex):
        return pd.DatetimeIndex(index).tz_convert(zone).tz_localize(None).rename(index.name)
    arrays = [index.get_level_values(position) for position in range(index.nlevels)]
    for position in levels:
        arrays[position] = pd.DatetimeIndex(arrays[position]).tz_convert(zone).tz_localize(None)
    return pd.MultiIndex.from_arrays(arrays, names=index.names)
