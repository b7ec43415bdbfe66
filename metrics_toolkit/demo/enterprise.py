"""A synthetic enterprise: its directory and a year of Devin sessions.

`generate_enterprise` builds, from a seed, a company of about 150 engineers in five
organizations, a few service users and ten playbooks, and a log of every session they created.
The log looks like a real company's: working hours and weekdays, steady growth, a dip over
Christmas and New Year, Slack replacing the web app as the place sessions start, a playbook
launched mid-year, large sessions that cost more ACUs and merge less often.

It also contains, on purpose, a Simpson's paradox between two organizations
(`SIMPSON_ORG_A`, `SIMPSON_ORG_B`): A merges more often than B within every session size, yet
less often overall, because A mostly runs L/XL sessions and B mostly XS/S ones.

Everything here is pure: numpy arrays and frozen dataclasses, no I/O. All timestamps are Unix
seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

DEFAULT_SEED: Final = 20240601
DEFAULT_DAYS: Final = 365
EMAIL_DOMAIN: Final = "acme-corp.example"

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

SECONDS_PER_HOUR: Final = 3600
SECONDS_PER_DAY: Final = 86400
SECONDS_PER_YEAR: Final = 365 * SECONDS_PER_DAY

# Organizations: name, headcount, max ACUs per session, max ACUs per billing cycle.
ORGANIZATIONS: Final = (
    ("Platform", 34, 60, None),
    ("Payments", 30, None, 5000),
    ("Growth", 36, 40, None),
    ("Mobile", 26, None, None),
    ("Data", 24, 80, 8000),
)
SIMPSON_ORG_A: Final = "Platform"
"""Merges more often than `SIMPSON_ORG_B` within every size, less often overall."""
SIMPSON_ORG_B: Final = "Growth"

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
YEARLY_GROWTH: Final = 2.2
"""Activity at `end` divided by activity one year earlier."""
WEEKEND_FACTOR: Final = 0.12
HOLIDAY_FACTOR: Final = 0.3
"""Activity from 24 December to 1 January, relative to an ordinary day."""
DAILY_NOISE: Final = 0.12
# Relative activity per hour of the day, UTC (the company works roughly 08:00-19:00 UTC).
HUMAN_HOURLY_PROFILE: Final = (
    0.05, 0.04, 0.03, 0.03, 0.03, 0.05, 0.10, 0.30, 0.70, 1.00, 1.00, 0.95,
    0.70, 0.90, 1.00, 1.00, 0.95, 0.80, 0.55, 0.35, 0.25, 0.15, 0.10, 0.07,
)  # fmt: skip
# Origin mix of people's sessions one year before `end` and at `end` (interpolated between).
HUMAN_ORIGIN_MIX_YEAR_AGO: Final = (0.03, 0.02, 0.00, 0.08, 0.07, 0.05, 0.12, 0.04, 0.59)
HUMAN_ORIGIN_MIX_AT_END: Final = (0.03, 0.03, 0.03, 0.12, 0.08, 0.07, 0.30, 0.06, 0.28)

# Service users: name, organization, share of the service sessions, inactive.
SERVICE_USERS: Final = (
    ("ci-bot", "Platform", 0.40, False),
    ("release-bot", "Payments", 0.15, False),
    ("nightly-scanner", "Data", 0.25, False),
    ("jira-sync", "Mobile", 0.15, False),
    ("legacy-importer", "Growth", 0.05, True),
)
SERVICE_USER_DELETED_AT_FRACTION: Final = 0.4
"""The inactive service user is deleted this far into the generated window."""
SERVICE_SESSIONS_PER_DAY_AT_END: Final = 30.0
SERVICE_WEEKEND_FACTOR: Final = 0.8
SERVICE_HOURLY_PROFILE: Final = (
    1.0, 1.0, 4.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip
SERVICE_ORIGIN_MIX: Final = (0.55, 0.38, 0.07, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

# Playbooks: title, organization (None: enterprise-wide), launch, popularity. A launch below 0
# means "before the window"; otherwise it is the fraction of the window at which it appears.
PLAYBOOKS: Final = (
    ("Fix a flaky test", None, -1.0, 1.0),
    ("Upgrade a dependency", None, -1.0, 1.2),
    ("Write unit tests for a module", None, -1.0, 1.0),
    ("Triage a Sentry error", "Platform", -1.0, 0.8),
    ("Add a feature flag", "Growth", -1.0, 0.8),
    ("Reconcile a payment report", "Payments", -1.0, 0.6),
    ("Prepare a mobile release", "Mobile", -1.0, 0.6),
    ("Backfill a data table", "Data", -1.0, 0.6),
    ("Migrate an endpoint to API v3", None, 0.5, 3.0),
    ("Patch a CVE", None, 0.8, 1.0),
)
MIDYEAR_PLAYBOOK_TITLE: Final = "Migrate an endpoint to API v3"

# Roles: name, type.
ROLES: Final = (
    ("Enterprise Admin", "enterprise"),
    ("Enterprise Member", "enterprise"),
    ("Org Admin", "org"),
    ("Org Member", "org"),
)
FIRST_NAMES: Final = (
    "Alice", "Bruno", "Chen", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemi", "Lars", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Amara", "Ben", "Carla", "Dmitri",
)  # fmt: skip
LAST_NAMES: Final = (
    "Nguyen", "Smith", "Garcia", "Kim", "Okafor", "Muller", "Rossi", "Tanaka", "Silva",
    "Cohen", "Ivanova", "Haddad", "Patel", "Jensen", "Moreau", "Kowalski", "Lopez", "Ali",
    "Novak", "Brown", "Sato", "Fischer", "Costa", "Singh", "Dubois", "Larsen", "Ortiz",
    "Yilmaz", "Wright", "Zhang",
)  # fmt: skip

IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.int32]
CodeArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])


@dataclass(frozen=True)
class Role:
    """A role, as the directory endpoints report it inside a role assignment."""

    role_id: str
    role_name: str
    role_type: str
    """"enterprise" or "org"."""


@dataclass(frozen=True)
class RoleAssignment:
    """A role held enterprise-wide (`org_id` None) or in one organization."""

    role: Role
    org_id: str | None


@dataclass(frozen=True)
class Organization:
    """An organization of the enterprise. Timestamps in Unix seconds, UTC."""

    org_id: str
    name: str
    created_at: int
    updated_at: int
    max_session_acu_limit: int | None
    max_cycle_acu_limit: int | None


@dataclass(frozen=True)
class User:
    """A person of the enterprise; `org_index` points into `DemoEnterprise.organizations`."""

    user_id: str
    name: str
    email: str
    org_index: int
    role_assignments: tuple[RoleAssignment, ...]


@dataclass(frozen=True)
class ServiceUser:
    """A machine identity. `expires_at` and `deleted_at` in Unix seconds, UTC, or None."""

    service_user_id: str
    name: str
    org_index: int
    expires_at: int | None
    deleted_at: int | None
    role_assignments: tuple[RoleAssignment, ...]

    def is_active(self, at: int) -> bool:
        """Whether the service user is neither expired nor deleted at `at` (Unix seconds)."""
        return all(limit is None or at < limit for limit in (self.expires_at, self.deleted_at))


@dataclass(frozen=True)
class Playbook:
    """A playbook; `org_id` None means enterprise-wide. Timestamps in Unix seconds, UTC."""

    playbook_id: str
    title: str
    body: str
    macro: str | None
    org_id: str | None
    created_by: str
    created_at: int
    updated_at: int


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


@dataclass(frozen=True, eq=False)
class DemoEnterprise:
    """The synthetic enterprise: its directory and its session log.

    Sessions were created in the half-open window [`start`, `end`), Unix seconds, UTC. Some
    merges happen after `end` (they are already decided, just not visible yet).
    """

    seed: int
    start: int
    end: int
    organizations: tuple[Organization, ...]
    users: tuple[User, ...]
    service_users: tuple[ServiceUser, ...]
    playbooks: tuple[Playbook, ...]
    sessions: SessionLog

    def organization_named(self, name: str) -> Organization:
        """The organization called `name`; raises `KeyError` if there is none."""
        for organization in self.organizations:
            if organization.name == name:
                return organization
        raise KeyError(name)

    def playbook_titled(self, title: str) -> Playbook:
        """The playbook with this title; raises `KeyError` if there is none."""
        for playbook in self.playbooks:
            if playbook.title == title:
                return playbook
        raise KeyError(title)


def generate_enterprise(
    *, seed: int = DEFAULT_SEED, end: datetime | None = None, days: int = DEFAULT_DAYS
) -> DemoEnterprise:
    """Build the synthetic enterprise.

    Parameters
    ----------
    seed : int
        Everything is a deterministic function of (`seed`, `end`, `days`).
    end : datetime, optional
        Timezone-aware end of the window (exclusive). Default: the current UTC time floored to
        the hour.
    days : int
        Length of the window in days; sessions are created in [end - days, end).

    Returns
    -------
    DemoEnterprise

    Raises
    ------
    ValueError
        If `end` is naive or `days` is not positive.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> enterprise = generate_enterprise(end=datetime(2025, 1, 1, tzinfo=timezone.utc))
    >>> len(enterprise.sessions) > 10_000
    True
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end_ts = _end_timestamp(end)
    start_ts = end_ts - days * SECONDS_PER_DAY
    directory_rng = np.random.default_rng([seed, 0])
    session_rng = np.random.default_rng([seed, 1])
    roles = tuple(
        Role(f"role-{_hex(directory_rng, 6)}", name, role_type) for name, role_type in ROLES
    )
    organizations = _make_organizations(directory_rng, start_ts, end_ts)
    users = _make_users(directory_rng, organizations, roles)
    service_users = _make_service_users(directory_rng, organizations, roles, start_ts, end_ts)
    playbooks = _make_playbooks(directory_rng, organizations, users, start_ts, end_ts)
    sessions = _make_sessions(
        session_rng, organizations, service_users, playbooks, len(users), start_ts, end_ts
    )
    return DemoEnterprise(
        seed=seed,
        start=start_ts,
        end=end_ts,
        organizations=organizations,
        users=users,
        service_users=service_users,
        playbooks=playbooks,
        sessions=sessions,
    )


