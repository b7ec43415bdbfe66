"""The panel's HTML and text, pure (no ipywidgets): failures, status line, problems.

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

import pandas as pd

from .._vocabulary import KINDS, Kind
from ..directory import Directory
from ..errors import MetricsError
from ..fetch import FetchStats

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
]

# -- colours and styles ---------------------------------------------------------------------------

#: Errors: a refused choice, a failed fetch, an exception.
ERROR_COLOR = "#b00020"
#: Warnings: failed calls, an unavailable directory.
WARNING_COLOR = "#8a5300"
#: Lists and preformatted text inside a message.
LIST_CSS = "margin:2px 0"
PRE_CSS = "white-space:pre-wrap;margin:2px 0"

# -- words and limits -----------------------------------------------------------------------------

#: How the status line names the buckets of each frequency.
FREQUENCY_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
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
    starts = frame["bucket_start"] if "bucket_start" in frame.columns else frame.index
    buckets = starts.nunique()
    freq = str(frame.attrs.get("freq"))
    text = f"{buckets} {FREQUENCY_WORDS.get(freq, freq)} bucket"
    text += "s" if buckets != 1 else ""
    by = frame.attrs.get("group_by")
    if by is not None:
        kind = KINDS[by]
        count = frame[kind.id_field].nunique()
        text += f" x {count} {_counted(kind, count)}"
    if "partial" in frame.columns and frame["partial"].any():
        text += " (the last bucket is partial: it ends after now)"
    return text


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


def _counted(kind: Kind, count: int) -> str:
    """The kind's word for ``count`` entries: ``organization``, ``organizations``."""
    return kind.label if count == 1 else kind.plural.lower()


def _day(stamp: pd.Timestamp) -> str:
    """An ISO day, with the time when the stamp is not at midnight: ``2026-09-14``."""
    return stamp.strftime("%Y-%m-%d %H:%M" if stamp.hour or stamp.minute else "%Y-%m-%d")
