"""The filter panel: its controls wired to what they do; Apply; export.

The controls are built, set and read by :class:`~._controls.PanelControls`, the HTML by
:mod:`._render` (the table by :mod:`._table`), the query by :mod:`._query` and the charts by
:mod:`._charts`. This module holds what happens, and in which order, when the user presses a
button or changes a choice.
"""

from __future__ import annotations

import base64
import datetime as dt
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

from .._constants import DEFAULT_WORKERS
from ..directory import Directory
from ..errors import InvalidParameterError, MetricsError, PartialFetchWarning
from ..fetch import FetchStats
from ..files import write_private
from ..params import check_positive_int, check_timezone
from . import _render
from ._charts import CHARTS, DEFAULT_CHART, METRIC_CHARTS, chart_png, spec_png
from ._controls import PanelControls
from ._metrics import DEFAULT_METRIC, METRIC_CHOICES, fetch_metric, main_columns, panel_source
from ._query import PanelQuery, default_range, make_query, to_date
from ._table import table_html

if TYPE_CHECKING:
    from ..client import MetricsClient
    from ..store import Store

__all__ = ["MetricsPanel"]

#: Added to the status when an Apply fails after an earlier one succeeded.
KEPT = " The chart and table still show the previous result."

ResultCallback: TypeAlias = Callable[[pd.DataFrame], Any]


