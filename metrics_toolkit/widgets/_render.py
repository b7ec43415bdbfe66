"""The panel's HTML and text, pure (no ipywidgets): table, failures, status line, problems.

Every piece of HTML is a small :class:`string.Template` filled by :func:`fill`, which escapes
each value with :func:`html.escape` unless it is :class:`Markup` (HTML built here). Nothing is
edited after it is built. Colours and styles are said once, below.

>>> print(fill(NOTE, color=WARNING_COLOR, text="<3 of 4> failed"))
<div style="color:#8a5300">&lt;3 of 4&gt; failed</div>
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
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
    Kind,
)
from ..directory import Directory
from ..errors import MetricsError
from ..fetch import FetchStats
from ..labels import MISSING, rate_text

__all__ = [
    "FREQUENCY_WORDS",
    "Markup",
    "Status",
    "escape",
    "failures_html",
    "fill",
    "plain_text",
    "problem_html",
    "shape_text",
    "status_html",
    "table_html",
]

# -- colours and styles ---------------------------------------------------------------------------

#: Errors: a refused choice, a failed fetch, an exception.
ERROR_COLOR = "#b00020"
#: Warnings: failed calls, an unavailable directory.
WARNING_COLOR = "#8a5300"
#: The table's class and style: compact, headings allowed to wrap, numbers right-aligned.
TABLE_CLASS = "mt-table-data"
TABLE_CSS = (
    f".{TABLE_CLASS}{{border-collapse:collapse;font-size:12px}}"
    f".{TABLE_CLASS} th,.{TABLE_CLASS} td{{padding:2px 8px;text-align:right;white-space:nowrap}}"
    f".{TABLE_CLASS} thead th{{white-space:normal;vertical-align:bottom}}"
)
#: Lists and preformatted text inside a message.
LIST_CSS = "margin:2px 0"
PRE_CSS = "white-space:pre-wrap;margin:2px 0"

# -- words and limits -----------------------------------------------------------------------------

#: How the status line names the buckets of each frequency.
FREQUENCY_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
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
#: Table columns shown as percentages.
PERCENT_COLUMNS = (MERGE_RATE, PLAYBOOK_SHARE, SEARCH_SHARE)
#: Table columns shown with one decimal.
DECIMAL_COLUMNS = (AVERAGE, ACUS_TOTAL)
#: Headings of the first and last table columns (the group column is headed by its kind).
BUCKET_HEADING, NOTE_HEADING = "bucket start", "note"
#: Failed buckets named one by one; the rest are counted.
MAX_NAMED_FAILURES = 8
#: Groups named per failed bucket; the rest are counted.
MAX_NAMED_GROUPS = 10


class Markup(str):
    """HTML built here from escaped values: :func:`fill` inserts it as it is."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as text in HTML: Markup as it is, anything else escaped."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


def fill(template: Template, /, **values: object) -> Markup:
    """``template`` with every placeholder set, each value escaped unless it is Markup."""
    return Markup(template.substitute({name: escape(value) for name, value in values.items()}))


def join(pieces: Iterable[Markup], separator: str = "") -> Markup:
    """Pieces of Markup one after the other (``separator`` is markup too)."""
    return Markup(separator.join(pieces))


# -- templates ------------------------------------------------------------------------------------

NOTE = Template('<div style="color:$color">$text</div>')
PROBLEM = Template('<div style="color:$color"><b>$what</b> ($kind):$detail</div>')
PRE = Template('<pre style="$css">$text</pre>')
TRACEBACK = Template("<details><summary>traceback</summary><pre>$trace</pre></details>")
FAILURES = Template(
    '<div style="color:$color"><b>$failed of $calls calls failed</b>; their rows are marked '
    "<code>failed</code> (no data, not zero). Press Apply again to retry them."
    '<br>Missing:<ul style="$css">$missing</ul>Because of:<ul style="$css">$causes</ul></div>'
)
ITEM = Template("<li>$text</li>")
CAUSE = Template("<li>$count x <small>$example</small></li>")
TABLE = Template(
    '<style>$css</style><table class="$cls"><thead><tr>$headings</tr></thead>'
    "<tbody>$rows</tbody></table>$note"
)
ALIGN_LEFT = Template("$table td:nth-child($n),$table th:nth-child($n){text-align:left}")
ROW = Template("<tr>$cells</tr>")
HEADING = Template("<th>$text</th>")
CELL = Template("<td>$text</td>")
ROWS_NOTE = Template(
    "<p><small>The first $shown of $total rows; Export CSV has them all.</small></p>"
)
STATUS_SEPARATOR = " &middot; "
WRITTEN = Template("CSV written to <code>$path</code> ($rows rows)")
DOWNLOAD = Template(
    '<a download="$name" href="data:text/csv;base64,$payload">Download $name</a> '
    "(the same file, through the browser)"
)
HINT = Template('<span style="color:$color">$text</span>')
FILTER_HEADING = Template("<b>$label</b> <small>(none selected = all)</small>")

