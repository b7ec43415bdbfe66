"""ipywidgets panels over the client and the charts.

:class:`MetricsPanel` is a filter panel: the metric to look at (:data:`METRIC_CHOICES`:
sessions, PRs, active users, consumption, categories), date range, frequency, time zone,
breakdown, filters (organizations, users, service users, playbook; those the metric's endpoint
does not take disabled, their tooltips saying why) and the chart to show. Nothing is fetched while
the choices change; **Apply** fetches (one call per bucket and group, with a progress bar), then
shows the chart, a table of the main columns (for a breakdown, a block of columns per group)
and a status line. Errors of any kind are shown in the panel, never lost in the browser
console. The current choices are a :class:`PanelQuery` (``panel.query``), the last result is
``panel.frame``, and ``panel.on_result(callback)`` runs a callback on every new frame.

>>> from metrics_toolkit import MetricsClient
>>> from metrics_toolkit.widgets import MetricsPanel
>>> panel = MetricsPanel(MetricsClient.demo(), freq="week")  # doctest: +SKIP
>>> panel  # in a notebook: shows the panel  # doctest: +SKIP

The chart menu is :data:`CHARTS`: each entry a chart function of :mod:`metrics_toolkit.charts`
and its options, so a renamed chart fails at import and under mypy, not when drawn.

The package's modules, each only looking back along this list:

- ``_charts``: :class:`ChartSpec`, :data:`CHARTS` (the sessions' chart menu), the other
  metrics' charts and :func:`draw_chart`;
- ``_metrics``: :data:`METRIC_CHOICES`, what each endpoint takes (the filters and breakdowns
  the panel disables and why) and how each is fetched;
- ``_query``: :class:`PanelQuery`, its checks and the default date range;
- ``_render``: the panel's HTML and text, pure (no ipywidgets);
- ``_table``: the table of a result (pivoted for a breakdown of a few groups), pure;
- ``_controls``: the widgets, laid out, set from a query and read back;
- ``panel``: :class:`MetricsPanel`, the controls wired to what they do.
"""

from __future__ import annotations

from ._charts import CHARTS, ChartSpec, draw_chart
from ._controls import BREAKDOWN_LABELS, COMMON_TIME_ZONES
from ._metrics import METRIC_CHOICES, MetricChoice
from ._query import FREQUENCIES, PanelQuery
from ._render import FREQUENCY_WORDS as FREQUENCY_WORDS  # importable, not in __all__
from .panel import MetricsPanel

__all__ = [
    "BREAKDOWN_LABELS",
    "CHARTS",
    "COMMON_TIME_ZONES",
    "FREQUENCIES",
    "METRIC_CHOICES",
    "ChartSpec",
    "MetricChoice",
    "MetricsPanel",
    "PanelQuery",
    "draw_chart",
]
