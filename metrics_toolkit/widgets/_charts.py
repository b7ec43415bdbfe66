"""The charts the panel offers: each one a chart function and its options, and how to draw it."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import charts
from .._constants import FIGSIZE, KPI_FIGSIZE
from ..errors import InvalidParameterError

__all__ = [
    "CHARTS",
    "DEFAULT_CHART",
    "METRIC_CHARTS",
    "ChartSpec",
    "chart_png",
    "draw_chart",
    "spec_png",
]

#: Resolution of the chart images, dots per inch.
CHART_DPI = 100

#: A chart of :mod:`metrics_toolkit.charts`: ``function(frame, ax=ax, **options) -> Axes``.
ChartFunction: TypeAlias = Callable[..., Axes]


@dataclass(frozen=True)
class ChartSpec:
    """One entry of the chart menu: a chart function and the options it is drawn with.

    Parameters
    ----------
    label : str
        What the menu shows.
    function : callable
        A chart of :mod:`metrics_toolkit.charts` (or any function with its signature:
        ``function(frame, ax=ax, **options)``).
    options : mapping
        Keyword arguments passed to it besides the frame and ``ax``.
    figsize : tuple of float, default ``_constants.FIGSIZE``
        Figure size in inches (width, height).

    Examples
    --------
    >>> spec = ChartSpec("Origins (shares)", charts.origin_mix, {"share": True})
    >>> spec.function.__name__, dict(spec.options), spec.figsize
    ('origin_mix', {'share': True}, (10.0, 4.8))
    """

    label: str
    function: ChartFunction
    options: Mapping[str, Any] = field(default_factory=dict)
    figsize: tuple[float, float] = FIGSIZE


#: The charts the panel offers, by key (``PanelQuery.chart``), in menu order.
CHARTS: dict[str, ChartSpec] = {
    "sessions_over_time": ChartSpec("Sessions over time", charts.sessions_over_time),
    "origin_mix": ChartSpec("Origins (counts)", charts.origin_mix),
    "origin_share": ChartSpec("Origins (shares)", charts.origin_mix, {"share": True}),
    "size_mix": ChartSpec("Sizes (counts)", charts.size_mix),
    "size_share": ChartSpec("Sizes (shares)", charts.size_mix, {"share": True}),
    "merge_rate": ChartSpec("Merged-PR rate", charts.merge_rate),
    "merge_rate_by_size": ChartSpec("Merged-PR rate by size", charts.merge_rate, {"by_size": True}),
    "acus": ChartSpec("ACUs", charts.acus),
    "kpi_summary": ChartSpec("KPI summary", charts.kpi_summary, figsize=KPI_FIGSIZE),
}
DEFAULT_CHART = "sessions_over_time"
#: The chart of each other metric of the panel's chooser (by ``PanelQuery.metric``): the family's
#: own charts, which mark provisional buckets and never sum distinct counts.
METRIC_CHARTS: dict[str, ChartSpec] = {
    "prs": ChartSpec("PR outcomes", charts.pr_outcomes),
    "active_users": ChartSpec("Active users", charts.active_users),
    "consumption": ChartSpec("ACUs by product", charts.consumption_by_product),
    "categories": ChartSpec("Sessions by category", charts.categories),
}


def check_chart(chart: str) -> str:
    """``chart`` when it is a key of :data:`CHARTS`.

    Raises
    ------
    InvalidParameterError
        Naming ``chart`` and the keys, for any other value.
    """
    if chart not in CHARTS:
        raise InvalidParameterError("chart", f"got {chart!r}; expected one of {', '.join(CHARTS)}")
    return chart


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

    Examples
    --------
    >>> draw_chart(pd.DataFrame(), "pie")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    metrics_toolkit.errors.InvalidParameterError: chart: got 'pie'; expected one of ...
    """
    spec = CHARTS[check_chart(chart)]
    figure = Figure(figsize=spec.figsize, layout="constrained")
    spec.function(frame, ax=figure.subplots(), **spec.options)
    return figure


def chart_png(frame: pd.DataFrame, chart: str) -> bytes:
    """:func:`draw_chart` as PNG bytes, at :data:`CHART_DPI`."""
    return spec_png(frame, CHARTS[check_chart(chart)])


def spec_png(frame: pd.DataFrame, spec: ChartSpec) -> bytes:
    """One chart drawn on a new figure (outside pyplot), as PNG bytes at :data:`CHART_DPI`."""
    figure = Figure(figsize=spec.figsize, layout="constrained")
    spec.function(frame, ax=figure.subplots(), **spec.options)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()