#: The status line before the first Apply.
PROMPT = Markup("Choose, then press <b>Apply</b>.")
#: Shown by the buttons when a choice changes after a result.
PENDING_HINT = Markup("<i>Choices changed: press Apply to fetch them.</i>")
#: The label in front of the frequency buttons.
FREQUENCY_LABEL = Markup('<div style="text-align:right;padding-right:8px">Frequency</div>')
#: Shown on every Apply while the directory is unavailable.
NO_DIRECTORY = fill(
    NOTE,
    color=WARNING_COLOR,
    text="The directory is unavailable, so there are no names: filters take typed ids, and "
    "groups are shown by id.",
)


# -- pieces of the panel --------------------------------------------------------------------------


def filter_heading(kind: Kind) -> Markup:
    """The heading of a filter list: ``<b>Organizations</b> (none selected = all)``."""
    return fill(FILTER_HEADING, label=kind.plural)


def hint_html(text: str) -> Markup:
    """A short error next to a control (an unknown time zone)."""
    return fill(HINT, color=ERROR_COLOR, text=text)


def download_html(name: str, payload: str) -> Markup:
    """A link that downloads ``payload`` (base64 of a CSV) as the file ``name``."""
    return fill(DOWNLOAD, name=name, payload=payload)


def problem_html(what: str, error: BaseException) -> Markup:
    """An error in the panel: what failed, the error's kind and message.

    Errors of the package say what to do; any other exception also gets its traceback
    (folded), as it is a bug to report.
    """
    detail = fill(PRE, css=PRE_CSS, text=error)
    if not isinstance(error, MetricsError):
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        detail = join([detail, fill(TRACEBACK, trace=trace)])
    return fill(PROBLEM, color=ERROR_COLOR, what=what, kind=type(error).__name__, detail=detail)


def failures_html(stats: FetchStats, by: str | None, directory: Directory | None) -> Markup:
    """Name the missing buckets (and groups), then each kind of error once.

    Parameters
    ----------
    stats : FetchStats
        Of a fetch with failures.
    by : str or None
        The breakdown of the fetch, a key of ``_vocabulary.KINDS``.
    directory : Directory or None
        Names the groups (without one, groups are named by their ids).
    """
    missing: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
    causes: dict[str, tuple[int, str]] = {}
    for failure in stats.failures:
        groups = missing.setdefault((failure.bucket.start, failure.bucket.end), [])
        if failure.group is not None and by is not None:
            groups.append(directory.name(by, failure.group) if directory else failure.group)
        kind = type(failure.error).__name__
        status = getattr(failure.error, "status_code", None)
        key = kind if status is None else f"{kind} (HTTP {status})"
        count, example = causes.get(key, (0, f"{kind}: {failure.error}"))
        causes[key] = (count + 1, example)
    lines = []
    for (start, end), groups in sorted(missing.items()):
        line = f"{_day(start)} to {_day(end)}"
        if groups and by is not None:
            names = sorted(groups, key=str.casefold)
            shown = ", ".join(names[:MAX_NAMED_GROUPS])
            if len(names) > MAX_NAMED_GROUPS:
                shown += f" and {len(names) - MAX_NAMED_GROUPS} more"
            line += f" — {_counted(KINDS[by], len(names))} {shown}"
        lines.append(line)
    if len(lines) > MAX_NAMED_FAILURES:
        lines[MAX_NAMED_FAILURES:] = [f"… and {len(lines) - MAX_NAMED_FAILURES} more buckets"]
    return fill(
        FAILURES,
        color=WARNING_COLOR,
        css=LIST_CSS,
        failed=stats.failed,
        calls=stats.calls,
        missing=join(fill(ITEM, text=line) for line in lines),
        causes=join(fill(CAUSE, count=n, example=example) for n, example in causes.values()),
    )