def _end_timestamp(end: datetime | None) -> int:
    if end is None:
        now = int(datetime.now(timezone.utc).timestamp())
        return now - now % SECONDS_PER_HOUR
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError("end must be timezone-aware (for example datetime(..., tzinfo=UTC))")
    return int(end.timestamp() // 1)


def _hex(rng: np.random.Generator, n_bytes: int) -> str:
    return rng.bytes(n_bytes).hex()


def _make_organizations(rng: np.random.Generator, start: int, end: int) -> tuple[Organization, ...]:
    organizations = []
    for name, _, session_limit, cycle_limit in ORGANIZATIONS:
        created_at = start - int(rng.integers(30, 400)) * SECONDS_PER_DAY
        updated_at = int(rng.integers(created_at, end))
        org_id = f"org-{_hex(rng, 6)}"
        organizations.append(
            Organization(org_id, name, created_at, updated_at, session_limit, cycle_limit)
        )
    return tuple(organizations)


def _make_users(
    rng: np.random.Generator, organizations: tuple[Organization, ...], roles: tuple[Role, ...]
) -> tuple[User, ...]:
    enterprise_admin, _, org_admin, org_member = roles
    headcounts = [headcount for _, headcount, _, _ in ORGANIZATIONS]
    name_pairs = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=sum(headcounts), replace=False)
    org_of_user = np.repeat(np.arange(len(organizations)), headcounts)
    users = []
    for position, (pair, org_index) in enumerate(zip(name_pairs, org_of_user, strict=True)):
        first = FIRST_NAMES[pair // len(LAST_NAMES)]
        last = LAST_NAMES[pair % len(LAST_NAMES)]
        organization = organizations[int(org_index)]
        is_org_admin = position == 0 or org_of_user[position - 1] != org_index
        assignments = [
            RoleAssignment(org_admin if is_org_admin else org_member, organization.org_id)
        ]
        if position == 0:
            assignments.append(RoleAssignment(enterprise_admin, None))
        users.append(
            User(
                user_id=f"user-{_hex(rng, 8)}",
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}",
                org_index=int(org_index),
                role_assignments=tuple(assignments),
            )
        )
    return tuple(users)


