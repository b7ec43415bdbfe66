"""PRs, usage and sessions by category, aggregated over the session log as of a clock `now`.

A pull request belongs to the window in which it was created (`SessionLog.pr_at`: when its
session opened it, or took it over). Its state is the one it has at `now`: merged when
``merged_at <= now``, closed when ``pr_closed_at <= now``, open otherwise. So, for every window
and every filter, ``prs_created_count = prs_opened_count + prs_merged_count +
prs_closed_count``, and the same for the taken-over PRs; the counts of created PRs add up over
windows and organizations, the open ones describe the present. Filters apply to the session
that opened the PR (its creator, organization and playbook).

Categories: a session counts in the window it was created in, with the ACUs it had consumed by
`now`, under its category and subcategory; a category's counts are the sums of its
subcategories'. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Final

import numpy as np

from metrics_toolkit.demo.aggregations import MetricsAggregator, created_window
from metrics_toolkit.demo.categories import category_names, subcategories
from metrics_toolkit.demo.protocol import JsonObject, clip_int64
from metrics_toolkit.demo.prs import NO_PR
from metrics_toolkit.demo.rhythm import IntArray

__all__ = ["FamilyAggregator"]

_PR_FIELDS: Final = (
    ("prs_created_count", "prs_opened_count", "prs_merged_count", "prs_closed_count"),
    (
        "prs_taken_over_count",
        "prs_taken_over_opened_count",
        "prs_taken_over_merged_count",
        "prs_taken_over_closed_count",
    ),
)
"""The counts of the PRs Devin created, then of those it took over: all (created or taken over
in the window), still open, merged and closed, as of now."""


class FamilyAggregator:
    """PR, usage and category metrics over `sessions.enterprise`, for any `now`.

    Parameters
    ----------
    sessions : MetricsAggregator
        The session metrics of the same enterprise (its filters and ACUs are reused).
    """

    def __init__(self, sessions: MetricsAggregator) -> None:
        self.sessions = sessions
        self.enterprise = sessions.enterprise

    @cached_property
    def _pr_rows(self) -> IntArray:
        """Positions of the sessions with a PR, ordered by when the PR was created."""
        log = self.enterprise.sessions
        with_pr = np.flatnonzero(log.pr_at != NO_PR)
        rows: IntArray = with_pr[np.argsort(log.pr_at[with_pr], kind="stable")]
        return rows

    @cached_property
    def _pr_times(self) -> IntArray:
        times: IntArray = self.enterprise.sessions.pr_at[self._pr_rows]
        return times

    def pr_metrics(
        self,
        now: int,
        time_after: int,
        time_before: int,
        *,
        user_ids: Iterable[str] | None = None,
        service_user_ids: Iterable[str] | None = None,
        org_ids: Iterable[str] | None = None,
        playbook_id: str | None = None,
    ) -> JsonObject:
        """The ``PrMetricsResponse`` of the PRs created in [time_after, time_before) by `now`.

        Filters are those of `MetricsAggregator.session_metrics`, applied to the session that
        opened (or took over) each PR. Returns the eight counts, each >= 0.
        """
        log = self.enterprise.sessions
        low = int(np.searchsorted(self._pr_times, clip_int64(time_after), "left"))
        high = int(np.searchsorted(self._pr_times, clip_int64(min(time_before, now)), "left"))
        rows = self._pr_rows[low : max(low, high)]
        mask = self.sessions.session_mask(rows, user_ids, service_user_ids, org_ids, playbook_id)
        if mask is not None:
            rows = rows[mask]
        merged = log.merged_at[rows] <= now
        closed = log.pr_closed_at[rows] <= now
        taken_over = log.pr_taken_over[rows]
        answer: JsonObject = {}
        for names, kind in zip(_PR_FIELDS, (~taken_over, taken_over), strict=True):
            created = int(kind.sum())
            merged_count = int((kind & merged).sum())
            closed_count = int((kind & closed).sum())
            opened = created - merged_count - closed_count
            answer.update(zip(names, (created, opened, merged_count, closed_count), strict=True))
        return answer

    def usage_metrics(
        self, now: int, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """The ``UsageMetrics`` of [time_after, time_before) by `now`, for `org_ids` or all.

        Each count is the one the sessions, searches and PRs endpoints give for the same
        window and organizations (PRs created by Devin, not taken over).
        """
        org_list = None if org_ids is None else list(org_ids)
        sessions = self.sessions.session_metrics(now, time_after, time_before, org_ids=org_list)
        searches = self.sessions.search_metrics(now, time_after, time_before, org_ids=org_list)
        prs = self.pr_metrics(now, time_after, time_before, org_ids=org_list)
        return {
            "sessions_count": sessions["sessions_created_count"],
            "searches_count": searches["searches_created_count"],
            "prs_created_count": prs["prs_created_count"],
            "prs_merged_count": prs["prs_merged_count"],
        }

    def sessions_by_category(
        self, now: int, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """Sessions created in [time_after, time_before) and their ACUs by `now`, by category.

        Returns
        -------
        dict
            ``{"categories": [...]}``: each category with at least one session, in the
            vocabulary's order, with its subcategories that have sessions (the one without an
            id last). ``sessions_count`` and ``acus`` (ACUs consumed by `now`, >= 0) of a
            category are the sums of its subcategories'.
        """
        log = self.enterprise.sessions
        window = created_window(log.created_at, now, time_after, time_before)
        rows: slice | IntArray = window
        mask = self.sessions.session_mask(window, None, None, org_ids, None)
        if mask is not None:
            rows = np.arange(window.start, window.stop)[mask]
        codes = log.subcategory_code[rows].astype(np.intp)
        listing = subcategories()
        counts = np.bincount(codes, minlength=len(listing))
        acus = np.bincount(
            codes, weights=self.sessions.consumed_acus(now, rows), minlength=len(listing)
        )
        categories: list[JsonObject] = []
        for category_code, category in enumerate(category_names()):
            items = [
                {
                    "subcategory_id": subcategory_id,
                    "display_name": display_name,
                    "sessions_count": int(counts[code]),
                    "acus": float(acus[code]),
                }
                for code, (owner, subcategory_id, display_name) in enumerate(listing)
                if owner == category_code and counts[code]
            ]
            if items:
                categories.append(
                    {
                        "category": category,
                        "sessions_count": sum(item["sessions_count"] for item in items),
                        "acus": sum(item["acus"] for item in items),
                        "subcategories": items,
                    }
                )
        return {"categories": categories}
