"""The pull requests of the synthetic enterprise's sessions: when each opens, merges or closes.

Every session opens at most one pull request (PR), some time into its run. A session whose PR
is merged is one the session log already marks with ``merged_at`` (merge chances and lags by
size, see `metrics_toolkit.demo.sessions`): it always has a PR, opened before that merge. Of
the other sessions, a share that grows with size opens a PR that is never merged: most of those
are closed unmerged days later, the rest stay open. A share of the PRs are taken over rather
than created: Devin pushed commits to a PR someone else had opened (its time is when the
session took it over).

Every number here comes from uniforms and exponentials drawn per session from the session's
day (see `SessionLog`), so a day's PRs are the same whatever "now" is; "now" only decides which
of them are visible, merged or closed yet. Pure: numpy in, numpy out. Timestamps are Unix
seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metrics_toolkit.demo.rhythm import (
    SECONDS_PER_DAY,
    BoolArray,
    CodeArray,
    FloatArray,
    IntArray,
)

__all__ = ["PullRequestDraws", "draw_pull_requests"]

NO_PR: Final = int(np.iinfo(np.int64).max)
"""`SessionLog.pr_at` of a session without a PR (and `pr_closed_at` of a PR never closed)."""
NEVER_CLOSED: Final = NO_PR
"""`SessionLog.pr_closed_at` of a PR that is merged or stays open."""

UNMERGED_PR_SHARE_BY_SIZE: Final = (0.35, 0.45, 0.55, 0.60, 0.65)
"""Chance (0..1) that a session whose PR is never merged opened one at all, per size
(xs, s, m, l, xl). A session with a merge always has its PR."""
CLOSED_SHARE: Final = 0.7
"""Share (0..1) of the never-merged PRs that get closed; the others stay open for good."""
MEAN_CLOSE_LAG_DAYS: Final = 4.0
"""Mean days from the end of a session's run to the closing of its unmerged PR (exponential)."""
MAX_CLOSE_LAG_DAYS: Final = 30
"""A PR that gets closed is closed at most this many days after its session was created."""
TAKEN_OVER_SHARE: Final = 0.1
"""Share (0..1) of the sessions' PRs that Devin took over instead of creating them."""
PR_AT_RUN_FRACTION: Final = (0.5, 1.0)
"""A PR opens (or is taken over) between these fractions of its session's run (0..1)."""

PR_UNIFORM_COLUMNS: Final = 4
"""Uniform numbers each session draws for its PR: has one, when, closed, taken over."""
_HAS_PR, _PR_AT, _CLOSED, _TAKEN_OVER = range(PR_UNIFORM_COLUMNS)


@dataclass(frozen=True)
class PullRequestDraws:
    """The PR of each session (one row per session, in the order given)."""

    pr_at: IntArray
    """When the session opened (or took over) its PR, Unix seconds, or `NO_PR`."""
    pr_closed_at: IntArray
    """When the PR was closed unmerged, Unix seconds, or `NEVER_CLOSED`."""
    pr_taken_over: BoolArray
    """Whether the PR was taken over (False for sessions without a PR)."""


def draw_pull_requests(
    uniform: FloatArray,
    exponential: FloatArray,
    created_at: IntArray,
    duration: IntArray,
    merged_at: IntArray,
    size_code: CodeArray | IntArray,
    never_merged: int,
) -> PullRequestDraws:
    """The PR of each session, from its own random numbers.

    Parameters
    ----------
    uniform : float64 array of shape (n, `PR_UNIFORM_COLUMNS`)
        Uniform numbers in [0, 1), one row per session.
    exponential : float64 array of shape (n,)
        A standard exponential per session: the close lag of an unmerged PR.
    created_at, duration : int64 arrays
        When each session was created (Unix seconds) and how long it ran (seconds, > 0).
    merged_at : int64 array
        When its PR was merged (Unix seconds, at least `duration` after `created_at`), or
        `never_merged`.
    size_code : int array
        Index of each session's size (xs=0 .. xl=4).
    never_merged : int
        The `merged_at` of a session whose PR is never merged.

    Returns
    -------
    PullRequestDraws
        A PR opens strictly before its merge or close.
    """
    merged = merged_at != never_merged
    unmerged_share = np.asarray(UNMERGED_PR_SHARE_BY_SIZE)[size_code]
    has_pr = merged | (uniform[:, _HAS_PR] < unmerged_share)
    low, high = PR_AT_RUN_FRACTION
    offset = ((low + (high - low) * uniform[:, _PR_AT]) * duration).astype(np.int64)
    pr_at = np.where(has_pr, created_at + offset, NO_PR)
    closed = has_pr & ~merged & (uniform[:, _CLOSED] < CLOSED_SHARE)
    lag = duration + exponential * MEAN_CLOSE_LAG_DAYS * SECONDS_PER_DAY
    lag = np.minimum(lag, MAX_CLOSE_LAG_DAYS * SECONDS_PER_DAY).astype(np.int64)
    pr_closed_at = np.where(closed, created_at + np.maximum(lag, offset + 1), NEVER_CLOSED)
    taken_over = has_pr & (uniform[:, _TAKEN_OVER] < TAKEN_OVER_SHARE)
    return PullRequestDraws(
        pr_at=pr_at.astype(np.int64),
        pr_closed_at=pr_closed_at.astype(np.int64),
        pr_taken_over=taken_over,
    )