class MetricsPanel(PanelControls):
    """A filter panel over the metrics: choose, press Apply, read the chart and table.

    The metric chooser picks sessions (with the chart menu), PRs, active users, consumption
    (per billing day) or sessions by category; a filter or breakdown the chosen metric's
    endpoint does not take is disabled, its tooltip saying why.

    Parameters
    ----------
    client, store : MetricsClient, or Store (``store`` also a path, read as of its last sync)
        Where the metrics come from: ``MetricsClient.demo()`` for the synthetic enterprise,
        or a local history store kept by ``mt.sync``, read with no request.
    directory : Directory, optional
        Names for the filters and the breakdown labels. Default: ``client.directory()``,
        loaded once now (four list calls, no metrics call; a store's: the groups it keeps);
        when that fails the panel still opens, shows why, and accepts typed ids.
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
        Initial chart of the sessions, a key of :data:`~metrics_toolkit.widgets.CHARTS`.
    metric : str, default "sessions"
        Initial metric, a key of :data:`~metrics_toolkit.widgets.METRIC_CHOICES`.
    export_dir : str or pathlib.Path, optional
        Where **Export CSV** writes. Default: the current working directory (next to the
        notebook, in Jupyter and Voilà).
    workers : int, default ``_constants.DEFAULT_WORKERS``
        Calls in flight at once during a fetch.

    Raises
    ------
    InvalidParameterError
        For a malformed initial choice, naming it.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole panel (also shown by displaying the panel itself); its controls are the
        attributes :class:`~metrics_toolkit.widgets._controls.PanelControls` lists.
    query : PanelQuery
        The current choices; setting it moves the controls and fetches nothing.
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
        client: MetricsClient | Store | None = None,
        *,
        store: Store | str | Path | None = None,
        directory: Directory | None = None,
        start: dt.date | dt.datetime | str | None = None,
        end: dt.date | dt.datetime | str | None = None,
        freq: str = "week",
        tz: str = "UTC",
        by: str | None = None,
        chart: str = DEFAULT_CHART,
        metric: str = DEFAULT_METRIC,
        export_dir: str | Path | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.source = panel_source(client, store)
        self.client = getattr(self.source, "client", None)  # None when reading a store
        self.workers = check_positive_int(workers, "workers")
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.frame: pd.DataFrame | None = None
        self.error: Exception | None = None
        self.last_query: PanelQuery | None = None
        self.last_export: Path | None = None
        self._callbacks: list[ResultCallback] = []
        self._status = _render.Status()
        self._problems: list[_render.Markup] = []
        zone = check_timezone(tz)
        first_day, last_day = default_range(self.source.now(), zone, freq)
        initial = make_query(
            start=to_date(start, "start", zone) if start is not None else first_day,
            end=to_date(end, "end", zone) if end is not None else last_day,
            freq=freq,
            tz=zone,
            by=by,
            chart=chart,
            metric=metric,
        )
        self._directory_error: Exception | None = None
        if directory is None:
            try:
                directory = self.source.directory()
            except MetricsError as error:
                self._directory_error = error
        super().__init__(directory)
        self.query = initial
        self._wire()
        if self._directory_error is not None:
            self._show_problem(
                "The directory could not be loaded, so there are no names to choose from "
                "(typed ids still work)",
                self._directory_error,
            )

    # -- wiring ---------------------------------------------------------------------------------

    def _wire(self) -> None:
        """Connect the controls: Apply fetches, the chart menu redraws, edits mark pending."""
        for message in (self.problems, self.download_link):
            message.layout.display = "none"
            message.observe(_hide_when_empty, names="value")
        self.apply_button.on_click(self._guarded(lambda _: self.apply()))
        self.export_button.on_click(self._guarded(lambda _: self.export_csv()))
        self.chart_menu.observe(self._guarded(lambda _: self._redraw()), names="value")
        self.metric_menu.observe(self._guarded(lambda _: self._limit_to_metric()), names="value")
        self.tz_box.observe(self._guarded(lambda _: self._check_tz()), names="value")
        self.breakdown.observe(self._guarded(lambda _: self._forget_ids()), names="value")
        choices = (self.start_picker, self.end_picker, self.freq_buttons, self.tz_box)
        menus = (self.metric_menu, self.breakdown, self.playbook_menu)
        for control in (*choices, *menus, *self.selectors.values(), *self.typed.values()):
            control.observe(self._guarded(lambda _: self._mark_pending()), names="value")

    def _guarded(self, handler: Callable[[Any], Any]) -> Callable[[Any], None]:
        """``handler`` with every exception shown in the panel instead of the browser console."""

        def run(event: Any) -> None:
            try:
                handler(event)
            except Exception as error:
                self._show_problem("Something went wrong", error)

        return run

    # -- public ---------------------------------------------------------------------------------

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
        self._problems.clear()
        if self._directory_error is not None:
            self._problems.append(_render.NO_DIRECTORY)
        self.problems.value = "".join(self._problems)
        self.download_link.value = ""
        self.apply_button.disabled = True
        try:
            return self._apply()
        except InvalidParameterError as error:
            self._nothing_fetched("a choice is invalid (see below).", "Check this choice", error)
        except Exception as error:
            self.progress.bar_style = "danger"
            self._nothing_fetched("see the message below.", "The fetch failed", error)
        finally:
            self.apply_button.disabled = False
        return None

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
        name = _export_name(self.last_query)
        target = Path(path) if path is not None else (self.export_dir or Path.cwd()) / name
        text = self.frame.to_csv()
        target = write_private(target, text).resolve()  # account data: owner only
        self.last_export = target
        self._show_status(*self._status.parts, written=(str(target), len(self.frame)))
        payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
        self.download_link.value = _render.download_html(target.name, payload)
        return target

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        return _render.plain_text(self.status.value)

    @property
    def problem_text(self) -> str:
        """The error or warning lines as plain text ("" when there are none)."""
        return _render.plain_text(self.problems.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Show the panel when it is the value of a notebook cell (or passed to display)."""
        return self.widget._repr_mimebundle_(**kwargs)

    # -- apply, step by step --------------------------------------------------------------------

    def _apply(self) -> pd.DataFrame:
        query = self.query
        self.progress.value, self.progress.max, self.progress.bar_style = 0, 1, "info"
        self._show_status("Fetching…")
        frame = _fetch(self, query)
        stats: FetchStats | None = frame.attrs.get("fetch_stats")
        self.frame, self.last_query = frame, query
        self.progress.value = self.progress.max
        self.progress.bar_style = "warning" if stats is not None and stats.failed else "success"
        self._show_status(*_status_parts(frame, query.metric))
        if stats is not None and stats.failures:
            self._add_problem(_render.failures_html(stats, query.by, self.directory))
        self.table_output.outputs = (_table_display(frame, query.metric),)
        self._redraw()  # last: a new chart means the whole result is shown
        self.export_button.disabled = False
        self.pending_hint.value = ""
        for callback in list(self._callbacks):
            try:
                callback(frame)
            except Exception as error:
                self._show_problem(f"The on_result callback {_name_of(callback)} failed", error)
        return frame

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done
        self._show_status(f"Fetching… {done:,} of {total:,} calls")

    def _redraw(self) -> None:
        """Draw the chosen chart from the last frame (no fetch)."""
        if self.frame is None or self.last_query is None:
            return
        label, draw = _chart_of(self.last_query.metric, self.chart_menu.value)
        try:
            png = draw(self.frame)
        except Exception as error:
            self.chart_output.outputs = ()
            self._show_problem(f"The chart {label!r} could not be drawn", error)
            return
        self.chart_output.outputs = (_chart_display(png, label),)

    # -- messages -------------------------------------------------------------------------------

    def _nothing_fetched(self, why: str, what: str, error: Exception) -> None:
        kept = KEPT if self.frame is not None else ""
        self._show_status(f"Nothing fetched: {why}{kept}")
        self._show_problem(what, error)

    def _mark_pending(self) -> None:
        if self.frame is not None:
            self.pending_hint.value = _render.PENDING_HINT

    def _show_status(self, *parts: str, written: tuple[str, int] | None = None) -> None:
        self._status = _render.Status(parts, written)
        self.status.value = _render.status_html(self._status)

    def _add_problem(self, markup: _render.Markup) -> None:
        self._problems.append(markup)
        self.problems.value = "".join(self._problems)

    def _show_problem(self, what: str, error: Exception) -> None:
        self.error = error
        self._add_problem(_render.problem_html(what, error))


