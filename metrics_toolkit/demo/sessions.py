"""The synthetic enterprise's session log: every session since its first day, as numpy arrays.

The log looks like a real company's: working hours and weekdays, steady growth, a dip over
Christmas and New Year, Slack replacing the web app as the place sessions start, a playbook
launched mid-year, large sessions that cost more ACUs and merge less often. It also holds, on
purpose, a Simpson's paradox between `SIMPSON_ORG_A` and `SIMPSON_ORG_B` (see
`metrics_toolkit.demo.enterprise`).

Each session also has an id, the pull request it opened (or took over) and what happened to
it (`metrics_toolkit.demo.prs`), and a category and subcategory
(`metrics_toolkit.demo.categories`). Those draw from their own stream, `EVENT_STREAM`, so the
sessions themselves are the ones drawn before they existed.

Each day's sessions are drawn from that day's own generators, so they are the same whatever
window is generated and whatever "now" is: a closed week never changes.

Pure: numpy arrays, no I/O. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metrics_toolkit.demo.categories import draw_session_categories
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
from metrics_toolkit.demo.prs import PR_UNIFORM_COLUMNS, draw_pull_requests
from metrics_toolkit.demo.rhythm import (
    DAILY_NOISE,
    HUMAN_HOURLY_PROFILE,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    BoolArray,
    CodeArray,
    FloatArray,
    IntArray,
    SmallIntArray,
    day_generator,
    day_numbers,
    draw_categories,
    frozen,
    hourly_intensity,
    year_fraction,
)

__all__ = ["SessionLog", "make_sessions", "session_id"]

SESSION_STREAM: Final = 1
"""The session log draws from ``numpy.random.default_rng([seed, SESSION_STREAM])`` (who is busier
than whom) and from ``day_generator(seed, SESSION_STREAM, day)`` (each day's sessions)."""
EVENT_STREAM: Final = 3
"""Each session's id, PR and category draw from ``day_generator(seed, EVENT_STREAM, day)``.

Streams 0, 1 and 2 of the same seed draw the directory, the sessions and the searches."""
SESSION_ID_PREFIX: Final = "devin-"
"""A session's id is this prefix and 16 hexadecimal digits (`session_id`)."""

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
HUMAN_SESSIONS_PER_WORKDAY_A_YEAR_IN: Final = 190.0
"""Expected sessions people create on an ordinary working day one year after `FIRST_DAY`."""
WEEKEND_FACTOR: Final = 0.12
# Origin mix of people's sessions on `FIRST_DAY` and one year later (interpolated between,
# constant afterwards).
HUMAN_ORIGIN_MIX_AT_FIRST_DAY: Final = (0.03, 0.02, 0.00, 0.08, 0.07, 0.05, 0.12, 0.04, 0.59)
HUMAN_ORIGIN_MIX_A_YEAR_IN: Final = (0.03, 0.03, 0.03, 0.12, 0.08, 0.07, 0.30, 0.06, 0.28)

# Rhythm of the sessions created by service users.
SERVICE_SESSIONS_PER_DAY_A_YEAR_IN: Final = 30.0
"""Expected sessions service users create on an ordinary day one year after `FIRST_DAY`."""
SERVICE_WEEKEND_FACTOR: Final = 0.8
SERVICE_HOURLY_PROFILE: Final = (
    1.0, 1.0, 4.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip
SERVICE_ORIGIN_MIX: Final = (0.55, 0.38, 0.07, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

# The columns of the uniform numbers each session draws (see `_DayDraws`), and the normals.
_TIME_IN_HOUR, _CREATOR, _ORIGIN, _SIZE, _SEARCH, _MERGED, _PLAYBOOK, _USES_PLAYBOOK = range(8)
_UNIFORM_COLUMNS: Final = 8
_ACUS, _DURATION = range(2)
# The columns of the uniform numbers each session draws from `EVENT_STREAM`: its PR's, then its
# category's and subcategory's.
_CATEGORY, _SUBCATEGORY = range(PR_UNIFORM_COLUMNS, PR_UNIFORM_COLUMNS + 2)
_EVENT_COLUMNS: Final = PR_UNIFORM_COLUMNS + 2


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
    session_key : int64 array
        The session's id as a number (>= 0): its id is `session_id` of it.
    pr_at : int64 array
        When the session opened its pull request (or took one over), Unix seconds, after
        `created_at` and before the PR's merge or close; `metrics_toolkit.demo.prs.NO_PR`
        when it has none. A session with a merge always has one.
    pr_closed_at : int64 array
        When that PR was closed without being merged, Unix seconds, or
        `metrics_toolkit.demo.prs.NEVER_CLOSED` (merged, still open, or no PR).
    pr_taken_over : bool array
        Whether that PR was taken over (Devin pushed to a PR it did not create).
    category_code, subcategory_code : int8 arrays
        Indices into `metrics_toolkit.demo.categories.category_names()` and
        `subcategories()`.
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
    session_key: IntArray
    pr_at: IntArray
    pr_closed_at: IntArray
    pr_taken_over: BoolArray
    category_code: CodeArray
    subcategory_code: CodeArray

    def __len__(self) -> int:
        return int(self.created_at.shape[0])

    def session_id(self, position: int) -> str:
        """The id of the session at `position` (0 .. len - 1): ``devin-`` and 16 hex digits."""
        return session_id(int(self.session_key[position]))

    def position_of(self, session_id: str) -> int | None:
        """The position of the session whose id is `session_id`, or None if there is none."""
        digits = session_id.removeprefix(SESSION_ID_PREFIX)
        if digits == session_id or len(digits) != 16:
            return None
        try:
            key = int(digits, 16)
        except ValueError:
            return None
        found = np.flatnonzero(self.session_key == key)
        return int(found[0]) if found.shape[0] else None


def session_id(session_key: int) -> str:
    """The id of the session whose key is `session_key` (0 <= key < 2**63)."""
    return f"{SESSION_ID_PREFIX}{session_key:016x}"


def make_sessions(
    seed: int,
    organizations: tuple[Organization, ...],
    service_users: tuple[ServiceUser, ...],
    playbooks: tuple[Playbook, ...],
    n_users: int,
    start: int,
    end: int,
) -> SessionLog:
    """Draw every session created in the half-open window [`start`, `end`), Unix seconds.

    Each day's sessions are a function of `seed` and that day's date alone (they draw from
    ``day_generator(seed, SESSION_STREAM, day)``, their ids, PRs and categories from
    ``day_generator(seed, EVENT_STREAM, day)``; who is busier than whom is drawn once, from
    ``numpy.random.default_rng([seed, SESSION_STREAM])``): `start` and `end` only cut the log,
    so a day reads the same whatever the window.

    Parameters
    ----------
    seed : int
        Seed of the enterprise (>= 0).
    organizations, service_users, playbooks : tuple
        The directory the sessions point into.
    n_users : int
        Number of people; they are grouped by organization as `headcounts` says.
    start, end : int
        The window, Unix seconds, UTC (`start` < `end`); some merges fall after `end`.

    Returns
    -------
    SessionLog
        Read-only arrays, sorted by `created_at`.
    """
    activity = np.random.default_rng([seed, SESSION_STREAM]).lognormal(0.0, 0.8, size=n_users)
    days = day_numbers(start, end)
    human = hourly_intensity(
        days, HUMAN_SESSIONS_PER_WORKDAY_A_YEAR_IN, HUMAN_HOURLY_PROFILE, WEEKEND_FACTOR
    )
    service = hourly_intensity(
        days, SERVICE_SESSIONS_PER_DAY_A_YEAR_IN, SERVICE_HOURLY_PROFILE, SERVICE_WEEKEND_FACTOR
    )
    drawn = [
        _draw_day(day_generator(seed, SESSION_STREAM, int(day)), human[i], service[i])
        for i, day in enumerate(days)
    ]
    counts = np.stack([day.counts for day in drawn]).ravel()
    uniform = np.concatenate([day.uniform for day in drawn])
    normal = np.concatenate([day.normal for day in drawn])
    exponential = np.concatenate([day.exponential for day in drawn])
    events = [
        _draw_events(day_generator(seed, EVENT_STREAM, int(day)), int(drawn[i].counts.sum()))
        for i, day in enumerate(days)
    ]
    event_uniform = np.concatenate([uniform for uniform, _, _ in events])
    close_lag = np.concatenate([lag for _, lag, _ in events])
    session_key = np.concatenate([key for _, _, key in events])

    # Rows come day by day, people's hours 0-23 then the service users' hours 0-23.
    hour_starts = days[:, None] * SECONDS_PER_DAY + np.arange(24) * SECONDS_PER_HOUR
    created_at = np.repeat(np.concatenate([hour_starts, hour_starts], axis=1).ravel(), counts)
    created_at = created_at + (uniform[:, _TIME_IN_HOUR] * SECONDS_PER_HOUR).astype(np.int64)
    is_service = np.repeat(np.tile(np.repeat([False, True], 24), days.shape[0]), counts)

    # Creators: people weighted by their activity, service users by their share. A session a
    # service user would create after its deletion or expiry goes to the first one.
    shares = np.array([share for _, _, share, _ in SERVICE_USERS])
    user_index = np.where(is_service, NO_INDEX, _pick(activity, uniform[:, _CREATOR]))
    picked = _pick(shares, uniform[:, _CREATOR])
    active_until = np.array([_active_until(su) for su in service_users])
    picked = np.where(created_at < active_until[picked], picked, 0)
    service_user_index = np.where(is_service, picked, NO_INDEX)
    user_org = np.repeat(np.arange(len(organizations)), headcounts(n_users))
    su_org = np.array([su.org_index for su in service_users])
    org_index = np.where(is_service, su_org[picked], user_org[np.maximum(user_index, 0)])

    # Origins: people move from the web app to Slack over the first year; machines use the API.
    fraction = year_fraction(created_at)[:, None]
    origin_weights = (1.0 - fraction) * np.array(HUMAN_ORIGIN_MIX_AT_FIRST_DAY) + (
        fraction * np.array(HUMAN_ORIGIN_MIX_A_YEAR_IN)
    )
    origin_weights[is_service] = SERVICE_ORIGIN_MIX
    origin_code = draw_categories(uniform[:, _ORIGIN], origin_weights)

    # Sizes per organization; ACUs, duration, search and merges per size.
    org_names = [organization.name for organization in organizations]
    size_mix = np.array([SIZE_MIX_BY_ORG.get(name, DEFAULT_SIZE_MIX) for name in org_names])
    size_code = draw_categories(uniform[:, _SIZE], size_mix[org_index])
    session_limit = np.array(
        [
            np.inf if o.max_session_acu_limit is None else o.max_session_acu_limit
            for o in organizations
        ]
    )
    acus = np.minimum(
        np.array(MEDIAN_ACUS_BY_SIZE)[size_code] * np.exp(LOG_SPREAD * normal[:, _ACUS]),
        session_limit[org_index],
    )
    duration_hours = np.array(MEDIAN_DURATION_HOURS_BY_SIZE)[size_code]
    duration = np.clip(
        duration_hours * SECONDS_PER_HOUR * np.exp(LOG_SPREAD * normal[:, _DURATION]),
        MIN_DURATION_SECONDS,
        MAX_DURATION_SECONDS,
    ).astype(np.int64)
    used_search = uniform[:, _SEARCH] < np.array(SEARCH_SHARE_BY_SIZE)[size_code]

    merge_rates = np.array(
        [MERGE_RATES_BY_ORG.get(name, DEFAULT_MERGE_RATES) for name in org_names]
    )
    merged = uniform[:, _MERGED] < merge_rates[org_index, size_code]
    lag = duration + exponential * MEAN_MERGE_LAG_DAYS * SECONDS_PER_DAY
    lag = np.minimum(lag, MAX_MERGE_LAG_DAYS * SECONDS_PER_DAY).astype(np.int64)
    merged_at = np.where(merged, created_at + lag, NEVER_MERGED)
    playbook_index = _draw_playbooks(
        uniform[:, _PLAYBOOK],
        uniform[:, _USES_PLAYBOOK],
        playbooks,
        organizations,
        created_at,
        org_index,
    )

    prs = draw_pull_requests(
        event_uniform[:, :PR_UNIFORM_COLUMNS],
        close_lag,
        created_at,
        duration,
        merged_at,
        size_code,
        NEVER_MERGED,
    )
    category_code, subcategory_code = draw_session_categories(
        event_uniform[:, _CATEGORY], event_uniform[:, _SUBCATEGORY], size_code
    )

    # Cut the window, then sort by creation (stable: the same day gives the same order).
    inside = np.flatnonzero((created_at >= start) & (created_at < end))
    rows = inside[np.argsort(created_at[inside], kind="stable")]
    return SessionLog(
        created_at=frozen(created_at[rows].astype(np.int64)),
        user_index=frozen(user_index[rows].astype(np.int32)),
        service_user_index=frozen(service_user_index[rows].astype(np.int32)),
        org_index=frozen(org_index[rows].astype(np.int32)),
        origin_code=frozen(origin_code[rows].astype(np.int8)),
        size_code=frozen(size_code[rows].astype(np.int8)),
        playbook_index=frozen(playbook_index[rows].astype(np.int32)),
        used_search=frozen(used_search[rows]),
        acus=frozen(acus[rows].astype(np.float64)),
        acus_done_at=frozen((created_at + duration)[rows]),
        merged_at=frozen(merged_at[rows].astype(np.int64)),
        session_key=frozen(session_key[rows]),
        pr_at=frozen(prs.pr_at[rows]),
        pr_closed_at=frozen(prs.pr_closed_at[rows]),
        pr_taken_over=frozen(prs.pr_taken_over[rows]),
        category_code=frozen(category_code[rows].astype(np.int8)),
        subcategory_code=frozen(subcategory_code[rows].astype(np.int8)),
    )


@dataclass(frozen=True)
class _DayDraws:
    """The random numbers of one day: sessions per hour, then a few numbers per session."""

    counts: IntArray
    """Sessions per hour: people's 24 hours, then the service users' 24 hours."""
    uniform: FloatArray
    """One row per session, one column per `_UNIFORM_COLUMNS`, in [0, 1)."""
    normal: FloatArray
    """One row per session: the standard normals of its ACUs and of its duration."""
    exponential: FloatArray
    """One standard exponential per session: its merge lag."""


def _draw_day(rng: np.random.Generator, human: FloatArray, service: FloatArray) -> _DayDraws:
    """The draws of one day from its own generator, in a fixed order."""
    human_noise, service_noise = rng.lognormal(0.0, DAILY_NOISE, size=2)
    counts = rng.poisson(np.concatenate([human * human_noise, service * service_noise]))
    n = int(counts.sum())
    return _DayDraws(
        counts=counts.astype(np.int64),
        uniform=rng.random((n, _UNIFORM_COLUMNS)),
        normal=rng.standard_normal((n, 2)),
        exponential=rng.standard_exponential(n),
    )


def _draw_events(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """The event draws of one day's `n` sessions: uniforms, close lags and id keys."""
    return (
        rng.random((n, _EVENT_COLUMNS)),
        rng.standard_exponential(n),
        rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64),
    )


def _pick(weights: FloatArray, uniform: FloatArray) -> IntArray:
    """Index `i` with probability ``weights[i] / weights.sum()``, one per uniform in [0, 1)."""
    cumulative = np.cumsum(weights)
    chosen = np.searchsorted(cumulative, uniform * cumulative[-1], side="right")
    picked: IntArray = np.minimum(chosen, weights.shape[0] - 1).astype(np.int64)
    return picked


def _active_until(service_user: ServiceUser) -> float:
    """When `service_user` stops creating sessions (deleted or expired), Unix seconds, or inf."""
    limits = [t for t in (service_user.deleted_at, service_user.expires_at) if t is not None]
    return float(min(limits)) if limits else np.inf


def _draw_playbooks(
    choice_uniform: FloatArray,
    use_uniform: FloatArray,
    playbooks: tuple[Playbook, ...],
    organizations: tuple[Organization, ...],
    created_at: IntArray,
    org_index: IntArray,
) -> IntArray:
    """A playbook for a share of sessions, among those existing and visible to the org.

    `choice_uniform` picks the playbook and `use_uniform` decides whether one is used: one
    number in [0, 1) each per session.
    """
    org_ids = [organization.org_id for organization in organizations]
    playbook_org = np.array(
        [NO_INDEX if p.org_id is None else org_ids.index(p.org_id) for p in playbooks]
    )
    playbook_created = np.array([p.created_at for p in playbooks])
    popularity = np.array([weight for _, _, _, weight in PLAYBOOKS])
    available = (playbook_created[None, :] <= created_at[:, None]) & (
        (playbook_org[None, :] == NO_INDEX) | (playbook_org[None, :] == org_index[:, None])
    )
    choice = draw_categories(choice_uniform, available * popularity)
    uses_playbook = (use_uniform < PLAYBOOK_SHARE) & available.any(axis=1)
    chosen: IntArray = np.where(uses_playbook, choice, NO_INDEX)
    return chosen
