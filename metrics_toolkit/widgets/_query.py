"""The panel's choices as data: :class:`PanelQuery`, its checks, and the default date range."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeAlias, get_args

import pandas as pd
import pydantic

from .._vocabulary import KINDS
from ..buckets import bucket_floor
from ..errors import InvalidParameterError
from ..params import check_ids, check_timezone, to_timestamp
from ._charts import DEFAULT_CHART, check_chart
from ._metrics import (
    DEFAULT_METRIC,
    breakdown_reason,
    check_metric,
    filter_reason,
    takes_breakdown,
)

__all__ = [
    "DEFAULT_BUCKETS_BEFORE",
    "FREQUENCIES",
    "PanelQuery",
    "default_range",
    "make_query",
    "required_date",
    "to_date",
]

Freq: TypeAlias = Literal["day", "week", "month", "quarter"]
#: The frequencies the panel offers.
FREQUENCIES: tuple[Freq, ...] = get_args(Freq)
#: Default range, through today: this many whole buckets of the initial frequency before the
#: current one, so that the first bucket is whole.
DEFAULT_BUCKETS_BEFORE: dict[str, int] = {"day": 27, "week": 12, "month": 5, "quarter": 3}
#: The filters that take a list of ids (query fields), in menu order.
ID_FILTERS = tuple(kind.filter_param for kind in KINDS.values() if not kind.single)


class PanelQuery(pydantic.BaseModel):
    """The panel's choices: what **Apply** fetches and which chart it draws.

    Every id list is None (no filter) or a non-empty tuple of ids. Build one to set the
    panel's controls (``panel.query = PanelQuery(...)``), or read ``panel.query``.

    Examples
    --------
    >>> query = PanelQuery(start="2026-11-02", end="2026-11-08", by="org", org_ids=[])
    >>> query.by, query.org_ids, query.fetch_options()["end"]
    ('org', None, '2026-11-09')
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    start: dt.date
    """First day included, in ``tz``; given as a date or as the API takes a time
    (:func:`to_date`: ISO 8601 only, ``"1.9.2026"`` is refused)."""
    end: dt.date
    """Last day included, in ``tz`` (the fetch covers ``[start, end + 1 day)``); given as
    ``start``."""
    freq: Freq = "week"
    """Bucket frequency."""
    tz: str = "UTC"
    """IANA time zone whose calendar the days and buckets follow."""
    by: str | None = None
    """Break down by this kind (a key of ``_vocabulary.KINDS``; one call per group and
    bucket), or None."""
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
    """A key of :data:`~metrics_toolkit.widgets.CHARTS` (the chart of ``"sessions"``)."""
    metric: str = DEFAULT_METRIC
    """What to look at, a key of :data:`~metrics_toolkit.widgets.METRIC_CHOICES`: its
    endpoint must take every filter and the breakdown set."""

    @pydantic.model_validator(mode="before")
    @classmethod
    def _days(cls, data: Any) -> Any:
        """``start`` and ``end`` read by :func:`to_date` in ``tz``, as the API reads them."""
        if not isinstance(data, dict):
            return data
        zone = data.get("tz", "UTC")
        zone = zone if isinstance(zone, str) else "UTC"  # not a name: the tz check says so
        days = {name: to_date(data[name], name, zone) for name in ("start", "end") if name in data}
        return {**data, **days}

    @pydantic.field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @pydantic.field_validator("by")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in KINDS:
            raise InvalidParameterError("by", f"got {value!r}; expected one of {', '.join(KINDS)}")
        return value

    @pydantic.field_validator("chart")
    @classmethod
    def _known_chart(cls, value: str) -> str:
        return check_chart(value)

    @pydantic.field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return check_metric(value)

    @pydantic.field_validator("ids", *ID_FILTERS, mode="before")
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
        for name in (*ID_FILTERS, "playbook_id"):
            reason = filter_reason(self.metric, name)
            if getattr(self, name) is not None and reason is not None:
                raise InvalidParameterError(name, reason)
        if self.by is not None and not takes_breakdown(self.metric, self.by):
            raise InvalidParameterError("by", breakdown_reason(self.metric) or self.by)
        return self

    def fetch_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~metrics_toolkit.fetch_series` for this query.

        Returns
        -------
        dict
            ``start`` and ``end`` (ISO dates read in ``tz``; ``end`` is the day after the last
            day, as the range is half-open), ``freq``, ``tz``, ``by``, ``ids`` and the filters
            (lists of ids, or the one playbook id).
        """
        options: dict[str, Any] = {
            "start": self.start.isoformat(),
            "end": (self.end + dt.timedelta(days=1)).isoformat(),
            "freq": self.freq,
            "tz": self.tz,
            "by": self.by,
            "ids": _listed(self.ids),
        }
        for kind in KINDS.values():
            value = getattr(self, kind.filter_param)
            options[kind.filter_param] = value if kind.single else _listed(value)
        return options


def make_query(**choices: Any) -> PanelQuery:
    """Build a :class:`PanelQuery`, turning a validation error into one naming the field.

    Raises
    ------
    InvalidParameterError
        For the first choice pydantic refuses, named as the query names it.

    Examples
    --------
    >>> make_query(start="2026-11-02", end="2026-11-08", freq="fortnight")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    metrics_toolkit.errors.InvalidParameterError: freq: Input should be 'day', ... (got 'fortnight')
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


def default_range(now: pd.Timestamp, tz: str, freq: str) -> tuple[dt.date, dt.date]:
    """Through today in ``tz``, from the start of the bucket ``DEFAULT_BUCKETS_BEFORE[freq]``
    buckets before the current one, so that the first bucket is whole.

    Parameters
    ----------
    now : pandas.Timestamp
        The current moment, tz-aware (``client.now()``).
    tz : str
        IANA time zone of the calendar.
    freq : str
        One of :data:`FREQUENCIES`; any other value is taken as ``"week"`` (the query then
        refuses it, naming it).

    Returns
    -------
    tuple of datetime.date
        The first and the last day included.

    Examples
    --------
    >>> now = pd.Timestamp("2026-11-25 12:00", tz="UTC")  # a Wednesday
    >>> default_range(now, "UTC", "week")  # 12 weeks before this week's Monday
    (datetime.date(2026, 8, 31), datetime.date(2026, 11, 25))
    >>> default_range(now, "UTC", "quarter")
    (datetime.date(2026, 1, 1), datetime.date(2026, 11, 25))
    """
    freq = freq if freq in DEFAULT_BUCKETS_BEFORE else "week"
    first = bucket_floor(now, freq, tz)
    for _ in range(DEFAULT_BUCKETS_BEFORE[freq]):
        first = bucket_floor(first - pd.Timedelta(seconds=1), freq, tz)
    return first.date(), now.tz_convert(tz).date()


def to_date(value: Any, name: str, tz: str = "UTC") -> dt.date:
    """A day, read as the API reads a point in time (:func:`~metrics_toolkit.params.to_timestamp`).

    Parameters
    ----------
    value : date, datetime, str or int
        A date as it is; a datetime (or pandas.Timestamp) its own date; an ISO 8601 string
        (``"2026-09-01"``, ``"2026-09-01T14:30"``, ``"2026-09-01T14:30+02:00"``) or an int of
        Unix epoch seconds, the day it falls on in ``tz`` (a string without offset is read in
        ``tz``).
    name : str
        The parameter's name, for the error message.
    tz : str, default "UTC"
        IANA time zone of the calendar.

    Raises
    ------
    InvalidParameterError
        Naming ``name``, for whatever the API refuses: ``"2026-09-01junk"``, ``"1.9.2026"``
        (the message gives its ISO readings), ``"2026-09-31"``, another type.

    Examples
    --------
    >>> to_date("2026-09-01", "start"), to_date("2026-09-01T23:30-05:00", "start", "UTC")
    (datetime.date(2026, 9, 1), datetime.date(2026, 9, 2))
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return to_timestamp(value, name, tz).date()


def required_date(value: Any, name: str) -> dt.date:
    """:func:`to_date` of a date box's value, which is None when no date is chosen."""
    if value is None:
        raise InvalidParameterError(name, "no date chosen; pick one in the date box")
    return to_date(value, name)


def _listed(ids: tuple[str, ...] | None) -> list[str] | None:
    return None if ids is None else list(ids)
