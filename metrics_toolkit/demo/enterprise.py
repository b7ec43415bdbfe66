"""A synthetic enterprise: its directory, its Devin sessions and its Ask Devin searches.

`generate_enterprise` builds, from a seed, a company of about 150 engineers in five
organizations, a few service users and ten playbooks (`metrics_toolkit.demo.directory`), a log
of every session they created (`metrics_toolkit.demo.sessions`) and a log of every search they
made (`metrics_toolkit.demo.searches`). The session log looks like a real company's: working
hours and weekdays, steady growth, a dip over Christmas and New Year, Slack replacing the web
app as the place sessions start, a playbook launched mid-year, large sessions that cost more
ACUs and merge less often. Each session also carries its id, the pull request it opened or took
over and what became of it (`metrics_toolkit.demo.prs`), and its category
(`metrics_toolkit.demo.categories`). The ACUs of other products, tied to no organization, and
the billing cycles follow from the seed and the calendar (`metrics_toolkit.demo.consumption`).

Like a live account, the history begins on a fixed day, `FIRST_DAY` (Monday 1 December 2025,
UTC), and ends at "now". Each day's events are a function of the seed and that day's date
alone, so a past day (a closed week) reads the same whatever "now" is; moving "now" forward
only adds what happens next: new sessions, PRs and searches, merges and closes, ACUs consumed.
A window before `FIRST_DAY` holds nothing.

It also contains, on purpose, a Simpson's paradox between two organizations
(`SIMPSON_ORG_A`, `SIMPSON_ORG_B`): A merges more often than B within every session size, yet
less often overall, because A mostly runs L/XL sessions and B mostly XS/S ones.

Everything here is pure: numpy arrays and frozen dataclasses, no I/O. All timestamps are Unix
seconds, UTC. The names of the modules above are exported here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

import numpy as np

from metrics_toolkit.demo.directory import (
    EMAIL_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    MAX_USERS,
    MIDYEAR_PLAYBOOK_TITLE,
    ORGANIZATIONS,
    PLAYBOOKS,
    ROLES,
    SERVICE_USER_DELETED_AT_FRACTION,
    SERVICE_USERS,
    SIMPSON_ORG_A,
    SIMPSON_ORG_B,
    Organization,
    Playbook,
    Role,
    RoleAssignment,
    ServiceUser,
    User,
    make_organizations,
    make_playbooks,
    make_roles,
    make_service_users,
    make_users,
)
from metrics_toolkit.demo.rhythm import (
    DAILY_NOISE,
    FIRST_DAY,
    FIRST_DAY_START,
    HOLIDAY_FACTOR,
    HUMAN_HOURLY_PROFILE,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    SECONDS_PER_YEAR,
    YEARLY_GROWTH,
    YEARS_OF_GROWTH,
    ArrayT,
    BoolArray,
    CodeArray,
    FloatArray,
    IntArray,
    SmallIntArray,
)
from metrics_toolkit.demo.searches import SEARCH_STREAM, SearchLog, make_searches
from metrics_toolkit.demo.sessions import (
    DEFAULT_MERGE_RATES,
    DEFAULT_SIZE_MIX,
    HUMAN_ORIGIN_MIX_A_YEAR_IN,
    HUMAN_ORIGIN_MIX_AT_FIRST_DAY,
    HUMAN_SESSIONS_PER_WORKDAY_A_YEAR_IN,
    LOG_SPREAD,
    MAX_DURATION_SECONDS,
    MAX_MERGE_LAG_DAYS,
    MEAN_MERGE_LAG_DAYS,
    MEDIAN_ACUS_BY_SIZE,
    MEDIAN_DURATION_HOURS_BY_SIZE,
    MERGE_RATES_BY_ORG,
    MIN_DURATION_SECONDS,
    NEVER_MERGED,
    NO_INDEX,
    ORIGINS,
    PLAYBOOK_SHARE,
    SEARCH_SHARE_BY_SIZE,
    SERVICE_HOURLY_PROFILE,
    SERVICE_ORIGIN_MIX,
    SERVICE_SESSIONS_PER_DAY_A_YEAR_IN,
    SERVICE_WEEKEND_FACTOR,
    SESSION_STREAM,
    SIZE_MIX_BY_ORG,
    SIZES,
    WEEKEND_FACTOR,
    SessionLog,
    make_sessions,
)

DEFAULT_SEED: Final = 20240601
DIRECTORY_STREAM: Final = 0
"""The directory draws from ``numpy.random.default_rng([seed, DIRECTORY_STREAM])``."""


@dataclass(frozen=True, eq=False)
class DemoEnterprise:
    """The synthetic enterprise: its directory, its session log and its search log.

    Sessions and searches were created in the half-open window [`start`, `end`), Unix seconds,
    UTC; `start` is `FIRST_DAY_START` unless a shorter history was asked for. Some PRs, merges
    and closes happen after `end` (they are already decided, just not visible yet).
    """

    seed: int
    start: int
    end: int
    organizations: tuple[Organization, ...]
    users: tuple[User, ...]
    service_users: tuple[ServiceUser, ...]
    playbooks: tuple[Playbook, ...]
    sessions: SessionLog
    searches: SearchLog

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
    *,
    seed: int = DEFAULT_SEED,
    end: datetime | None = None,
    days: int | None = None,
    users: int | None = None,
) -> DemoEnterprise:
    """Build the synthetic enterprise, its history from `FIRST_DAY` up to `end`.

    Parameters
    ----------
    seed : int
        Seed (>= 0). The directory is a function of `seed` alone; each day of the session log
        and of the search log is a function of `seed` and that day's date alone, so the same
        day holds the same events whatever `end` and `days` are. Each log draws from its own
        stream of `seed`.
    end : datetime, optional
        Timezone-aware end of the history (exclusive), after `FIRST_DAY` 00:00 UTC: "now" of
        the enterprise. Default: the current UTC time floored to the hour.
    days : int, optional
        Keep only the last `days` days (>= 1) before `end`: a shorter history, faster to build,
        whose days are those of the full one. Default: every day since `FIRST_DAY`.
    users : int, optional
        Number of people, from one per organization to `MAX_USERS`, split between the
        organizations in proportion to their usual headcounts: a bigger (or smaller) company
        with the same organizations, service users and playbooks, whose sessions and searches
        are shared among more people. Default: the usual 150 (the enterprise is then exactly
        the one generated without `users`).

    Returns
    -------
    DemoEnterprise
        Sessions and searches created in [`start`, `end`), where `start` is `FIRST_DAY`
        00:00 UTC or `end` minus `days` days, whichever is later.

    Raises
    ------
    ValueError
        If `end` is naive or not after `FIRST_DAY` 00:00 UTC, `days` is not positive or
        `users` is out of bounds.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> enterprise = generate_enterprise(end=datetime(2026, 11, 30, tzinfo=timezone.utc))
    >>> len(enterprise.sessions) > 10_000, len(enterprise.searches) > 10_000
    (True, True)
    >>> enterprise.start == FIRST_DAY_START
    True
    """
    if days is not None and days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end_ts = _end_timestamp(end)
    if end_ts <= FIRST_DAY_START:
        moment = datetime.fromtimestamp(end_ts, tz=timezone.utc).isoformat()
        raise ValueError(
            f"end must be after the demo's first day, {FIRST_DAY.isoformat()} 00:00 UTC "
            f"(the demo enterprise has no history before it), got {moment}"
        )
    start_ts = (
        FIRST_DAY_START if days is None else max(FIRST_DAY_START, end_ts - days * SECONDS_PER_DAY)
    )
    directory_rng = np.random.default_rng([seed, DIRECTORY_STREAM])
    roles = make_roles(directory_rng)
    organizations = make_organizations(directory_rng, FIRST_DAY_START)
    people = make_users(directory_rng, organizations, roles, users)
    service_users = make_service_users(directory_rng, organizations, roles, FIRST_DAY_START)
    playbooks = make_playbooks(directory_rng, organizations, people, FIRST_DAY_START)
    sessions = make_sessions(
        seed, organizations, service_users, playbooks, len(people), start_ts, end_ts
    )
    return DemoEnterprise(
        seed=seed,
        start=start_ts,
        end=end_ts,
        organizations=organizations,
        users=people,
        service_users=service_users,
        playbooks=playbooks,
        sessions=sessions,
        searches=make_searches(seed, people, start_ts, end_ts),
    )


def _end_timestamp(end: datetime | None) -> int:
    if end is None:
        now = int(datetime.now(timezone.utc).timestamp())
        return now - now % SECONDS_PER_HOUR
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError("end must be timezone-aware (for example datetime(..., tzinfo=UTC))")
    return int(end.timestamp() // 1)


__all__ = [
    "DAILY_NOISE",
    "DEFAULT_MERGE_RATES",
    "DEFAULT_SEED",
    "DEFAULT_SIZE_MIX",
    "DIRECTORY_STREAM",
    "EMAIL_DOMAIN",
    "FIRST_DAY",
    "FIRST_DAY_START",
    "FIRST_NAMES",
    "HOLIDAY_FACTOR",
    "HUMAN_HOURLY_PROFILE",
    "HUMAN_ORIGIN_MIX_AT_FIRST_DAY",
    "HUMAN_ORIGIN_MIX_A_YEAR_IN",
    "HUMAN_SESSIONS_PER_WORKDAY_A_YEAR_IN",
    "LAST_NAMES",
    "LOG_SPREAD",
    "MAX_DURATION_SECONDS",
    "MAX_MERGE_LAG_DAYS",
    "MAX_USERS",
    "MEAN_MERGE_LAG_DAYS",
    "MEDIAN_ACUS_BY_SIZE",
    "MEDIAN_DURATION_HOURS_BY_SIZE",
    "MERGE_RATES_BY_ORG",
    "MIDYEAR_PLAYBOOK_TITLE",
    "MIN_DURATION_SECONDS",
    "NEVER_MERGED",
    "NO_INDEX",
    "ORGANIZATIONS",
    "ORIGINS",
    "PLAYBOOKS",
    "PLAYBOOK_SHARE",
    "ROLES",
    "SEARCH_SHARE_BY_SIZE",
    "SEARCH_STREAM",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_YEAR",
    "SERVICE_HOURLY_PROFILE",
    "SERVICE_ORIGIN_MIX",
    "SERVICE_SESSIONS_PER_DAY_A_YEAR_IN",
    "SERVICE_USERS",
    "SERVICE_USER_DELETED_AT_FRACTION",
    "SERVICE_WEEKEND_FACTOR",
    "SESSION_STREAM",
    "SIMPSON_ORG_A",
    "SIMPSON_ORG_B",
    "SIZES",
    "SIZE_MIX_BY_ORG",
    "WEEKEND_FACTOR",
    "YEARLY_GROWTH",
    "YEARS_OF_GROWTH",
    "ArrayT",
    "BoolArray",
    "CodeArray",
    "DemoEnterprise",
    "FloatArray",
    "IntArray",
    "Organization",
    "Playbook",
    "Role",
    "RoleAssignment",
    "SearchLog",
    "ServiceUser",
    "SessionLog",
    "SmallIntArray",
    "User",
    "generate_enterprise",
]