def _make_service_users(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    roles: tuple[Role, ...],
    start: int,
    end: int,
) -> tuple[ServiceUser, ...]:
    member = roles[1]
    org_names = [organization.name for organization in organizations]
    deleted_at = start + int(SERVICE_USER_DELETED_AT_FRACTION * (end - start))
    service_users = []
    for position, (name, org_name, _, inactive) in enumerate(SERVICE_USERS):
        expires_at = end + int(rng.integers(60, 400)) * SECONDS_PER_DAY if position % 2 else None
        service_users.append(
            ServiceUser(
                service_user_id=f"service-user-{_hex(rng, 8)}",
                name=name,
                org_index=org_names.index(org_name),
                expires_at=expires_at,
                deleted_at=deleted_at if inactive else None,
                role_assignments=(RoleAssignment(member, None),),
            )
        )
    return tuple(service_users)


def _make_playbooks(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    users: tuple[User, ...],
    start: int,
    end: int,
) -> tuple[Playbook, ...]:
    org_ids = {organization.name: organization.org_id for organization in organizations}
    playbooks = []
    for title, org_name, launch, _ in PLAYBOOKS:
        if launch < 0:
            created_at = start - int(rng.integers(10, 200)) * SECONDS_PER_DAY
        else:
            created_at = start + int(launch * (end - start))
        updated_at = min(end, created_at + int(rng.integers(0, 60)) * SECONDS_PER_DAY)
        author = users[int(rng.integers(len(users)))].user_id
        slug = "-".join(title.lower().split())
        playbooks.append(
            Playbook(
                playbook_id=f"playbook-{_hex(rng, 8)}",
                title=title,
                body=f"# {title}\n\n1. Read the task.\n2. Make the change.\n3. Open a PR.\n",
                macro=f"!{slug}" if rng.random() < 0.6 else None,
                org_id=None if org_name is None else org_ids[org_name],
                created_by=author,
                created_at=created_at,
                updated_at=updated_at,
            )
        )
    return tuple(playbooks)


