"""The metrics family in the weekly report: adoption, outcomes, cost and use.

:func:`load_family` fetches, through the client, what the report's sections beyond sessions
show; :class:`FamilyReport` turns it into the sentences, the KPI rows and the charts' frames
(pure). The rules of every other part of the report hold here too:

- **Active users are distinct counts**: asked for per week of the report's calendar (one call
  per week), never summed; the 4-week average is the mean of four weekly counts. Monthly and
  daily active users come from the native UTC lists, for stickiness (DAU/MAU).
- **PRs** of a week are the PRs created in it; those merged so far still move for the settle
  period after the week ended, and such a value is followed by ``†``.
- **Consumption** stays in billing days (08:00 UTC), rolled up to billing weeks (Monday 08:00
  UTC); an amount of money appears only when a price per ACU is given, never assumed.
- What exists only at enterprise scope (billing cycles, sessions by category) is left out of
  an organization's report, and :meth:`FamilyReport.scope_note` says so once.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD, MIN_SESSIONS
from .._vocabulary import (
    ACTIVE_USERS,
    ACUS,
    BUCKET_END,
    PRS_CLOSED,
    PRS_CREATED,
    PRS_MERGED,
    PRS_TAKEN_OVER,
)
from ..charts._family import stickiness
from ..client import MetricsClient
from ..combine import combine_groups, rollup
from ..errors import InvalidParameterError
from ..labels import provisional_value, rate_text
from ..summaries import is_provisional
from .changes import _amount_move, _count_move, _rate_move
from .display import HTMLBlock, paragraph
from .kpis import BASELINE_WEEKS
from .source import ApiSource, StoreSource, open_source
from .weeks import shift_week, week_bounds

__all__ = ["FAMILY_KPI_LABELS", "FamilyReport", "check_acu_price", "load_family"]

#: The KPI table's rows beyond sessions, by key: what each counts, in words.
FAMILY_KPI_LABELS: dict[str, str] = {
    ACTIVE_USERS: "Active users (distinct)",
    PRS_MERGED: "PRs merged (of the PRs created)",
    "acus_consumed": "ACUs consumed (billing week)",
}
#: What an organization's report leaves out, in words.
ENTERPRISE_ONLY = "billing cycles and sessions by category"
_UTC = "UTC"
_BILLING_WEEK_START = pd.Timedelta(hours=8)


def check_acu_price(acu_price: Any) -> float | None:
    """A price per ACU: None, or a finite number above 0 (in the user's currency).

    Raises
    ------
    InvalidParameterError
        Naming ``acu_price``, for anything else.
    """
    if acu_price is None:
        return None
    if isinstance(acu_price, bool) or not isinstance(acu_price, int | float):
        raise InvalidParameterError("acu_price", f"got {acu_price!r}; expected a number above 0")
    if not math.isfinite(acu_price) or acu_price <= 0:
        raise InvalidParameterError("acu_price", f"got {acu_price!r}; expected a number above 0")
    return float(acu_price)


@dataclass
class FamilyReport:
    """One week's active users, PRs, consumption and categories (see :func:`load_family`)."""

    week: str
    """The ISO week reported, complete."""
    tz: str
    """The calendar's time zone."""
    now: pd.Timestamp
    """When the data was read."""
    weeks: int
    """Weeks of history in the charts."""
    active: pd.DataFrame
    """Distinct active users per week of the calendar (at least 5 weeks)."""
    daily: pd.DataFrame | None
    """Distinct active users per UTC day (for stickiness); None from a store whose days are
    not UTC days."""
    monthly: pd.DataFrame | None
    """Distinct active users per UTC month; None when :attr:`daily` is."""
    prs: pd.DataFrame
    """PRs created per week and what became of them."""
    consumption: pd.DataFrame
    """ACUs per billing day (08:00 UTC), by product, of the scope."""
    consumption_by_org: pd.DataFrame | None
    """ACUs per billing day by organization (enterprise scope), else None."""
    cycles: list[Any] | None
    """The billing cycles (enterprise scope, from the API), else None."""
    categories: pd.DataFrame | None
    """Sessions by category per week (enterprise scope), else None."""
    session_acus: pd.Series
    """ACUs of the sessions created in each week (the session frame's ``acus``)."""
    enterprise: bool
    """Whether the client is at enterprise scope."""
    acu_price: float | None = None
    """A price per ACU given by the user, else None: no money is shown."""
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD
    """How long after a week ends its merged PRs keep changing."""

    # -- frames of the charts ----------------------------------------------------------------

    @property
    def active_history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`active`."""
        return _tail(self.active, self.weeks)

    @property
    def pr_history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`prs`."""
        return _tail(self.prs, self.weeks)

    @property
    def billing_week(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The billing week (Monday 08:00 UTC) that starts on the report week's Monday."""
        start = week_bounds(self.week, _UTC)[0] + _BILLING_WEEK_START
        return start, start + pd.Timedelta(days=7)

    def consumption_weeks(self, by_org: bool = False) -> pd.DataFrame | None:
        """ACUs per billing week by product (by organization with ``by_org``), the last
        ``weeks`` billing weeks up to the report's."""
        frame = self.consumption_by_org if by_org else self.consumption
        if frame is None:
            return None
        weekly = rollup(frame, "week")
        weekly = weekly[weekly.index < self.billing_week[1]]
        return _tail(weekly, self.weeks)

    @property
    def current_cycle(self) -> Any | None:
        """The billing cycle that holds the moment the consumption was read (None at
        organization scope, or when the server lists no such cycle)."""
        if not self.cycles:
            return None
        read = self.consumption.attrs.get("now")
        moment = int((self.now if read is None else pd.Timestamp(read)).timestamp())
        return next((c for c in self.cycles if c.after <= moment < c.before), None)

    def burn_text(self) -> HTMLBlock:
        """Nothing when the cycle's burn is drawn; else why it is not (enterprise scope)."""
        if not self.enterprise or self.current_cycle is not None:
            return HTMLBlock("")
        if self.cycles is None:
            return paragraph(
                "No billing cycles were read (a local history store keeps none), so the "
                "current cycle's burn is left out."
            )
        return paragraph(
            "The server lists no billing cycle that holds the time the data was read, so "
            "the current cycle's burn is left out."
        )

    # -- numbers ------------------------------------------------------------------------------

    def _position(self, frame: pd.DataFrame) -> int:
        start = week_bounds(self.week, self.tz)[0]
        starts = list(frame.index.unique().sort_values())
        if start not in starts:
            raise InvalidParameterError("week", f"{self.week} is not in the fetched weeks")
        return starts.index(start)

    def _weekly_values(self, frame: pd.DataFrame, column: str) -> pd.Series:
        values = frame[column].astype("float64")
        return values.where(~frame["failed"].astype(bool) & ~frame["partial"].astype(bool))

    def kpis(self) -> pd.DataFrame:
        """The KPI rows beyond sessions, in the columns of
        :func:`~metrics_toolkit.report.weekly_kpis`: active users (the 4-week average is the
        mean of four weekly distinct counts, never a sum of users), PRs merged (provisional
        within the settle period) and ACUs consumed in the billing week."""
        rows: dict[str, dict[str, Any]] = {}
        active = self._weekly_values(self.active, ACTIVE_USERS)
        rows[ACTIVE_USERS] = _kpi_row(active, self._position(self.active))
        merged = self._weekly_values(self.prs, PRS_MERGED)
        at = self._position(self.prs)
        row = _kpi_row(merged, at)
        ends = self.prs[BUCKET_END]
        settling = [
            0 <= i < len(ends) and is_provisional(ends.iloc[i], self.now, self.settle_period)
            for i in (at, at - 1)
        ]
        row["this_week_provisional"] = settling[0]
        row["previous_week_provisional"] = row["four_week_average_provisional"] = settling[1]
        rows[PRS_MERGED] = row
        billing = rollup(self.consumption, "week")
        billing = billing[billing.index < self.billing_week[1]]
        acus = self._weekly_values(billing, ACUS)
        rows["acus_consumed"] = _kpi_row(acus, len(acus) - 1)
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.insert(0, "label", pd.Series(FAMILY_KPI_LABELS))
        table["change"] = table["this_week"] - table["previous_week"]
        table["change_pct"] = _relative(table["change"], table["previous_week"])
        table["change_vs_average"] = table["this_week"] - table["four_week_average"]
        table["change_vs_average_pct"] = _relative(
            table["change_vs_average"], table["four_week_average"]
        )
        for column in ("this_week", "previous_week", "four_week_average"):
            table[f"{column}_provisional"] = table[f"{column}_provisional"].astype(bool)
        table.index.name = "metric"
        return table

    def moves(self, min_sessions: int = MIN_SESSIONS) -> list[tuple[float, str]]:
        """Candidate sentences of "what changed" (the week against the week before): active
        users and PRs created (counts, in standard errors), the share of decided PRs that
        merged (two-proportion z, ``†`` when provisional) and the billing week's ACUs (from a
        10% change); each ``(score, sentence)``, for
        :func:`~metrics_toolkit.report.what_changed`'s ``extra``."""
        kpis = self.kpis()
        active = kpis.loc[ACTIVE_USERS]
        moves = [
            _count_move(
                "Active users",
                float(active["previous_week"]),
                float(active["this_week"]),
                min_sessions,
            )
        ]
        at = self._position(self.prs)
        if at >= 1:
            before, after = self.prs.iloc[at - 1], self.prs.iloc[at]
            moves.append(
                _count_move(
                    "PRs created",
                    float(before[PRS_CREATED]),
                    float(after[PRS_CREATED]),
                    min_sessions,
                )
            )
            decided = [float(row[PRS_MERGED]) + float(row[PRS_CLOSED]) for row in (before, after)]
            marks = (
                bool(is_provisional(before[BUCKET_END], self.now, self.settle_period)),
                bool(is_provisional(after[BUCKET_END], self.now, self.settle_period)),
            )
            counts = (float(before[PRS_MERGED]), decided[0], float(after[PRS_MERGED]), decided[1])
            moves.append(
                _rate_move("The share of decided PRs that merged", counts, min_sessions, marks)
            )
        consumed = kpis.loc["acus_consumed"]
        moves.append(
            _amount_move(
                "ACUs consumed in the billing week",
                float(consumed["previous_week"]),
                float(consumed["this_week"]),
                0,
            )
        )
        return [(move.score, move.sentence) for move in moves if move is not None]

    # -- sentences ------------------------------------------------------------------------

    def notes(self) -> list[str]:
        """How to read adoption and cost: distinct counts, billing weeks, money."""
        money = (
            f"Amounts of money are at the price given, {self.acu_price:,.2f} per ACU."
            if self.acu_price is not None
            else "No amount of money is shown: no ACU price was given (--acu-price, acu_price=)."
        )
        return [
            "Active users are distinct people: a week's count is asked for as such, and "
            "weeks, months or organizations are never added up.",
            "Consumed ACUs are counted in billing days (08:00 UTC to 08:00 UTC), a billing "
            "week from Monday 08:00 UTC; the billing cycle's projection assumes the rest of "
            "the cycle goes on at the rate of its complete days so far.",
            money,
        ]

    @staticmethod
    def heading(text: str, level: int = 3) -> HTMLBlock:
        """A section heading (``<h2>`` to ``<h4>``) shown only when its section is."""
        if level not in (2, 3, 4):
            raise InvalidParameterError("level", f"got {level!r}; expected 2, 3 or 4")
        return HTMLBlock(f"<h{level}>{html.escape(text)}</h{level}>", text)

    def scope_note(self) -> HTMLBlock:
        """At organization scope, once: what the report leaves out and why; else nothing."""
        if self.enterprise:
            return HTMLBlock("")
        return paragraph(
            f"This report covers one organization: {ENTERPRISE_ONLY} exist only at enterprise "
            "scope, so they are left out."
        )

    def adoption_text(self) -> HTMLBlock:
        """Active users of the week against the week before and the 4-week average, and the
        stickiness of the last complete UTC month."""
        row = self.kpis().loc[ACTIVE_USERS]
        first, last = shift_week(self.week, -BASELINE_WEEKS), shift_week(self.week, -1)
        text = (
            f"{_count(row['this_week'])} people were active in {self.week}, against "
            f"{_count(row['previous_week'])} in {last} and {_count(row['four_week_average'])} "
            f"on average over {first} to {last} (the mean of each week's distinct count: a "
            "person active in several weeks counts in each, so weeks are never added up)."
        )
        if self.daily is None or self.monthly is None:
            return paragraph(
                text + " Stickiness (daily over monthly active users) is left out: the store's "
                "days are not UTC days, the calendar of monthly active users."
            )
        ratios = stickiness(self.daily, self.monthly).dropna()
        whole = ~self.monthly["partial"].astype(bool) & ~self.monthly["clipped"].astype(bool)
        months = self.monthly[whole]
        ratios = ratios[ratios.index.isin(months.index)]
        if len(ratios):
            month = pd.Timestamp(ratios.index[-1]).strftime("%B %Y")
            text += (
                f" Stickiness (daily over monthly active users) of {month} (UTC): "
                f"{rate_text(float(ratios.iloc[-1]))}."
            )
        return paragraph(text)

    def outcomes_text(self) -> HTMLBlock:
        """The week's PRs: created, merged, closed, the share of decided PRs that merged
        (a ratio of sums), and taken-over PRs when the server sends them."""
        at = self._position(self.prs)
        row = self.prs.iloc[at]
        provisional = is_provisional(row[BUCKET_END], self.now, self.settle_period)
        merged, closed = float(row[PRS_MERGED]), float(row[PRS_CLOSED])
        share = merged / (merged + closed) if merged + closed else math.nan
        text = (
            f"In {self.week} Devin created {_count(row[PRS_CREATED])} PRs: "
            f"{provisional_value(_count(merged), provisional)} merged and "
            f"{provisional_value(_count(closed), provisional)} closed unmerged so far, so "
            f"{provisional_value(rate_text(share), provisional)} of the decided PRs merged."
        )
        if PRS_TAKEN_OVER in self.prs.columns and not pd.isna(row[PRS_TAKEN_OVER]):
            text += f" {_count(row[PRS_TAKEN_OVER])} PRs were taken over by a person."
        return paragraph(text)

    def cost_text(self) -> HTMLBlock:
        """ACUs per merged PR of the week (the ACUs of the sessions created in it over its
        PRs merged so far), and the cost at the price given, if one was."""
        at = self._position(self.prs)
        week_start = self.prs.index[at]
        acus = float(self.session_acus.get(week_start, math.nan))
        merged = float(self.prs[PRS_MERGED].iloc[at])
        provisional = is_provisional(self.prs[BUCKET_END].iloc[at], self.now, self.settle_period)
        per_pr = acus / merged if merged else math.nan
        value = "–" if math.isnan(per_pr) else f"{per_pr:,.2f}"
        text = (
            f"ACUs per merged PR in {self.week}: {provisional_value(value, provisional)} (the "
            "ACUs of the sessions created in the week over the PRs created in it and merged "
            "so far)."
        )
        if self.acu_price is not None:
            consumed = float(self.kpis()["this_week"].astype(float).loc["acus_consumed"])
            text += (
                f" At the price given, {self.acu_price:,.2f} per ACU, the billing week's "
                f"{_count(consumed)} ACUs cost {consumed * self.acu_price:,.2f}."
            )
        return paragraph(text)


def _count(value: Any) -> str:
    number = float(value)
    return "–" if math.isnan(number) else f"{number:,.0f}"


def _kpi_row(values: pd.Series, at: int) -> dict[str, Any]:
    """A KPI's week, week before and 4-week average (the mean of the four weekly values:
    for a distinct count never a union, for an additive count its sum over 4), NaN where a
    week it needs is missing, partial or failed."""
    this = float(values.iloc[at]) if 0 <= at < len(values) else math.nan
    before = float(values.iloc[at - 1]) if at >= 1 else math.nan
    window = values.iloc[at - BASELINE_WEEKS : at] if at >= BASELINE_WEEKS else values.iloc[:0]
    average = float(window.mean()) if len(window) == BASELINE_WEEKS else math.nan
    if window.isna().any():
        average = math.nan
    return {
        "this_week": this,
        "previous_week": before,
        "four_week_average": average,
        "this_week_provisional": False,
        "previous_week_provisional": False,
        "four_week_average_provisional": False,
    }


def _relative(change: pd.Series, base: pd.Series) -> pd.Series:
    return (change / base.where(base != 0)) * 100


def _tail(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    starts = frame.index.unique().sort_values()[-weeks:]
    result = frame[frame.index.isin(starts)]
    result.attrs = dict(frame.attrs)
    return result


def load_family(
    client: MetricsClient | ApiSource | StoreSource,
    *,
    week: str,
    tz: str,
    weeks: int,
    session_acus: pd.Series,
    org_ids: Sequence[str] | None = None,
    acu_price: float | None = None,
) -> FamilyReport:
    """Fetch the report's active users, PRs, consumption, cycles and categories.

    Parameters
    ----------
    client : MetricsClient, ApiSource or StoreSource
        At enterprise scope, or scoped to one organization (then cycles and categories are
        not asked for); or a source (:mod:`~metrics_toolkit.report.source`): a store gives
        the same frames without a request, no billing cycles, and no active users of several
        organizations (distinct counts are not combined).
    week : str
        The ISO week reported, complete in ``tz``.
    tz : str
        IANA time zone of the calendar (consumption stays in UTC billing days).
    weeks : int
        Weeks of history, 1 to 104 (at least 5 are fetched, for the 4-week average).
    session_acus : pandas.Series
        ACUs of the sessions created per week (the session frame's ``acus``), for ACUs per
        merged PR.
    org_ids : list of str, optional
        Organizations covered (enterprise scope); default all.
    acu_price : float, optional
        A price per ACU above 0; without it no amount of money is shown.
    """
    price = check_acu_price(acu_price)
    source = open_source(client) if isinstance(client, MetricsClient) else client
    enterprise = getattr(source, "org_id", None) is None
    fetched = max(weeks, BASELINE_WEEKS + 1)
    start = week_bounds(shift_week(week, -(fetched - 1)), tz)[0]
    end = week_bounds(week, tz)[1]
    now = source.now()
    scope: dict[str, Any] = {} if org_ids is None else {"org_ids": list(org_ids)}
    common: dict[str, Any] = {"tz": tz, "progress": False, **scope}
    active = source.series(start, end, "week", metric="active_users", **common)
    prs = source.series(start, end, "week", metric="prs", **common)
    utc_start = start.tz_convert(_UTC)
    month_start = pd.Timestamp(year=utc_start.year, month=utc_start.month, day=1, tz=_UTC)
    utc_end = end.tz_convert(_UTC)
    daily = source.active_user_periods(month_start, utc_end, "day", **scope)
    monthly = (
        None
        if daily is None
        else source.active_user_periods(month_start, utc_end, "month", **scope)
    )
    cycles = source.billing_cycles() if enterprise else None
    cost_start = utc_start - pd.Timedelta(days=7)
    if cycles:
        moment = int(now.timestamp())
        earlier = [c for c in cycles if c.before <= moment][-3:]
        if earlier:
            cost_start = min(cost_start, pd.Timestamp(earlier[0].after, unit="s", tz=_UTC))
    by_org = None
    if enterprise:
        ids = list(org_ids) if org_ids is not None else source.directory().ids("org")
        by_org = source.consumption(cost_start, now, by="org", ids=ids)
    if org_ids is None or by_org is None:
        consumption = source.consumption(cost_start, now)
    else:
        consumption = combine_groups(by_org)
        consumption.attrs = {**by_org.attrs, **consumption.attrs}
    categories = None
    if enterprise:
        categories = source.categories(start, end, "week", **common)
    return FamilyReport(
        week=week,
        tz=tz,
        now=now,
        weeks=weeks,
        active=active,
        daily=daily,
        monthly=monthly,
        prs=prs,
        consumption=consumption,
        consumption_by_org=by_org,
        cycles=cycles,
        categories=categories,
        session_acus=session_acus,
        enterprise=enterprise,
        acu_price=price,
        settle_period=source.settle_period,
    )
