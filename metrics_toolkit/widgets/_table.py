"""The panel's table of a result, pure (no ipywidgets): one row per bucket, as HTML and text.

A total frame gets a row per bucket with its main columns. A breakdown frame of at most
:data:`PIVOT_MAX_GROUPS` groups is pivoted: still a row per bucket, and a block of columns per
group (largest first by sessions, labelled as the charts label them) holding its sessions and
merged-PR rate. A larger breakdown is listed group after group. Every number is the frame's
own, formatted; nothing is recomputed.

>>> index = pd.DatetimeIndex(["2026-11-02", "2026-11-02"], tz="UTC", name="bucket_start")
>>> frame = pd.DataFrame({"org_id": ["o-1", "o-2"], "org_name": ["Web", "Data"],
...     "bucket_end": index + pd.Timedelta(days=7), "partial": False, "clipped": False,
...     "failed": [False, True], "sessions_created_count": pd.array([40, None], "Int64"),
...     "merged_pr_rate": [0.5, None]}, index=index)
>>> table = pivoted_table(frame)
>>> list(table.columns.get_level_values(0).unique())
['bucket start', 'Web', 'Data', 'note']
>>> table.iloc[0].tolist()
['2026-11-02', '40', '50.0%', '–', '–', 'failed: Data']
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any

import pandas as pd

from .._vocabulary import (
    ACUS_TOTAL,
    AVERAGE,
    KINDS,
    MERGE_RATE,
    MERGED,
    PLAYBOOK_SHARE,
    ROW_FLAGS,
    SEARCH_SHARE,
    SESSIONS,
)
from ..combine import group_column
from ..labels import MISSING, rate_text
from ..summaries import top_groups
from ._render import Markup, fill, join

__all__ = [
    "PIVOT_COLUMNS",
    "PIVOT_MAX_GROUPS",
    "TABLE_COLUMNS",
    "TABLE_MAX_ROWS",
    "pivoted_table",
    "readable_table",
    "table_html",
]

#: The table's class and style: compact, headings allowed to wrap, numbers right-aligned.
TABLE_CLASS = "mt-table-data"
TABLE_CSS = (
    f".{TABLE_CLASS}{{border-collapse:collapse;font-size:12px}}"
    f".{TABLE_CLASS} th,.{TABLE_CLASS} td{{padding:2px 8px;text-align:right;white-space:nowrap}}"
    f".{TABLE_CLASS} thead th{{white-space:normal;vertical-align:bottom}}"
)
#: A pivoted table: the bucket and the note are text (left), group names centred over their
#: block.
PIVOT_CSS = (
    f".{TABLE_CLASS} td:first-child,.{TABLE_CLASS} td:last-child{{text-align:left}}"
    f".{TABLE_CLASS} th[colspan]{{text-align:center;border-bottom:1px solid #ccc}}"
)
#: Rows shown in the table (the CSV export has them all).
TABLE_MAX_ROWS = 200
#: Columns of the table, when the frame has them, and their headings.
TABLE_COLUMNS = {
    SESSIONS: "sessions",
    MERGED: "with merged PR",
    MERGE_RATE: "merged-PR rate",
    AVERAGE: "ACUs per session",
    ACUS_TOTAL: "ACUs total",
    PLAYBOOK_SHARE: "playbook share",
    SEARCH_SHARE: "search share",
}
#: The columns each group shows in a pivoted table (keys of :data:`TABLE_COLUMNS`).
PIVOT_COLUMNS = (SESSIONS, MERGE_RATE)
#: Most groups pivoted side by side; a larger breakdown is listed group after group.
PIVOT_MAX_GROUPS = 12
#: Table columns shown as percentages.
PERCENT_COLUMNS = (MERGE_RATE, PLAYBOOK_SHARE, SEARCH_SHARE)
#: Table columns shown with one decimal.
DECIMAL_COLUMNS = (AVERAGE, ACUS_TOTAL)
#: Columns of text (a category's names), shown as they are and aligned left.
TEXT_COLUMNS = {"category": "category", "subcategory": "subcategory"}
#: Headings of the first and last table columns (the group column is headed by its kind).
BUCKET_HEADING, NOTE_HEADING = "bucket start", "note"
#: The flags a pivoted row names when any group's row has them (``failed`` names the groups).
BUCKET_FLAGS = tuple(flag for flag in ROW_FLAGS if flag != "failed")

TABLE = Template(
    '<style>$css</style><table class="$cls"><thead>$headings</thead>'
    "<tbody>$rows</tbody></table>$note"
)
ALIGN_LEFT = Template("$table td:nth-child($n),$table th:nth-child($n){text-align:left}")
ROW = Template("<tr>$cells</tr>")
HEADING = Template("<th>$text</th>")
SPAN_HEADING = Template('<th rowspan="$rows" colspan="$cols">$text</th>')
CELL = Template("<td>$text</td>")
ROWS_NOTE = Template(
    "<p><small>The first $shown of $total rows; Export CSV has them all.</small></p>"
)


def _bucket_text(index: pd.DatetimeIndex) -> list[str]:
    """Each bucket's start as an ISO day, with the time when any bucket starts off midnight."""
    has_time = bool(((index.hour != 0) | (index.minute != 0)).any())
    return list(index.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d"))


def readable_table(frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The main columns as text, a row per row of ``frame``: dates in the frame's zone, rates
    as percentages, flags noted.

    ``columns`` (column: heading) replaces :data:`TABLE_COLUMNS` for another metric than the
    sessions'; a tidy frame's ``bucket_start`` column stands for the index.
    """
    starts = frame["bucket_start"] if "bucket_start" in frame.columns else frame.index
    index = pd.DatetimeIndex(starts)
    table = pd.DataFrame({BUCKET_HEADING: _bucket_text(index)}, index=frame.index)
    for kind in KINDS.values():
        for column in (kind.name_column, kind.id_field):
            if column in frame.columns and len(table.columns) == 1:
                table[kind.label] = frame[column].astype(str)
    for column, heading in (TABLE_COLUMNS if columns is None else columns).items():
        if column in frame.columns:
            table[heading] = [_number(column, value) for value in frame[column]]
    flags = [flag for flag in ROW_FLAGS if flag in frame.columns]
    table[NOTE_HEADING] = [
        ", ".join(flag for flag in flags if bool(row[flag])) for _, row in frame.iterrows()
    ]
    return table.reset_index(drop=True)


def pivoted_table(frame: pd.DataFrame) -> pd.DataFrame | None:
    """A breakdown frame as text, a row per bucket and a block of columns per group.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame.

    Returns
    -------
    pandas.DataFrame or None
        Two-level columns: ``("bucket start", "")``, then ``(group, heading)`` for each
        group (largest first by total sessions, named as
        :func:`~metrics_toolkit.summaries.top_groups` names them) and each of
        :data:`PIVOT_COLUMNS`, then ``("note", "")``: the flags of the bucket's rows and the
        groups whose call failed. A missing or failed value is ``"–"``. None for a frame
        without groups or with more than :data:`PIVOT_MAX_GROUPS`.
    """
    group = group_column(frame)
    if group is None or frame[group].nunique() > PIVOT_MAX_GROUPS:
        return None
    ranked = top_groups(frame, top=int(frame[group].nunique()))
    ids_by_label: dict[str, str] = ranked.attrs["group_ids"]
    starts = pd.DatetimeIndex(frame.index.unique()).sort_values()
    cells: dict[tuple[str, str], list[str]] = {(BUCKET_HEADING, ""): _bucket_text(starts)}
    ids = frame[group].astype(str).to_numpy()
    label_of = {group_id: label for label, group_id in ids_by_label.items()}
    for label in ranked.columns:
        rows = frame[ids == ids_by_label[label]]
        rows = rows[~rows.index.duplicated()].reindex(starts)
        for column in PIVOT_COLUMNS:
            if column in frame.columns:
                values = [_number(column, value) for value in rows[column]]
                cells[(str(label), TABLE_COLUMNS[column])] = values
    cells[(NOTE_HEADING, "")] = [_bucket_note(frame, start, ids, label_of) for start in starts]
    table = pd.DataFrame(cells)
    table.columns = pd.MultiIndex.from_tuples(list(cells))
    return table


def _bucket_note(
    frame: pd.DataFrame, start: pd.Timestamp, ids: Any, label_of: dict[str, str]
) -> str:
    """``"partial"``, ``"failed: Platform, Growth"``: what the rows of one bucket are."""
    here = (frame.index == start).nonzero()[0]
    rows = frame.iloc[here]
    words = [flag for flag in BUCKET_FLAGS if flag in rows.columns and rows[flag].any()]
    if "failed" in rows.columns and rows["failed"].any():
        failed = sorted(label_of[str(ids[i])] for i in here[rows["failed"].to_numpy(bool)])
        words.append(f"failed: {', '.join(failed)}")
    return ", ".join(words)


def table_html(frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> tuple[Markup, str]:
    """The table of a result as HTML (at most :data:`TABLE_MAX_ROWS` rows) and as text.

    Pivoted (:func:`pivoted_table`) for a breakdown of a few groups of the session metrics,
    else :func:`readable_table` (of ``columns``, column: heading, when given: another
    metric's main columns, listed group after group).

    Examples
    --------
    >>> index = pd.DatetimeIndex(["2026-11-02", "2026-11-09"], tz="UTC", name="bucket_start")
    >>> frame = pd.DataFrame({"sessions_created_count": [1200, 7]}, index=index)
    >>> markup, text = table_html(frame)
    >>> "<td>2026-11-02</td><td>1,200</td><td></td>" in markup
    True
    >>> text.splitlines()[:2]
    ['bucket start sessions note', '  2026-11-02    1,200     ']
    """
    pivot = pivoted_table(frame) if columns is None else None
    table = pivot if pivot is not None else readable_table(frame, columns)
    note = Markup("")
    if len(table) > TABLE_MAX_ROWS:
        note = fill(ROWS_NOTE, shown=TABLE_MAX_ROWS, total=f"{len(table):,}")
        table = table.head(TABLE_MAX_ROWS)
    if pivot is not None:
        headings, css = _pivot_headings(table), Markup(PIVOT_CSS)
    else:
        headings = fill(ROW, cells=join(fill(HEADING, text=column) for column in table.columns))
        text_columns = (
            BUCKET_HEADING,
            NOTE_HEADING,
            *TEXT_COLUMNS.values(),
            *(kind.label for kind in KINDS.values()),
        )
        css = join(
            fill(ALIGN_LEFT, table=f".{TABLE_CLASS}", n=n)
            for n, column in enumerate(table.columns, start=1)
            if column in text_columns
        )
    rows = join(
        fill(ROW, cells=join(fill(CELL, text=value) for value in values))
        for values in table.itertuples(index=False)
    )
    markup = fill(
        TABLE,
        css=join([Markup(TABLE_CSS), css]),
        cls=TABLE_CLASS,
        headings=headings,
        rows=rows,
        note=note,
    )
    return markup, table.to_string(index=False)


def _pivot_headings(table: pd.DataFrame) -> Markup:
    """Two heading rows: the bucket, each group over its columns, the note; then the columns."""
    top: list[Markup] = []
    below: list[Markup] = []
    for name, columns in _blocks(table.columns):
        if columns == [""]:  # the bucket and the note: one cell over both rows
            top.append(fill(SPAN_HEADING, rows=2, cols=1, text=name))
        else:
            top.append(fill(SPAN_HEADING, rows=1, cols=len(columns), text=name))
            below.extend(fill(HEADING, text=column) for column in columns)
    return join([fill(ROW, cells=join(top)), fill(ROW, cells=join(below))])


def _blocks(columns: pd.Index) -> list[tuple[str, list[str]]]:
    """Two-level columns as (first level, its second-level names), in order."""
    blocks: list[tuple[str, list[str]]] = []
    for name, column in columns:
        if blocks and blocks[-1][0] == name:
            blocks[-1][1].append(column)
        else:
            blocks.append((name, [column]))
    return blocks


def _number(column: str, value: Any) -> str:
    if pd.isna(value):
        return MISSING
    if column in TEXT_COLUMNS:
        return str(value)
    if column in PERCENT_COLUMNS:
        return rate_text(float(value))
    if column in DECIMAL_COLUMNS or isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"