# -- the status line ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """The status line as data; :func:`status_html` renders it.

    Examples
    --------
    >>> status_html(Status(("4 weekly buckets", "4 calls"), written=("a&b.csv", 4)))
    '4 weekly buckets &middot; 4 calls &middot; CSV written to <code>a&amp;b.csv</code> (4 rows)'
    >>> status_html(Status())
    'Choose, then press <b>Apply</b>.'
    """

    parts: tuple[str, ...] = ()
    """What the last action did, in plain text; none before the first Apply."""
    written: tuple[str, int] | None = None
    """The file the last result was exported to, and its rows."""


def status_html(status: Status) -> Markup:
    """The status line: its parts separated by middle dots, then the export."""
    if not status.parts and status.written is None:
        return PROMPT
    pieces = [escape(part) for part in status.parts]
    if status.written is not None:
        path, rows = status.written
        pieces.append(fill(WRITTEN, path=path, rows=f"{rows:,}"))
    return join(pieces, STATUS_SEPARATOR)


def shape_text(frame: pd.DataFrame) -> str:
    """What a result holds: ``13 weekly buckets x 5 organizations``, and whether it is partial."""
    buckets = frame.index.nunique()
    text = f"{buckets} {FREQUENCY_WORDS.get(str(frame.attrs.get('freq')), '')} bucket"
    text += "s" if buckets != 1 else ""
    by = frame.attrs.get("group_by")
    if by is not None:
        kind = KINDS[by]
        count = frame[kind.id_field].nunique()
        text += f" x {count} {_counted(kind, count)}"
    if "partial" in frame.columns and frame["partial"].any():
        text += " (the last bucket is partial: it ends after now)"
    return text


# -- the table ------------------------------------------------------------------------------------


def readable_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The main columns as text: dates in the frame's zone, rates as percentages, flags noted."""
    index = pd.DatetimeIndex(frame.index)
    has_time = bool(((index.hour != 0) | (index.minute != 0)).any())
    table = pd.DataFrame(
        {BUCKET_HEADING: index.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d")},
        index=frame.index,
    )
    for kind in KINDS.values():
        for column in (kind.name_column, kind.id_field):
            if column in frame.columns and len(table.columns) == 1:
                table[kind.label] = frame[column].astype(str)
    for column, heading in TABLE_COLUMNS.items():
        if column in frame.columns:
            table[heading] = [_number(column, value) for value in frame[column]]
    flags = [flag for flag in ROW_FLAGS if flag in frame.columns]
    table[NOTE_HEADING] = [
        ", ".join(flag for flag in flags if bool(row[flag])) for _, row in frame.iterrows()
    ]
    return table.reset_index(drop=True)


def table_html(frame: pd.DataFrame) -> tuple[Markup, str]:
    """The table of a result as HTML (at most :data:`TABLE_MAX_ROWS` rows) and as text.

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
    table = readable_table(frame)
    note = Markup("")
    if len(table) > TABLE_MAX_ROWS:
        note = fill(ROWS_NOTE, shown=TABLE_MAX_ROWS, total=f"{len(table):,}")
        table = table.head(TABLE_MAX_ROWS)
    text_columns = (BUCKET_HEADING, NOTE_HEADING, *(kind.label for kind in KINDS.values()))
    align = join(
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
        css=join([Markup(TABLE_CSS), align]),
        cls=TABLE_CLASS,
        headings=join(fill(HEADING, text=column) for column in table.columns),
        rows=rows,
        note=note,
    )
    return markup, table.to_string(index=False)


# -- text -----------------------------------------------------------------------------------------


class _TextParser(HTMLParser):
    """Collects the text of some HTML, a space for every tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pieces.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)


def plain_text(markup: str) -> str:
    """The text of ``markup``: tags dropped, entities decoded, white space collapsed.

    Examples
    --------
    >>> plain_text("<b>3 of 4</b> calls&nbsp;failed<ul><li>a</li><li>b &amp; c</li></ul>")
    '3 of 4 calls failed a b & c'
    """
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.pieces).split())


def _number(column: str, value: Any) -> str:
    if pd.isna(value):
        return MISSING
    if column in PERCENT_COLUMNS:
        return rate_text(float(value))
    if column in DECIMAL_COLUMNS:
        return f"{value:,.1f}"
    return f"{value:,}"


def _counted(kind: Kind, count: int) -> str:
    """The kind's word for ``count`` entries: ``organization``, ``organizations``."""
    return kind.label if count == 1 else kind.plural.lower()


def _day(stamp: pd.Timestamp) -> str:
    """An ISO day, with the time when the stamp is not at midnight: ``2026-09-14``."""
    return stamp.strftime("%Y-%m-%d %H:%M" if stamp.hour or stamp.minute else "%Y-%m-%d")
