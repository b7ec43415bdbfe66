"""ACU consumption per billing day, by product, and the billing cycles.

Billing days run from 08:00 UTC to 08:00 UTC (midnight PST, all year), not calendar days of
any zone: a window is answered as the billing days it overlaps. Per-organization rows hold
only Devin's ACUs (the other products are not tied to an organization), so the organizations'
totals do not add up to the account's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

from pydantic import Field

from .._vocabulary import BILLING_DAY, product_label
from ._base import APIModel, MetricsAnswer, _utc_window
from .directory import Page

__all__ = [
    "AcusByProduct",
    "Consumption",
    "ConsumptionByDate",
    "ConsumptionCycle",
    "ConsumptionCyclePage",
]


class AcusByProduct(APIModel):
    """One billing day's ACUs by product; a product without product-level data reports 0.0.
    Unknown products are kept."""

    __pydantic_extra__: dict[str, float | None] = Field(init=False)  # type: ignore[assignment]
    entry_label: ClassVar[Callable[[str], str] | None] = staticmethod(product_label)

    devin: float
    """ACUs of Devin sessions."""
    cascade: float
    """ACUs of Cascade (not tied to an organization: 0.0 in an organization's rows)."""
    terminal: float
    """ACUs of Terminal (not tied to an organization: 0.0 in an organization's rows)."""
    review: float | None = None
    """ACUs of Review (newer schema: None when not sent)."""


class ConsumptionByDate(APIModel):
    """The ACUs of one billing day (08:00 UTC to 08:00 UTC)."""

    date: int
    """The billing day's start, Unix seconds (08:00 UTC)."""
    acus: float
    """ACUs (Agent Compute Units) consumed that day: the sum of its products."""
    acus_by_product: AcusByProduct | None = None
    """The same by product; None in the oldest schema, which did not send it."""

    @property
    def day(self) -> tuple[dt.datetime, dt.datetime]:
        """The billing day ``[start, end)`` as tz-aware UTC datetimes (24 hours from
        :attr:`date`)."""
        window = _utc_window((self.date, self.date + BILLING_DAY))
        assert window is not None
        return window


class Consumption(MetricsAnswer):
    """ACUs per billing day over a window, for the account, one organization, user, service
    user or session.

    The window is snapped to billing days: the days it overlaps are listed (days without use
    with 0). Without a window the server answers for the current billing cycle (the v2 API's
    documented default; v3 does not say). ``total_acus`` is the sum of the days' ``acus``.

    Examples
    --------
    >>> answer = Consumption.model_validate({"total_acus": 3.5, "consumption_by_date": [
    ...     {"date": 1795420800, "acus": 3.5, "acus_by_product": {
    ...         "devin": 3.0, "cascade": 0.5, "terminal": 0.0}}]})
    >>> answer.window_text()
    '[2026-11-23 08:00, 2026-11-24 08:00) UTC'
    """

    total_acus: float
    """ACUs (Agent Compute Units) of every listed billing day."""
    consumption_by_date: list[ConsumptionByDate]
    """One row per billing day, oldest first."""

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The billing days answered, from the first day's start to the last one's end, as
        tz-aware UTC datetimes; without any day, the window asked for (None when unknown)."""
        days = [row.date for row in self.consumption_by_date]
        if days:
            return _utc_window((min(days), max(days) + BILLING_DAY))
        return super().window


class ConsumptionCycle(APIModel):
    """One monthly billing cycle ``[after, before)``, Unix seconds (08:00 UTC bounds)."""

    after: int
    """The cycle's start, Unix seconds."""
    before: int
    """The cycle's end (the next cycle's start), Unix seconds; the current cycle's is still
    ahead."""

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The cycle ``[start, end)`` as tz-aware UTC datetimes."""
        window = _utc_window((self.after, self.before))
        assert window is not None
        return window


#: A page of billing cycles (oldest first; the current, unfinished cycle last).
ConsumptionCyclePage = Page[ConsumptionCycle]