def _hourly_counts(
    rng: np.random.Generator,
    hour_starts: IntArray,
    end: int,
    per_day_at_end: float,
    hourly_profile: tuple[float, ...],
    weekend_factor: float,
) -> IntArray:
    """Poisson counts of sessions per hour, for the company's rhythm."""
    day_number = hour_starts // SECONDS_PER_DAY
    weekday = (day_number + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0.
    dates = day_number.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day_of_month = (dates - month_start).astype(np.int64) + 1
    holiday = ((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1))
    profile = np.asarray(hourly_profile) / np.sum(hourly_profile)
    daily_noise = rng.lognormal(0.0, DAILY_NOISE, size=int(day_number.max() - day_number.min()) + 1)
    intensity = (
        per_day_at_end
        * YEARLY_GROWTH ** ((hour_starts - end) / SECONDS_PER_YEAR)
        * np.where(weekday >= 5, weekend_factor, 1.0)
        * np.where(holiday, HOLIDAY_FACTOR, 1.0)
        * daily_noise[day_number - day_number.min()]
        * profile[(hour_starts // SECONDS_PER_HOUR) % 24]
    )
    counts: IntArray = rng.poisson(intensity).astype(np.int64)
    return counts


def _creation_times(
    rng: np.random.Generator, hour_starts: IntArray, counts: IntArray, end: int
) -> IntArray:
    starts: IntArray = np.repeat(hour_starts, counts)
    widths = np.minimum(SECONDS_PER_HOUR, end - starts)
    offsets: IntArray = (rng.random(starts.shape[0]) * widths).astype(np.int64)
    return starts + offsets


def _draw_categories(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One category per row of `weights` (n, k); rows summing to 0 get k."""
    cumulative = np.cumsum(weights, axis=1)
    threshold = rng.random(weights.shape[0]) * cumulative[:, -1]
    categories: IntArray = np.sum(threshold[:, None] >= cumulative, axis=1).astype(np.int64)
    return categories


def _make_sessions(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    service_users: tuple[ServiceUser, ...],
    playbooks: tuple[Playbook, ...],
    n_users: int,
    start: int,
    end: int,
) -> SessionLog:
    hour_starts = np.arange(start, end, SECONDS_PER_HOUR, dtype=np.int64)
    human_counts = _hourly_counts(
        rng,
        hour_starts,
        end,
        HUMAN_SESSIONS_PER_WORKDAY_AT_END,
        HUMAN_HOURLY_PROFILE,
        WEEKEND_FACTOR,
    )
    service_counts = _hourly_counts(
        rng,
        hour_starts,
        end,
        SERVICE_SESSIONS_PER_DAY_AT_END,
        SERVICE_HOURLY_PROFILE,
        SERVICE_WEEKEND_FACTOR,
    )
    human_created = _creation_times(rng, hour_starts, human_counts, end)
    service_created = _creation_times(rng, hour_starts, service_counts, end)

    # Creators: people weighted by a lognormal activity, service users by their share.
    user_org = np.repeat(np.arange(len(organizations)), [h for _, h, _, _ in ORGANIZATIONS])
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
    origin_code = _draw_categories(rng, origin_weights)

    # Sizes per organization; ACUs, duration, search and merges per size.
    org_names = [organization.name for organization in organizations]
    size_mix = np.array([SIZE_MIX_BY_ORG.get(name, DEFAULT_SIZE_MIX) for name in org_names])
    size_code = _draw_categories(rng, size_mix[org_index])
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
        created_at=_frozen(created_at.astype(np.int64)),
        user_index=_frozen(user_index.astype(np.int32)),
        service_user_index=_frozen(service_user_index.astype(np.int32)),
        org_index=_frozen(org_index.astype(np.int32)),
        origin_code=_frozen(origin_code.astype(np.int8)),
        size_code=_frozen(size_code.astype(np.int8)),
        playbook_index=_frozen(playbook_index.astype(np.int32)),
        used_search=_frozen(used_search),
        acus=_frozen(acus.astype(np.float64)),
        acus_done_at=_frozen(created_at + duration),
        merged_at=_frozen(merged_at.astype(np.int64)),
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
    choice = _draw_categories(rng, available * popularity)
    uses_playbook = (rng.random(created_at.shape[0]) < PLAYBOOK_SHARE) & available.any(axis=1)
    return np.where(uses_playbook, choice, NO_INDEX)


def _frozen(array: ArrayT) -> ArrayT:
    array.flags.writeable = False
    return array
