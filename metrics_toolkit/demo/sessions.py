"""The synthetic enterprise's session log: a year of Devin sessions as numpy arrays.

The log looks like a real company's: working hours and weekdays, steady growth, a dip over
Christmas and New Year, Slack replacing the web app as the place sessions start, a playbook
launched mid-year, large sessions that cost more ACUs and merge less often. It also holds, on
purpose, a Simpson's paradox between `SIMPSON_ORG_A` and `SIMPSON_ORG_B` (see
`metrics_toolkit.demo.enterprise`).

Pure: numpy arrays, no I/O. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metrics_toolkit.demo.directory import (
    PLAYBOOKS,
    SERVICE_USERS,
    SIMPSON_ORG_A,
    SIMPSON_ORG_B,
    Organization,
    Playbook,
    ServiceUser,
    headcounts,
)
from metrics_toolkit.demo.rhythm import (
    HUMAN_HOURLY_PROFILE,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    SECONDS_PER_YEAR,
    BoolArray,
    CodeArray,
    FloatArray,
    IntArray,
    SmallIntArray,
    creation_times,
    draw_categories,
    frozen,
    hourly_counts,
)

__all__ = ["SessionLog", "make_sessions"]

ORIGINS: Final = (
    "api",
    "automation",
    "code_scan",
    "desktop",
    "jira",
    "linear",
    "slack",
    "teams",
    "webapp",
)
SIZES: Final = ("xs", "s", "m", "l", "xl")

NO_INDEX: Final = -1
"""Index stored in a `SessionLog` column when the session has no such entity."""
NEVER_MERGED: Final = int(np.iinfo(np.int64).max)
"""`SessionLog.merged_at` of a session whose pull request is never merged."""

# Share of sessions per size (xs, s, m, l, xl) for each organization.
DEFAULT_SIZE_MIX: Final = (0.22, 0.30, 0.28, 0.13, 0.07)
SIZE_MIX_BY_ORG: Final = {
    SIMPSON_ORG_A: (0.02, 0.05, 0.13, 0.40, 0.40),
    SIMPSON_ORG_B: (0.45, 0.32, 0.12, 0.06, 0.05),
}
# Probability that a session's pull request is merged, per size (xs, s, m, l, xl).
DEFAULT_MERGE_RATES: Final = (0.70, 0.62, 0.48, 0.30, 0.18)
MERGE_RATES_BY_ORG: Final = {
    SIMPSON_ORG_A: (0.88, 0.80, 0.62, 0.38, 0.24),
    SIMPSON_ORG_B: (0.58, 0.50, 0.36, 0.20, 0.10),
}
MEAN_MERGE_LAG_DAYS: Final = 1.5
MAX_MERGE_LAG_DAYS: Final = 14
# Session cost and length per size: lognormal around these medians.
MEDIAN_ACUS_BY_SIZE: Final = (0.4, 1.2, 3.5, 9.0, 22.0)
MEDIAN_DURATION_HOURS_BY_SIZE: Final = (0.15, 0.5, 1.5, 4.0, 10.0)
LOG_SPREAD: Final = 0.4
MIN_DURATION_SECONDS: Final = 60
MAX_DURATION_SECONDS: Final = 2 * SECONDS_PER_DAY
SEARCH_SHARE_BY_SIZE: Final = (0.10, 0.18, 0.28, 0.38, 0.45)
PLAYBOOK_SHARE: Final = 0.22

# Rhythm of the sessions created by people.
HUMAN_SESSIONS_PER_WORKDAY_AT_END: Final = 190.0
WEEKEND_FACTOR: Final = 0.12
# Origin mix of people's sessions one year before `end` and at `end` (interpolated between).
HUMAN_ORIGIN_MIX_YEAR_AGO: Final = (0.03, 0.02, 0.00, 0.08, 0.07, 0.05, 0.12, 0.04, 0.59)
HUMAN_ORIGIN_MIX_AT_END: Final = (0.03, 0.03, 0.03, 0.12, 0.08, 0.07, 0.30, 0.06, 0.28)

# Rhythm of the sessions created by service users.
SERVICE_SESSIONS_PER_DAY_AT_END: Final = 30.0
SERVICE_WEEKEND_FACTOR: Final = 0.8
SERVICE_HOURLY_PROFILE: Final = (
    1.0, 1.0, 4.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip
SERVICE_ORIGIN_MIX: Final = (0.55, 0.38, 0.07, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, eq=False)
class SessionLog:
    """Every session of the enterprise, one numpy array per attribute, sorted by `created_at`.

    Indices point into the tuples of `DemoEnterprise`; `NO_INDEX` (-1) means "none".

    Attributes
    ----------
    created_at : int64 array
        Creation time, Unix seconds, UTC, non-decreasing.
    user_index, service_user_index : int32 arrays
        The creator: exactly one of the two is not `NO_INDEX`.
    org_index : int32 array
        The organization the session belongs to.
    origin_code : int8 array
        Index into `ORIGINS`.
    size_code : int8 array
        Index into `SIZES`.
    playbook_index : int32 array
        The playbook the session was started with, or `NO_INDEX`.
    used_search : bool array
        Whether the session used search.
    acus : float64 array
        ACUs the session consumed in total.
    acus_done_at : int64 array
        When the session stopped consuming ACUs, Unix seconds (always after `created_at`; the
        consumption is linear in between).
    merged_at : int64 array
        When its pull request was merged, Unix seconds, or `NEVER_MERGED`.
    """

    created_at: IntArray
    user_index: SmallIntArray
    service_user_index: SmallIntArray
    org_index: SmallIntArray
    origin_code: CodeArray
    size_code: CodeArray
    playbook_index: SmallIntArray
    used_search: BoolArray
    acus: FloatArray
    acus_done_at: IntArray
    merged_at: IntArray

    def __len__(self) -> int:
        return int(self.created_at.shape[0])


def make_sessions(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    service_users: tuple[ServiceUser, ...],
    playbooks: tuple[Playbook, ...],
    n_users: int,
    start: int,
    end: int,
) -> SessionLog:
    """Draw every session created in the half-open window [`start`, `end`), Unix seconds.

    Parameters
    ----------
    rng : numpy.random.Generator
        The session log's own generator: the log is a deterministic function of its state.
    organizations, service_users, playbooks : tuple
        The directory the sessions point into.
    n_users : int
        Number of people; they are grouped by organization as `headcounts` says.
    start, end : int
        The window, Unix seconds, UTC; some merges fall after `end`.

    Returns
    -------
    SessionLog
        Read-only arrays, sorted by `created_at`.
    """
    hour_starts = np.arange(start, end, SECONDS_PER_HOUR, dtype=np.int64)
    human_counts = hourly_counts(
        rng,
        hour_starts,
        end,
        HUMAN_SESSIONS_PER_WORKDAY_AT_END,
        HUMAN_HOURLY_PROFILE,
        WEEKEND_FACTOR,
    )
    service_counts = hourly_counts(
        rng,
        hour_starts,
        end,
        SERVICE_SESSIONS_PER_DAY_AT_END,
        SERVICE_HOURLY_PROFILE,
        SERVICE_WEEKEND_FACTOR,
    )
    human_created = creation_times(rng, hour_starts, human_counts, end)
    service_created = creation_times(rng, hour_starts, service_counts, end)

    # Creators: people weighted by a lognormal activity, service users by their share.
    user_org = np.repeat(np.arange(len(organizations)), headcounts())
    activity = rng.lognormal(0.0, 0.8, size=n_users)
    human_user = rng.choice(n_users, size=human_created.shape[0], p=activity / activity.sum())
    shares = np.array([share for _, _, share, _ in SERVICE_USERS])
    service_user = np.asarray(
        rng.choice(len(service_users), size=service_created.shape[0], p=shares / shares.sum()),
        dtype=np.int64,
    )
    active_until = np.array(
        [np.inf if su.deleted_at is None else su.deleted_at for su in service_users]
    )
    # Sessions the inactive service user would have created after its deletion go to the first.
    service_user = np.where(service_created < active_until[service_user], service_user, 0).astype(
        np.int64
    )

    created_at = np.concatenate([human_created, service_created])
    order = np.argsort(created_at, kind="stable")
    created_at = created_at[order]
    n_human = human_created.shape[0]
    user_index = np.concatenate([human_user, np.full(service_created.shape[0], NO_INDEX)])[order]
    service_user_index = np.concatenate([np.full(n_human, NO_INDEX), service_user])[order]
    is_service = service_user_index >= 0
    su_org = np.array([su.org_index for su in service_users])
    org_index = np.where(is_service, su_org[service_user_index], user_org[user_index])
    n = created_at.shape[0]

    # Origins: people move from the web app to Slack over the year; machines use the API.
    year_fraction = np.clip(1.0 + (created_at - end) / SECONDS_PER_YEAR, 0.0, 1.0)[:, None]
    origin_weights = (1.0 - year_fraction) * np.array(HUMAN_ORIGIN_MIX_YEAR_AGO) + (
        year_fraction * np.array(HUMAN_ORIGIN_MIX_AT_END)
    )
    origin_weights[is_service] = SERVICE_ORIGIN_MIX
    origin_code = draw_categories(rng, origin_weights)

    # Sizes per organization; ACUs, duration, search and merges per size.
    org_names = [organization.name for organization in organizations]
    size_mix = np.array([SIZE_MIX_BY_ORG.get(name, DEFAULT_SIZE_MIX) for name in org_names])
    size_code = draw_categories(rng, size_mix[org_index])
    session_limit = np.array(
        [
            np.inf if o.max_session_acu_limit is None else o.max_session_acu_limit
            for o in organizations
        ]
    )
    acus = np.minimum(
        np.array(MEDIAN_ACUS_BY_SIZE)[size_code] * rng.lognormal(0.0, LOG_SPREAD, size=n),
        session_limit[org_index],
    )
    duration_hours = np.array(MEDIAN_DURATION_HOURS_BY_SIZE)[size_code]
    duration = np.clip(
        duration_hours * SECONDS_PER_HOUR * rng.lognormal(0.0, LOG_SPREAD, size=n),
        MIN_DURATION_SECONDS,
        MAX_DURATION_SECONDS,
    ).astype(np.int64)
    used_search = rng.random(n) < np.array(SEARCH_SHARE_BY_SIZE)[size_code]

    merge_rates = np.array(
        [MERGE_RATES_BY_ORG.get(name, DEFAULT_MERGE_RATES) for name in org_names]
    )
    merged = rng.random(n) < merge_rates[org_index, size_code]
    lag = duration + rng.exponential(MEAN_MERGE_LAG_DAYS * SECONDS_PER_DAY, size=n)
    lag = np.minimum(lag, MAX_MERGE_LAG_DAYS * SECONDS_PER_DAY).astype(np.int64)
    merged_at = np.where(merged, created_at + lag, NEVER_MERGED)

    playbook_index = _draw_playbooks(rng, playbooks, organizations, created_at, org_index)
    return SessionLog(
        created_at=frozen(created_at.astype(np.int64)),
        user_index=frozen(user_index.astype(np.int32)),
        service_user_index=frozen(service_user_index.astype(np.int32)),
        org_index=frozen(org_index.astype(np.int32)),
        origin_code=frozen(origin_code.astype(np.int8)),
        size_code=frozen(size_code.astype(np.int8)),
        playbook_index=frozen(playbook_index.astype(np.int32)),
        used_search=frozen(used_search),
        acus=frozen(acus.astype(np.float64)),
        acus_done_at=frozen(created_at + duration),
        merged_at=frozen(merged_at.astype(np.int64)),
    )


def _draw_playbooks(
    rng: np.random.Generator,
    playbooks: tuple[Playbook, ...],
    organizations: tuple[Organization, ...],
    created_at: IntArray,
    org_index: SmallIntArray | IntArray,
) -> IntArray:
    """A playbook for a share of sessions, among those existing and visible to the org."""
    org_ids = [organization.org_id for organization in organizations]
    playbook_org = np.array(
        [NO_INDEX if p.org_id is None else org_ids.index(p.org_id) for p in playbooks]
    )
    playbook_created = np.array([p.created_at for p in playbooks])
    popularity = np.array([weight for _, _, _, weight in PLAYBOOKS])
    available = (playbook_created[None, :] <= created_at[:, None]) & (
        (playbook_org[None, :] == NO_INDEX) | (playbook_org[None, :] == org_index[:, None])
    )
    choice = draw_categories(rng, available * popularity)
    uses_playbook = (rng.random(created_at.shape[0]) < PLAYBOOK_SHARE) & available.any(axis=1)
    return np.where(uses_playbook, choice, NO_INDEX)
