"""PR and usage metrics: totals over one window.

The PRs Devin opened are placed in a window by when they were created; their state (open,
merged, closed) is the state now. So ``prs_created_count = prs_opened_count +
prs_merged_count + prs_closed_count`` holds for every window, and the three states of an old
window still move as its PRs are merged or closed (``prs_created_count`` does not).
"""

from __future__ import annotations

from ._base import MetricsAnswer

__all__ = ["PrMetrics", "UsageMetrics"]


class PrMetrics(MetricsAnswer):
    """PRs Devin created in one half-open window ``[time_after, time_before)``, by state now.

    The ``prs_taken_over_*`` fields (PRs Devin pushed commits to but did not create) are in
    the newest schema only: None when the server does not send them.

    Examples
    --------
    >>> answer = PrMetrics.model_validate({
    ...     "prs_created_count": 10, "prs_opened_count": 2,
    ...     "prs_merged_count": 7, "prs_closed_count": 1})
    >>> answer.prs_created_count == answer.prs_opened_count + answer.prs_merged_count + 1
    True
    >>> answer.prs_taken_over_count is None
    True
    """

    prs_created_count: int
    """PRs Devin created in the window, in every state (open + merged + closed)."""
    prs_opened_count: int
    """Of those, the PRs still open now: a state, not an event of the window."""
    prs_merged_count: int
    """Of those, the PRs merged by now (so far: this still grows)."""
    prs_closed_count: int
    """Of those, the PRs closed without merging by now."""
    prs_taken_over_count: int | None = None
    """PRs Devin took over (pushed commits to, not created) in the window, in every state;
    None when not sent (older schema)."""
    prs_taken_over_opened_count: int | None = None
    """Of those, the PRs still open now (a state); None when not sent."""
    prs_taken_over_merged_count: int | None = None
    """Of those, the PRs merged by now; None when not sent."""
    prs_taken_over_closed_count: int | None = None
    """Of those, the PRs closed without merging by now; None when not sent."""


class UsageMetrics(MetricsAnswer):
    """Sessions, searches and PRs of one window, for the whole scope (no filter).

    Each count equals the sessions, searches and PRs endpoints' count for the same window and
    scope. The window is optional: without one the server answers for the current billing
    cycle (the v2 API's documented default; v3 does not say).
    """

    sessions_count: int
    """Sessions created in the window."""
    searches_count: int
    """Searches (Ask Devin queries) made in the window."""
    prs_created_count: int
    """PRs Devin created in the window."""
    prs_merged_count: int
    """Of those, the PRs merged by now (so far: this still grows)."""
