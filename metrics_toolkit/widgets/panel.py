"""ipywidgets panels over the client and the charts.

:class:`MetricsPanel` is a filter panel: date range, frequency, time zone, breakdown, filters
(organizations, users, service users, playbook) and the chart to show. Nothing is fetched while
the choices change; **Apply** fetches (one call per bucket and group, with a progress bar), then
shows the chart, a table of the main columns and a status line. Errors of any kind are shown in
the panel, never lost in the browser console. The current choices are a :class:`PanelQuery`
(``panel.query``), the last result is ``panel.frame``, and ``panel.on_result(callback)`` runs a
callback on every new frame.

>>> from metrics_toolkit import MetricsClient
>>> from metrics_toolkit.widgets import MetricsPanel
>>> panel = MetricsPanel(MetricsClient.demo(), freq="week")  # doctest: +SKIP
>>> panel  # in a notebook: shows the panel  # doctest: +SKIP

The charts are looked up by name in :data:`CHARTS` (a registry of
:mod:`metrics_toolkit.charts` functions, imported when first drawn), so renaming a chart
function is a one-line change here.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib
import io
import re
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import ipywidgets as widgets
import pandas as pd
import pydantic
from matplotlib.figure import Figure

from ..client import MetricsClient
from ..directory import Directory, looks_like_id
from ..errors import InvalidParameterError, MetricsError
from ..fetch import DEFAULT_WORKERS, FetchStats, PartialFetchWarning, fetch_series
from ..files import write_private
from ..frames import GROUP_COLUMNS
from ..params import check_ids, check_positive_int, check_timezone

__all__ = [
    "BREAKDOWN_LABELS",
    "CHARTS",
    "COMMON_TIME_ZONES",
    "FREQUENCIES",
    "ChartSpec",
    "MetricsPanel",
    "PanelQuery",
    "draw_chart",
]

# -- defaults and choices ---------------------------------------------------------------------

#: The frequencies the panel offers.
FREQUENCIES = ("day", "week", "month", "quarter")
FREQUENCY_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
Freq: TypeAlias = Literal["day", "week", "month", "quarter"]
#: Breakdown kinds and their labels in the panel (None: no breakdown).
BREAKDOWN_LABELS: dict[str | None, str] = {
    None: "none",
    "org": "organization",
    "user": "user",
    "service_user": "service user",
    "playbook": "playbook",
}
Breakdown: TypeAlias = Literal["org", "user", "service_user", "playbook"]
#: Time zones offered in the time-zone box (any other IANA name may be typed).
COMMON_TIME_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
#: The value of "none" (breakdown) and "any" (playbook) in the menus: a dropdown's None is
#: "nothing selected" to ipywidgets.
NO_CHOICE = ""
#: Default range, through today: this many whole buckets of the initial frequency before the
#: current one, so that the first bucket is whole.
DEFAULT_BUCKETS_BEFORE = {"day": 27, "week": 12, "month": 5, "quarter": 3}
#: Rows shown in the table (the CSV export has them all).
TABLE_MAX_ROWS = 200
#: Columns of the table, when the frame has them, and their headings.
TABLE_COLUMNS = {
    "sessions_created_count": "sessions",
    "sessions_with_merged_prs_count": "with merged PR",
    "merged_pr_rate": "merged-PR rate",
    "avg_acus_per_session": "ACUs per session",
    "acus_total": "ACUs total",
    "playbook_share": "playbook share",
    "search_share": "search share",
}
#: Table columns shown as percentages.
PERCENT_COLUMNS = ("merged_pr_rate", "playbook_share", "search_share")
#: Table columns shown with one decimal.
DECIMAL_COLUMNS = ("avg_acus_per_session", "acus_total")
#: Row flags named in the table's "note" column.
NOTE_FLAGS = ("failed", "partial", "clipped")
#: The table's style: compact, headings allowed to wrap.
TABLE_STYLE = (
    "<style>.mt-table-data{border-collapse:collapse;font-size:12px}"
    ".mt-table-data th,.mt-table-data td{padding:2px 8px;text-align:right;white-space:nowrap}"
    ".mt-table-data thead th{white-space:normal;vertical-align:bottom}</style>"
)
#: Resolution of the chart images, dots per inch.
CHART_DPI = 100
#: Failed buckets named one by one in the panel; the rest are counted.
MAX_NAMED_FAILURES = 8
#: Groups named per failed bucket; the rest are counted.
MAX_NAMED_GROUPS = 10
#: Rows shown by each filter list.
FILTER_ROWS = 6
#: Separators of the typed ids or names.
TYPED_SEPARATORS = re.compile(r"[,;\n]+")
#: The filter widgets, as (query field, directory kind, label).
FILTERS = (
    ("org_ids", "org", "Organizations"),
    ("user_ids", "user", "Users"),
    ("service_user_ids", "service_user", "Service users"),
)


# -- charts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    """One entry of the chart menu: a function of :mod:`metrics_toolkit.charts` and options.

    Parameters
    ----------
    label : str
        What the menu shows.
    function : str
        The function's name in :mod:`metrics_toolkit.charts` (looked up when drawn).
    options : mapping
        Keyword arguments passed to it besides the frame and ``ax``.
    figsize : tuple of float
        Figure size in inches (width, height).
    """

    label: str
    function: str
    options: Mapping[str, Any] = field(default_factory=dict)
    figsize: tuple[float, float] = (10.0, 4.8)


#: The charts the panel offers, by key (``PanelQuery.chart``), in menu order.
CHARTS: dict[str, ChartSpec] = {
    "sessions_over_time": ChartSpec("Sessions over time", "sessions_over_time"),
    "origin_mix": ChartSpec("Origins (counts)", "origin_mix"),
    "origin_share": ChartSpec("Origins (shares)", "origin_mix", {"share": True}),
    "size_mix": ChartSpec("Sizes (counts)", "size_mix"),
    "size_share": ChartSpec("Sizes (shares)", "size_mix", {"share": True}),
    "merge_rate": ChartSpec("Merged-PR rate", "merge_rate"),
    "merge_rate_by_size": ChartSpec("Merged-PR rate by size", "merge_rate", {"by_size": True}),
    "acus": ChartSpec("ACUs", "acus"),
    "kpi_summary": ChartSpec("KPI summary", "kpi_summary", figsize=(10.0, 2.4)),
}
DEFAULT_CHART = "sessions_over_time"


def draw_chart(frame: pd.DataFrame, chart: str = DEFAULT_CHART) -> Figure:
    """Draw one chart of :data:`CHARTS` on a new figure.

    The figure is not registered with pyplot, so it never needs closing and never shows up
    in a later ``plt.show()``.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame, as :func:`~metrics_toolkit.fetch_series` returns it.
    chart : str, default "sessions_over_time"
        A key of :data:`CHARTS`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameterError
        For an unknown ``chart``.
    """
    spec = CHARTS.get(chart)
    if spec is None:
        raise InvalidParameterError("chart", f"got {chart!r}; expected one of {list(CHARTS)}")
    charts = importlib.import_module("metrics_toolkit.charts")
    function = getattr(charts, spec.function)
    figure = Figure(figsize=spec.figsize, layout="constrained")
    function(frame, ax=figure.subplots(), **spec.options)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


# -- the query --------------------------------------------------------------------------------


class PanelQuery(pydantic.BaseModel):
    """The panel's choices: what **Apply** fetches and which chart it draws.

    Every id list is None (no filter) or a non-empty tuple of ids. Build one to set the
    panel's controls (``panel.query = PanelQuery(...)``), or read ``panel.query``.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    start: dt.date
    """First day included, in ``tz``."""
    end: dt.date
    """Last day included, in ``tz`` (the fetch covers ``[start, end + 1 day)``)."""
    freq: Freq = "week"
    """Bucket frequency."""
    tz: str = "UTC"
    """IANA time zone whose calendar the days and buckets follow."""
    by: Breakdown | None = None
    """Break down by this kind (one call per group and bucket), or None."""
    ids: tuple[str, ...] | None = None
    """The groups of the breakdown. None: the ids of that kind's filter when set, else every
    entry of that kind in the directory."""
    org_ids: tuple[str, ...] | None = None
    """Keep sessions of these organizations."""
    user_ids: tuple[str, ...] | None = None
    """Keep sessions of these users."""
    service_user_ids: tuple[str, ...] | None = None
    """Keep sessions of these service users."""
    playbook_id: str | None = None
    """Keep sessions created with this playbook."""
    chart: str = DEFAULT_CHART
    """A key of :data:`CHARTS`."""

    @pydantic.field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @pydantic.field_validator("chart")
    @classmethod
    def _known_chart(cls, value: str) -> str:
        if value not in CHARTS:
            raise InvalidParameterError(
                "chart", f"got {value!r}; expected one of {', '.join(CHARTS)}"
            )
        return value

    @pydantic.field_validator("ids", "org_ids", "user_ids", "service_user_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        if value is None or (isinstance(value, list | tuple) and not value):
            return None
        checked = check_ids(value, info.field_name or "ids")
        return None if checked is None else tuple(checked)

    @pydantic.field_validator("playbook_id", mode="before")
    @classmethod
    def _playbook(cls, value: Any) -> Any:
        return None if value == "" else value

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> PanelQuery:
        if self.end < self.start:
            raise InvalidParameterError(
                "end",
                f"the last day {self.end.isoformat()} is before the first day "
                f"{self.start.isoformat()}",
            )
        if self.ids is not None and self.by is None:
            raise InvalidParameterError("ids", "ids are the groups of a breakdown; set by too")
        return self

    def fetch_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~metrics_toolkit.fetch_series` for this query.

        Returns
        -------
        dict
            ``start`` and ``end`` (ISO dates read in ``tz``; ``end`` is the day after the last
            day, as the range is half-open), ``freq``, ``tz``, ``by``, ``ids`` and the filters.
        """
        return {
            "start": self.start.isoformat(),
            "end": (self.end + dt.timedelta(days=1)).isoformat(),
            "freq": self.freq,
            "tz": self.tz,
            "by": self.by,
            "ids": None if self.ids is None else list(self.ids),
            "org_ids": None if self.org_ids is None else list(self.org_ids),
            "user_ids": None if self.user_ids is None else list(self.user_ids),
            "service_user_ids": (
                None if self.service_user_ids is None else list(self.service_user_ids)
            ),
            "playbook_id": self.playbook_id,
        }


def make_query(**choices: Any) -> PanelQuery:
    """Build a :class:`PanelQuery`, turning a validation error into one naming the field.

    Raises
    ------
    InvalidParameterError
        For the first choice pydantic refuses, named as the query names it.
    """
    try:
        return PanelQuery(**choices)
    except pydantic.ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        cause = (problem.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidParameterError):
            raise cause from None
        name = ".".join(str(part) for part in problem["loc"]) or "query"
        raise InvalidParameterError(
            name, f"{problem['msg']} (got {problem.get('input')!r:.60})"
        ) from None


# -- the panel --------------------------------------------------------------------------------

ResultCallback: TypeAlias = Callable[[pd.DataFrame], Any]


class MetricsPanel:
    """A filter panel over session metrics: choose, press Apply, read the chart and table.

    Parameters
    ----------
    client : MetricsClient
        Where the metrics come from (``MetricsClient.demo()`` for the synthetic enterprise).
    directory : Directory, optional
        Names for the filters and the breakdown labels. Default: ``client.directory()``,
        loaded once now (four list calls, no metrics call); when that fails the panel still
        opens, shows why, and accepts typed ids.
    start, end : date, datetime, or ISO string, optional
        First and last day included. Default: through today (in ``tz``), from the start of
        the 27th day, 12th week, 5th month or 3rd quarter before the current one (by ``freq``),
        so that the first bucket is whole.
    freq : {"day", "week", "month", "quarter"}, default "week"
    tz : str, default "UTC"
        IANA time zone of the calendar.
    by : {"org", "user", "service_user", "playbook"}, optional
        Initial breakdown.
    chart : str, default "sessions_over_time"
        Initial chart, a key of :data:`CHARTS`.
    export_dir : str or pathlib.Path, optional
        Where **Export CSV** writes. Default: the current working directory (next to the
        notebook, in Jupyter and Voilà).
    workers : int, default 8
        Calls in flight at once during a fetch.

    Raises
    ------
    InvalidParameterError
        For a malformed initial choice, naming it.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (also shown by displaying the panel itself).
    frame : pandas.DataFrame or None
        The last result; None before the first successful Apply.
    error : Exception or None
        The last error shown in the panel (None after a clean Apply).

    Examples
    --------
    >>> panel = MetricsPanel(MetricsClient.demo(), freq="month")  # doctest: +SKIP
    >>> panel.on_result(lambda frame: print(len(frame), "rows"))  # doctest: +SKIP
    >>> frame = panel.apply()  # the same as clicking Apply  # doctest: +SKIP
    """

    def __init__(
        self,
        client: MetricsClient,
        *,
        directory: Directory | None = None,
        start: dt.date | dt.datetime | str | None = None,
        end: dt.date | dt.datetime | str | None = None,
        freq: str = "week",
        tz: str = "UTC",
        by: str | None = None,
        chart: str = DEFAULT_CHART,
        export_dir: str | Path | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.client = client
        self.workers = check_positive_int(workers, "workers")
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.frame: pd.DataFrame | None = None
        self.error: Exception | None = None
        self.last_query: PanelQuery | None = None
        self.last_export: Path | None = None
        self._callbacks: list[ResultCallback] = []
        self._ids: tuple[str, ...] | None = None
        self._directory_error: Exception | None = None
        zone = check_timezone(tz)
        first_day, last_day = _default_range(client, zone, freq)
        initial = make_query(
            start=_to_date(start, "start") if start is not None else first_day,
            end=_to_date(end, "end") if end is not None else last_day,
            freq=freq,
            tz=zone,
            by=by,
            chart=chart,
        )
        if directory is None:
            try:
                directory = client.directory()
            except MetricsError as error:
                self._directory_error = error
        self.directory = directory
        self._build()
        self._set_controls(initial)
        self._wire()
        if self._directory_error is not None:
            self._show_problem(
                "The directory could not be loaded, so there are no names to choose from "
                "(typed ids still work)",
                self._directory_error,
            )

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        """Create every control and output; nothing is wired yet."""
        label_width = {"description_width": "76px"}
        narrow, wide = widgets.Layout(width="232px"), widgets.Layout(width="464px")
        self.start_picker = widgets.DatePicker(description="From", style=label_width, layout=narrow)
        self.end_picker = widgets.DatePicker(
            description="Through", tooltip="the last day included", style=label_width, layout=narrow
        )
        self.freq_buttons = widgets.ToggleButtons(
            options=[(name, name) for name in FREQUENCIES],
            style={"button_width": "70px"},
            layout=widgets.Layout(width="auto"),
        )
        self.tz_box = widgets.Combobox(
            options=list(COMMON_TIME_ZONES),
            ensure_option=False,
            continuous_update=False,
            description="Time zone",
            placeholder="an IANA name, e.g. Europe/Berlin",
            style=label_width,
            layout=wide,
        )
        self.tz_hint = widgets.HTML()
        self.breakdown = widgets.Dropdown(
            options=[(label, kind or NO_CHOICE) for kind, label in BREAKDOWN_LABELS.items()],
            description="Breakdown",
            style=label_width,
            layout=widgets.Layout(width="300px"),
        )
        self.chart_menu = widgets.Dropdown(
            options=[(spec.label, key) for key, spec in CHARTS.items()],
            description="Chart",
            style=label_width,
            layout=widgets.Layout(width="300px"),
        )
        self.playbook_menu = widgets.Dropdown(
            options=[("any", NO_CHOICE), *self._choices("playbook")],
            description="Playbook",
            style=label_width,
            layout=wide,
        )
        self.selectors: dict[str, widgets.SelectMultiple] = {}
        self.typed: dict[str, widgets.Text] = {}
        columns = []
        for name, kind, label in FILTERS:
            options = self._choices(kind)
            selector = widgets.SelectMultiple(
                options=options,
                rows=FILTER_ROWS,
                layout=widgets.Layout(width="auto"),
            )
            typed = widgets.Text(
                placeholder="or type ids / names, comma-separated",
                continuous_update=False,
                layout=widgets.Layout(width="auto"),
            )
            selector.add_class(f"mt-{name.replace('_', '-')}")
            typed.add_class(f"mt-{name.replace('_', '-')}-typed")
            self.selectors[name] = selector
            self.typed[name] = typed
            heading = widgets.HTML(f"<b>{label}</b> <small>(none selected = all)</small>")
            columns.append(
                widgets.VBox(
                    [heading, selector, typed], layout=widgets.Layout(flex="1 1 0", min_width="0")
                )
            )
        self.apply_button = widgets.Button(
            description="Apply",
            button_style="primary",
            icon="refresh",
            tooltip="Fetch the metrics for these choices",
        )
        self.export_button = widgets.Button(
            description="Export CSV",
            icon="download",
            disabled=True,
            tooltip="Write the current result (every column) as CSV and offer a download",
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, description="Progress", layout=widgets.Layout(width="260px")
        )
        self.pending_hint = widgets.HTML()
        self.status = widgets.HTML("Choose, then press <b>Apply</b>.")
        self.problems = widgets.HTML()
        self.download_link = widgets.HTML()
        self.chart_output = widgets.Output(layout=widgets.Layout(min_height="120px"))
        self.table_output = widgets.Output(
            layout=widgets.Layout(max_height="320px", overflow="auto")
        )
        for control, css in (
            (self.start_picker, "mt-start"),
            (self.end_picker, "mt-end"),
            (self.freq_buttons, "mt-freq"),
            (self.tz_box, "mt-tz"),
            (self.breakdown, "mt-breakdown"),
            (self.chart_menu, "mt-chart-menu"),
            (self.playbook_menu, "mt-playbook"),
            (self.apply_button, "mt-apply"),
            (self.export_button, "mt-export"),
            (self.progress, "mt-progress"),
            (self.status, "mt-status"),
            (self.problems, "mt-problems"),
            (self.download_link, "mt-download"),
            (self.chart_output, "mt-chart"),
            (self.table_output, "mt-table"),
        ):
            control.add_class(css)
        freq_label = widgets.HTML(
            '<div style="text-align:right;padding-right:8px">Frequency</div>',
            layout=widgets.Layout(width="84px"),
        )
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        choices = widgets.VBox(
            [
                widgets.HBox(
                    [self.start_picker, self.end_picker, freq_label, self.freq_buttons],
                    layout=row,
                ),
                widgets.HBox([self.tz_box, self.breakdown, self.tz_hint], layout=row),
                widgets.HBox([self.playbook_menu, self.chart_menu], layout=row),
            ]
        )
        buttons = widgets.HBox(
            [self.apply_button, self.progress, self.export_button, self.pending_hint],
            layout=widgets.Layout(align_items="center", grid_gap="12px"),
        )
        self.widget = widgets.VBox(
            [
                choices,
                widgets.HBox(columns, layout=widgets.Layout(width="100%", grid_gap="8px")),
                buttons,
                self.status,
                self.problems,
                self.download_link,
                self.chart_output,
                self.table_output,
            ],
            layout=widgets.Layout(width="100%", max_width="1040px", grid_gap="8px"),
        )
        self.widget.add_class("mt-panel")

    def _choices(self, kind: str) -> list[tuple[str, str]]:
        """(label, id) pairs of a kind, sorted by label; repeated names get their id."""
        if self.directory is None:
            return []
        names = self.directory.names(kind)
        counts: dict[str, int] = {}
        for name in names.values():
            counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
        pairs = [
            (name if counts[name.casefold()] == 1 else f"{name} ({entry_id})", entry_id)
            for entry_id, name in names.items()
        ]
        return sorted(pairs, key=lambda pair: pair[0].casefold())

    def _wire(self) -> None:
        """Connect the controls: Apply fetches, the chart menu redraws, edits mark pending."""
        for message in (self.problems, self.download_link):
            message.layout.display = "none"
            message.observe(_hide_when_empty, names="value")
        self.apply_button.on_click(self._guarded(lambda _: self.apply()))
        self.export_button.on_click(self._guarded(lambda _: self.export_csv()))
        self.chart_menu.observe(self._guarded(lambda _: self._redraw()), names="value")
        self.tz_box.observe(self._guarded(lambda _: self._check_tz()), names="value")
        self.breakdown.observe(self._guarded(lambda _: self._forget_ids()), names="value")
        for control in (
            self.start_picker,
            self.end_picker,
            self.freq_buttons,
            self.tz_box,
            self.breakdown,
            self.playbook_menu,
            *self.selectors.values(),
            *self.typed.values(),
        ):
            control.observe(self._guarded(lambda _: self._mark_pending()), names="value")

    def _guarded(self, handler: Callable[[Any], Any]) -> Callable[[Any], None]:
        """``handler`` with every exception shown in the panel instead of the browser console."""

        def run(event: Any) -> None:
            try:
                handler(event)
            except Exception as error:
                self._show_problem("Something went wrong", error)

        return run

    # -- public ---------------------------------------------------------------------------

    @property
    def query(self) -> PanelQuery:
        """The current choices, names resolved to ids.

        Setting it moves the controls (ids the directory knows are selected by name, others
        are typed), and fetches nothing.

        Raises
        ------
        InvalidParameterError
            When a choice is invalid (an unknown time zone, an empty date, a typed name the
            directory does not know, ...), naming the choice.
        """
        filters = {name: self._filter_ids(name, kind) for name, kind, _ in FILTERS}
        by = self.breakdown.value or None
        return make_query(
            start=_required_date(self.start_picker.value, "start"),
            end=_required_date(self.end_picker.value, "end"),
            freq=self.freq_buttons.value,
            tz=(self.tz_box.value or "").strip(),
            by=by,
            ids=self._ids if by is not None else None,
            playbook_id=self.playbook_menu.value or None,
            chart=self.chart_menu.value,
            **filters,
        )

    @query.setter
    def query(self, query: PanelQuery) -> None:
        self._set_controls(query)

    def on_result(self, callback: ResultCallback, *, remove: bool = False) -> ResultCallback:
        """Run ``callback(frame)`` after every successful Apply (or stop, with ``remove``).

        An exception in the callback is shown in the panel; the result stays.

        Returns
        -------
        callable
            ``callback``, so that this can decorate a function.
        """
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)
        return callback

    def apply(self) -> pd.DataFrame | None:
        """Fetch for the current choices and show the result: what clicking **Apply** does.

        Progress, the chart, the table and a status line appear in the panel; so does any
        error, which is kept on ``panel.error`` and never raised. A partly failed fetch shows
        what it could and names the missing buckets.

        Returns
        -------
        pandas.DataFrame or None
            The new frame (also ``panel.frame``), or None when the fetch failed.
        """
        self.error = None
        self.problems.value = ""
        self.download_link.value = ""
        if self._directory_error is not None:
            self.problems.value = (
                '<div style="color:#8a5300">The directory is unavailable, so there are no '
                "names: filters take typed ids, and groups are shown by id.</div>"
            )
        self.apply_button.disabled = True
        try:
            return self._apply()
        except InvalidParameterError as error:
            self.status.value = "Nothing fetched: a choice is invalid (see below)." + self._kept()
            self._show_problem("Check this choice", error)
            return None
        except Exception as error:
            self.progress.bar_style = "danger"
            self.status.value = "Nothing fetched: see the message below." + self._kept()
            self._show_problem("The fetch failed", error)
            return None
        finally:
            self.apply_button.disabled = False

    def export_csv(self, path: str | Path | None = None) -> Path:
        """Write the last result, every column, as CSV; offer it as a download link too.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            Default: ``metrics_<freq>_<start>_<end>[_by-<kind>].csv`` in ``export_dir``
            (the current working directory unless set).

        Returns
        -------
        pathlib.Path
            The file written, absolute.

        Raises
        ------
        InvalidParameterError
            Before the first successful Apply (there is nothing to export).
        """
        if self.frame is None or self.last_query is None:
            raise InvalidParameterError("frame", "nothing to export yet: press Apply first")
        target = Path(path) if path is not None else self._export_path(self.last_query)
        text = self.frame.to_csv()
        target = write_private(target, text).resolve()  # account data: owner only
        self.last_export = target
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.status.value = re.sub(r" &middot; CSV written to .*$", "", self.status.value)
        self.status.value += (
            f" &middot; CSV written to <code>{html.escape(str(target))}</code> "
            f"({len(self.frame):,} rows)"
        )
        self.download_link.value = (
            f'<a download="{html.escape(target.name)}" href="data:text/csv;base64,{payload}">'
            f"Download {html.escape(target.name)}</a> (the same file, through the browser)"
        )
        return target

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        return _plain(self.status.value)

    @property
    def problem_text(self) -> str:
        """The error or warning lines as plain text ("" when there are none)."""
        return _plain(self.problems.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Show the panel when it is the value of a notebook cell (or passed to display)."""
        return self.widget._repr_mimebundle_(**kwargs)

    # -- apply, step by step --------------------------------------------------------------

    def _apply(self) -> pd.DataFrame:
        query = self.query
        options = query.fetch_options()
        self.progress.value = 0
        self.progress.max = 1
        self.progress.bar_style = "info"
        self.status.value = "Fetching&hellip;"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialFetchWarning)
            frame = fetch_series(
                self.client,
                options.pop("start"),
                options.pop("end"),
                options.pop("freq"),
                **options,
                workers=self.workers,
                progress=False,
                on_progress=self._on_progress,
                on_error="mark",
                directory=self.directory,
            )
        stats: FetchStats = frame.attrs["fetch_stats"]
        self.frame = frame
        self.last_query = query
        self.progress.bar_style = "warning" if stats.failed else "success"
        self.status.value = html.escape(self._summary(frame, stats))
        if stats.failures:
            self._show_failures(stats)
        self._redraw()
        self._show_table(frame)
        self.export_button.disabled = False
        self.pending_hint.value = ""
        for callback in list(self._callbacks):
            try:
                callback(frame)
            except Exception as error:
                self._show_problem(f"The on_result callback {_name_of(callback)} failed", error)
        return frame

    def _kept(self) -> str:
        if self.frame is None:
            return ""
        return " The chart and table still show the previous result."

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.status.value = f"Fetching&hellip; {done:,} of {total:,} calls"

    def _summary(self, frame: pd.DataFrame, stats: FetchStats) -> str:
        buckets = frame.index.nunique()
        groups = ""
        if frame.attrs.get("group_by") is not None:
            kind = BREAKDOWN_LABELS[frame.attrs["group_by"]]
            count = frame[GROUP_COLUMNS[frame.attrs["group_by"]]].nunique()
            groups = f" x {count} {kind}{'s' if count != 1 else ''}"
        partial = (
            " (the last bucket is partial: it ends after now)" if _any(frame, "partial") else ""
        )
        return (
            f"{buckets} {FREQUENCY_WORDS.get(str(frame.attrs.get('freq')), '')} "
            f"bucket{'s' if buckets != 1 else ''}{groups}{partial}: "
            f"{stats.from_cache} from cache, {stats.fetched} fetched, {stats.failed} failed "
            f"in {stats.seconds:.1f} s"
        )

    def _show_failures(self, stats: FetchStats) -> None:
        """Name the missing buckets (and groups), then each kind of error once."""
        by = self.last_query.by if self.last_query is not None else None
        missing: dict[tuple[pd.Timestamp, pd.Timestamp], list[str]] = {}
        errors: dict[str, tuple[int, str]] = {}
        for failure in stats.failures:
            groups = missing.setdefault((failure.bucket.start, failure.bucket.end), [])
            if failure.group is not None and by is not None:
                directory = self.directory
                groups.append(directory.name(by, failure.group) if directory else failure.group)
            kind = type(failure.error).__name__
            status = getattr(failure.error, "status_code", None)
            key = kind if status is None else f"{kind} (HTTP {status})"
            count, example = errors.get(key, (0, f"{kind}: {failure.error}"))
            errors[key] = (count + 1, example)
        lines = []
        for (start, end), groups in sorted(missing.items()):
            line = f"{_day(start)} to {_day(end)}"
            if groups and by is not None:
                names = sorted(groups, key=str.casefold)
                shown = ", ".join(names[:MAX_NAMED_GROUPS])
                if len(names) > MAX_NAMED_GROUPS:
                    shown += f" and {len(names) - MAX_NAMED_GROUPS} more"
                plural = "s" if len(names) != 1 else ""
                line += f" &mdash; {BREAKDOWN_LABELS[by]}{plural} " + html.escape(shown)
            lines.append(line)
        if len(lines) > MAX_NAMED_FAILURES:
            lines[MAX_NAMED_FAILURES:] = [
                f"&hellip; and {len(lines) - MAX_NAMED_FAILURES} more buckets"
            ]
        causes = "".join(
            f"<li>{count} x <small>{html.escape(example)}</small></li>"
            for count, example in errors.values()
        )
        self.problems.value += (
            '<div style="color:#8a5300">'
            f"<b>{stats.failed} of {stats.calls} calls failed</b>; their rows are marked "
            "<code>failed</code> (no data, not zero). Press Apply again to retry them."
            "<br>Missing:<ul style='margin:2px 0'>"
            + "".join(f"<li>{line}</li>" for line in lines)
            + f"</ul>Because of:<ul style='margin:2px 0'>{causes}</ul></div>"
        )

    def _redraw(self) -> None:
        """Draw the chosen chart from the last frame (no fetch)."""
        if self.frame is None:
            return
        chart = self.chart_menu.value
        try:
            figure = draw_chart(self.frame, chart)
            png = _png(figure)
        except Exception as error:
            self.chart_output.outputs = ()
            self._show_problem(f"The chart {CHARTS[chart].label!r} could not be drawn", error)
            return
        self.chart_output.outputs = (
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(png).decode("ascii"),
                    "text/plain": f"<{CHARTS[chart].label} chart>",
                },
                "metadata": {},
            },
        )

    def _show_table(self, frame: pd.DataFrame) -> None:
        table = _table(frame)
        note = ""
        if len(table) > TABLE_MAX_ROWS:
            note = (
                f"<p><small>The first {TABLE_MAX_ROWS} of {len(table):,} rows; "
                "Export CSV has them all.</small></p>"
            )
            table = table.head(TABLE_MAX_ROWS)
        text_columns = [
            position
            for position, column in enumerate(table.columns, start=1)
            if column in ("bucket start", "note", *BREAKDOWN_LABELS.values())
        ]
        align = "".join(
            f".mt-table-data td:nth-child({n}),.mt-table-data th:nth-child({n}){{text-align:left}}"
            for n in text_columns
        )
        markup = (
            TABLE_STYLE
            + f"<style>{align}</style>"
            + table.to_html(border=0, na_rep="–", index=False, classes="mt-table-data")
        )
        self.table_output.outputs = (
            {
                "output_type": "display_data",
                "data": {"text/html": markup + note, "text/plain": table.to_string(index=False)},
                "metadata": {},
            },
        )

    # -- reading and setting the controls ---------------------------------------------------

    def _filter_ids(self, name: str, kind: str) -> tuple[str, ...] | None:
        """The selected ids, then the typed ones resolved; None when there are none."""
        chosen = list(self.selectors[name].value)
        for value in TYPED_SEPARATORS.split(self.typed[name].value or ""):
            value = value.strip()
            if value:
                chosen.append(self._resolve(name, kind, value))
        return tuple(dict.fromkeys(chosen)) or None

    def _resolve(self, name: str, kind: str, value: str) -> str:
        """The id of a typed id or name; an unknown value that looks like an id is kept."""
        if self.directory is None:
            return value
        try:
            return self.directory.id(kind, value)
        except InvalidParameterError as error:
            if looks_like_id(value):
                return value
            message = str(error).split(": ", 1)[-1]
            raise InvalidParameterError(name, message) from None

    def _set_controls(self, query: PanelQuery) -> None:
        self.start_picker.value = query.start
        self.end_picker.value = query.end
        self.freq_buttons.value = query.freq
        self.tz_box.value = query.tz
        self.breakdown.value = query.by or NO_CHOICE
        self._ids = query.ids
        self.chart_menu.value = query.chart
        for name, _, _ in FILTERS:
            ids = getattr(query, name) or ()
            known = {value for _, value in self.selectors[name].options}
            self.selectors[name].value = tuple(i for i in ids if i in known)
            self.typed[name].value = ", ".join(i for i in ids if i not in known)
        playbooks = {value for _, value in self.playbook_menu.options}
        if query.playbook_id is not None and query.playbook_id not in playbooks:
            self.playbook_menu.options = [
                *self.playbook_menu.options,
                (query.playbook_id, query.playbook_id),
            ]
        self.playbook_menu.value = query.playbook_id or NO_CHOICE

    def _check_tz(self) -> None:
        try:
            check_timezone((self.tz_box.value or "").strip())
        except InvalidParameterError as error:
            self.tz_hint.value = (
                f'<span style="color:#b00020">{html.escape(str(error).split(": ", 1)[-1])}</span>'
            )
        else:
            self.tz_hint.value = ""

    def _forget_ids(self) -> None:
        """A breakdown chosen in the panel takes its groups from the filters, not from code."""
        self._ids = None

    def _mark_pending(self) -> None:
        if self.frame is not None:
            self.pending_hint.value = "<i>Choices changed: press Apply to fetch them.</i>"

    def _show_problem(self, what: str, error: Exception) -> None:
        self.error = error
        if isinstance(error, MetricsError):
            detail = (
                f"<pre style='white-space:pre-wrap;margin:2px 0'>{html.escape(str(error))}</pre>"
            )
        else:
            trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            detail = (
                f"<pre style='white-space:pre-wrap;margin:2px 0'>{html.escape(str(error))}</pre>"
                f"<details><summary>traceback</summary><pre>{html.escape(trace)}</pre></details>"
            )
        self.problems.value += (
            f'<div style="color:#b00020"><b>{html.escape(what)}</b> '
            f"({html.escape(type(error).__name__)}):{detail}</div>"
        )

    def _export_path(self, query: PanelQuery) -> Path:
        name = f"metrics_{query.freq}_{query.start.isoformat()}_{query.end.isoformat()}"
        if query.by is not None:
            name += f"_by-{query.by}"
        return (self.export_dir or Path.cwd()) / f"{name}.csv"


# -- helpers ----------------------------------------------------------------------------------


def _hide_when_empty(change: Mapping[str, Any]) -> None:
    """Take an empty message line out of the layout (no blank gap), and put it back."""
    change["owner"].layout.display = None if change["new"] else "none"


def _default_range(client: MetricsClient, tz: str, freq: str) -> tuple[dt.date, dt.date]:
    """Through today in ``tz``, from the start of the bucket ``DEFAULT_BUCKETS_BEFORE`` before
    the current one (12 weeks before this week's Monday, for weeks)."""
    today = client.now().tz_convert(tz).date()
    before = DEFAULT_BUCKETS_BEFORE.get(freq, DEFAULT_BUCKETS_BEFORE["week"])
    if freq == "day":
        return today - dt.timedelta(days=before), today
    if freq in ("month", "quarter"):
        months = 1 if freq == "month" else 3
        current = (today.year * 12 + today.month - 1) // months * months
        first = current - before * months
        return dt.date(first // 12, first % 12 + 1, 1), today
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=before), today


def _to_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise InvalidParameterError(name, f"got {value!r}; expected a date or an ISO date string")


def _required_date(value: Any, name: str) -> dt.date:
    if value is None:
        raise InvalidParameterError(name, "no date chosen; pick one in the date box")
    return _to_date(value, name)


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    """The main columns, readable: dates in the frame's zone, rates as percentages."""
    index = pd.DatetimeIndex(frame.index)
    table = pd.DataFrame(
        {"bucket start": index.strftime("%Y-%m-%d %H:%M" if _has_time(index) else "%Y-%m-%d")},
        index=frame.index,
    )
    for kind, id_column in GROUP_COLUMNS.items():
        for column in (f"{kind}_name", id_column):
            if column in frame.columns and len(table.columns) == 1:
                table[BREAKDOWN_LABELS[kind]] = frame[column].astype(str)
    notes = [
        ", ".join(flag for flag in NOTE_FLAGS if flag in frame.columns and bool(row[flag]))
        for _, row in frame.iterrows()
    ]
    for column, heading in TABLE_COLUMNS.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if column in PERCENT_COLUMNS:
            table[heading] = ["–" if pd.isna(v) else f"{v:.1%}" for v in values]
        elif column in DECIMAL_COLUMNS:
            table[heading] = ["–" if pd.isna(v) else f"{v:,.1f}" for v in values]
        else:
            table[heading] = ["–" if pd.isna(v) else f"{v:,}" for v in values]
    table["note"] = notes
    return table.reset_index(drop=True)


def _has_time(index: pd.DatetimeIndex) -> bool:
    return bool(((index.hour != 0) | (index.minute != 0)).any())


def _any(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].any())


def _day(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M" if stamp.hour or stamp.minute else "%Y-%m-%d")


def _name_of(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)


def _plain(markup: str) -> str:
    text = re.sub(r"<[^>]+>", " ", markup)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
