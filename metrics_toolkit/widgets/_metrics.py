"""What the panel can look at: the metric chooser's entries, what each endpoint takes, and
how each is fetched.

Every entry names its metric of the family's declarations (``_endpoints.METRICS``): the filters
and breakdowns the panel offers for it are read from there, never listed twice. Pure: no
ipywidgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._endpoints import METRICS, Endpoint
from .._vocabulary import (
    ACTIVE_USERS,
    ACUS,
    ACUS_BY_PRODUCT,
    BREAKDOWNS,
    KIND_OF_FILTER,
    KINDS,
    PRODUCT_LABELS,
    PRS_CREATED,
    PRS_MERGED,
    PRS_OPENED,
    product_label,
)
from ..client import MetricsClient
from ..errors import InvalidParameterError
from ..labels import and_join
from ..periods import CONSUMPTION_BY
from ..report.source import ApiSource, StoreSource, open_source
from ..store import Store

__all__ = [
    "DEFAULT_METRIC",
    "METRIC_CHOICES",
    "MetricChoice",
    "breakdown_reason",
    "check_metric",
    "fetch_metric",
    "filter_reason",
    "main_columns",
    "panel_source",
    "takes_breakdown",
    "takes_filter",
]


@dataclass(frozen=True)
class MetricChoice:
    """One entry of the metric chooser.

    Parameters
    ----------
    label : str
        What the chooser shows.
    subject : str
        The start of a sentence about what the endpoint takes: ``"PRs take"``,
        ``"consumption takes"``.
    metric : str
        Its metric in the family's declarations (a key of ``_endpoints.METRICS``).
    columns : mapping of str to str
        The main columns, drawn and tabled, and their headings (empty: the session metrics'
        own charts and table).
    breakdowns : tuple of str, optional
        The kinds it can be broken down by; default: those whose filter the endpoint takes.
    """

    label: str
    subject: str
    metric: str
    columns: Mapping[str, str] = field(default_factory=dict)
    breakdowns: tuple[str, ...] | None = None

    @property
    def endpoint(self) -> Endpoint[Any]:
        """Its enterprise endpoint, whose ``filters`` say what it takes."""
        endpoint = METRICS[self.metric].enterprise
        assert endpoint is not None  # every chosen metric exists at enterprise scope
        return endpoint

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds it can be broken down by, in menu order."""
        if self.breakdowns is not None:
            return self.breakdowns
        return tuple(kind for kind in KINDS if BREAKDOWNS[kind] in self.endpoint.filters)


#: What the chooser offers, by key (``PanelQuery.metric``), in menu order.
METRIC_CHOICES: dict[str, MetricChoice] = {
    "sessions": MetricChoice("Sessions", "sessions take", "sessions"),
    "prs": MetricChoice(
        "PRs",
        "PRs take",
        "prs",
        {PRS_CREATED: "PRs created", PRS_MERGED: "of them merged", PRS_OPENED: "of them open now"},
    ),
    "active_users": MetricChoice(
        "Active users", "active users take", "active_users", {ACTIVE_USERS: "active users"}
    ),
    "consumption": MetricChoice(
        "Consumption",
        "consumption takes",
        "consumption",
        {ACUS: "ACUs", **{f"{ACUS_BY_PRODUCT}.{name}": "" for name in PRODUCT_LABELS}},
        breakdowns=tuple(CONSUMPTION_BY),
    ),
    "categories": MetricChoice(
        "Categories",
        "sessions by category take",
        "categories",
        {
            "category": "category",
            "subcategory": "subcategory",
            "sessions_count": "sessions",
            ACUS: "ACUs",
        },
        breakdowns=(),
    ),
}
DEFAULT_METRIC = "sessions"


def check_metric(metric: str) -> str:
    """``metric`` when it is a key of :data:`METRIC_CHOICES`.

    Raises
    ------
    InvalidParameterError
        Naming ``metric`` and the keys, for any other value.
    """
    if metric not in METRIC_CHOICES:
        keys = ", ".join(METRIC_CHOICES)
        raise InvalidParameterError("metric", f"got {metric!r}; expected one of {keys}")
    return metric


def takes_filter(metric: str, filter_param: str) -> bool:
    """Whether the metric's endpoint takes this filter (``"org_ids"``, ``"playbook_id"``, ...)."""
    return filter_param in METRIC_CHOICES[metric].endpoint.filters


def takes_breakdown(metric: str, by: str | None) -> bool:
    """Whether the metric can be broken down by this kind (None, no breakdown: always)."""
    return by is None or by in METRIC_CHOICES[metric].kinds