# -- helpers --------------------------------------------------------------------------------------


def _export_name(query: PanelQuery) -> str:
    """``metrics_<freq>_<start>_<end>[_by-<kind>].csv``; another metric than sessions
    ``<metric>_...`` instead of ``metrics_...``."""
    head = "metrics" if query.metric == DEFAULT_METRIC else query.metric
    name = f"{head}_{query.freq}_{query.start.isoformat()}_{query.end.isoformat()}"
    return f"{name}_by-{query.by}.csv" if query.by is not None else f"{name}.csv"


def _fetch(panel: MetricsPanel, query: PanelQuery) -> pd.DataFrame:
    """Fetch the query's metric as the panel does: progress shown, failed calls marked."""
    settings: dict[str, Any] = {
        "workers": panel.workers,
        "progress": False,
        "on_progress": panel._on_progress,
        "on_error": "mark",
        "directory": panel.directory,
        "allow_unknown_ids": True,  # typed ids the directory does not list are kept
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialFetchWarning)
        return fetch_metric(panel.source, query.metric, query.fetch_options(), **settings)


def _status_parts(frame: pd.DataFrame, metric: str) -> tuple[str, ...]:
    """The status line of a result: the metric, its shape, and its calls when counted."""
    stats: FetchStats | None = frame.attrs.get("fetch_stats")
    summary = () if stats is None else (stats.summary(),)
    return (METRIC_CHOICES[metric].label, _render.shape_text(frame), *summary)


def _chart_of(metric: str, chart: str) -> tuple[str, Callable[[pd.DataFrame], bytes]]:
    """The label and the drawing (to PNG) of a metric's chart: the chart menu's for sessions,
    the metric's own (:data:`~._charts.METRIC_CHARTS`) for the others."""
    if metric == DEFAULT_METRIC:
        return CHARTS[chart].label, lambda frame: chart_png(frame, chart)
    spec = METRIC_CHARTS[metric]
    return spec.label, lambda frame: spec_png(frame, spec)


def _display(data: Mapping[str, str]) -> dict[str, Any]:
    """An output of an ``ipywidgets.Output``: what displaying ``data`` in it records."""
    return {"output_type": "display_data", "data": dict(data), "metadata": {}}


def _chart_display(png: bytes, label: str) -> dict[str, Any]:
    """A chart as an output: the PNG image, and its name for a console."""
    image = base64.b64encode(png).decode("ascii")
    return _display({"image/png": image, "text/plain": f"<{label} chart>"})


def _table_display(frame: pd.DataFrame, metric: str) -> dict[str, Any]:
    """The table of a result as an output: HTML, and text for a console."""
    columns = None if metric == DEFAULT_METRIC else main_columns(frame, metric)
    markup, text = table_html(frame, columns)
    return _display({"text/html": markup, "text/plain": text})


def _hide_when_empty(change: Mapping[str, Any]) -> None:
    """Take an empty message line out of the layout (no blank gap), and put it back."""
    change["owner"].layout.display = None if change["new"] else "none"


def _name_of(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)
