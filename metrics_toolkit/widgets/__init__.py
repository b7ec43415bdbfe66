"""ipywidgets panels over the client and the charts (see :mod:`metrics_toolkit.widgets.panel`)."""

from __future__ import annotations

from .panel import (
    BREAKDOWN_LABELS,
    CHARTS,
    COMMON_TIME_ZONES,
    FREQUENCIES,
    ChartSpec,
    MetricsPanel,
    PanelQuery,
    draw_chart,
)
from .panel import FREQUENCY_WORDS as FREQUENCY_WORDS  # importable, not in __all__

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