def _takes(choice: MetricChoice) -> str:
    """``"PRs take organizations, users, ..."``, ``"consumption takes no filter"``."""
    filters = [KINDS[KIND_OF_FILTER[name]].plural.lower() for name in choice.endpoint.filters]
    if not filters:
        return f"{choice.subject} no filter"
    return f"{choice.subject} only the filter of {and_join(filters)}"


def filter_reason(metric: str, filter_param: str) -> str | None:
    """Why a filter is off for this metric (a tooltip), or None when its endpoint takes it.

    Examples
    --------
    >>> filter_reason("consumption", "user_ids")
    'consumption takes no filter: this filter is off for it'
    >>> filter_reason("prs", "user_ids") is None
    True
    """
    if takes_filter(metric, filter_param):
        return None
    return f"{_takes(METRIC_CHOICES[metric])}: this filter is off for it"


def breakdown_reason(metric: str) -> str | None:
    """Why some breakdowns are missing from the menu for this metric, or None when none is.

    Examples
    --------
    >>> breakdown_reason("categories")
    'sessions by category cannot be broken down'
    """
    choice = METRIC_CHOICES[metric]
    if not choice.kinds:
        return f"{choice.subject.rsplit(' ', 1)[0]} cannot be broken down"
    missing = [KINDS[kind].label for kind in KINDS if kind not in choice.kinds]
    if not missing:
        return None
    kept = and_join([KINDS[kind].label for kind in choice.kinds])
    return f"{choice.label} can be broken down by {kept} only, not by {and_join(missing)}"


def main_columns(frame: pd.DataFrame, metric: str) -> dict[str, str]:
    """The metric's main columns the frame holds, with their headings (products by name)."""
    columns = dict(METRIC_CHOICES[metric].columns)
    prefix = f"{ACUS_BY_PRODUCT}."
    for column in frame.columns:
        if str(column).startswith(prefix):
            columns[column] = f"ACUs {product_label(str(column)[len(prefix) :])}"
    return {column: heading for column, heading in columns.items() if column in frame.columns}


def fetch_metric(
    client: MetricsClient | ApiSource | StoreSource,
    metric: str,
    options: Mapping[str, Any],
    **common: Any,
) -> pd.DataFrame:
    """Fetch one metric of the family as the panel shows it.

    Parameters
    ----------
    client : MetricsClient, ApiSource or StoreSource
        The API through a client, or a source (:mod:`~metrics_toolkit.report.source`): a
        local history store gives the same frames without a request.
    metric : str
        A key of :data:`METRIC_CHOICES`.
    options : mapping
        :meth:`PanelQuery.fetch_options` of the query (filters the metric does not take
        already None).
    **common
        What :func:`~metrics_toolkit.fetch_series` takes besides (``workers``,
        ``on_progress``, ``directory``, ...); consumption takes none of it.

    Returns
    -------
    pandas.DataFrame
        :func:`~metrics_toolkit.fetch_series` (``metric=``) for sessions, PRs and active users,
        :func:`~metrics_toolkit.fetch_consumption` for consumption (billing days),
        :func:`~metrics_toolkit.category_frame` for categories.
    """
    source = open_source(client) if isinstance(client, MetricsClient) else client
    wanted = {name: value for name, value in options.items() if value is not None}
    if metric == "consumption":
        by = wanted.get("by")
        ids = wanted.get("ids")
        directory = common.get("directory")
        if by is not None and ids is None and directory is not None:
            ids = list(directory.names(by))
        frame = source.consumption(wanted["start"], wanted["end"], by=by, ids=ids)
        if by is not None and directory is not None:  # named as the series' groups are
            kind = KINDS[by]
            names = [directory.name(by, str(group)) for group in frame[kind.id_field]]
            frame.insert(list(frame.columns).index(kind.id_field) + 1, kind.name_column, names)
        return frame
    if metric == "categories":
        return source.categories(**wanted, **common)
    return source.series(**wanted, **common, metric=METRIC_CHOICES[metric].metric)


def panel_source(client: Any, store: Any) -> ApiSource | StoreSource:
    """Where the panel reads: the store when one is given (by keyword, or as the first
    argument), else the client's API.

    Raises
    ------
    InvalidParameterError
        Naming ``client`` when neither is given, or ``store`` for what is not a store.
    """
    if isinstance(client, Store) and store is None:
        client, store = None, client
    return open_source(client, store)
