"""The synthetic enterprise's directory: roles, organizations, people, service users, playbooks.

Five organizations of 24 to 36 engineers, five service users (one deleted part-way through the
first year), four roles and ten playbooks, one of them launched mid-year. The `make_*` functions
draw ids from the generator they are given, in the order `generate_enterprise` calls them.
Every date is placed relative to the demo's first day (`first_day`, Unix seconds), never to
"now": the directory is the same whatever window of the logs is generated.

Pure: frozen dataclasses, no I/O. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metrics_toolkit.demo.rhythm import SECONDS_PER_DAY, SECONDS_PER_YEAR

__all__ = [
    "Organization",
    "Playbook",
    "Role",
    "RoleAssignment",
    "ServiceUser",
    "User",
    "headcounts",
    "hex_id",
    "make_organizations",
    "make_playbooks",
    "make_roles",
    "make_service_users",
    "make_users",
]

EMAIL_DOMAIN: Final = "acme-corp.example"

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

# Service users: name, organization, share of the service sessions, inactive.
SERVICE_USERS: Final = (
    ("ci-bot", "Platform", 0.40, False),
    ("release-bot", "Payments", 0.15, False),
    ("nightly-scanner", "Data", 0.25, False),
    ("jira-sync", "Mobile", 0.15, False),
    ("legacy-importer", "Growth", 0.05, True),
)
SERVICE_USER_DELETED_AT_FRACTION: Final = 0.4
"""The inactive service user is deleted this far into the demo's first year (0..1)."""

# Playbooks: title, organization (None: enterprise-wide), launch, popularity. A launch below 0
# means "before the first day"; otherwise it is the fraction of the first year at which it
# appears.
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
MAX_USERS: Final = len(FIRST_NAMES) * len(LAST_NAMES)
"""Most people a directory holds: each has a first and last name no one else has."""


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


def headcounts(total: int | None = None) -> list[int]:
    """People per organization, in the order of `ORGANIZATIONS`.

    With `total` (>= one per organization, at most `MAX_USERS`), the headcounts of
    `ORGANIZATIONS` scaled to add up to `total` (largest remainders, at least one each);
    without it, or with their own sum, those headcounts as they are.
    """
    counts = [headcount for _, headcount, _, _ in ORGANIZATIONS]
    if total is None or total == sum(counts):
        return counts
    if not len(counts) <= total <= MAX_USERS:
        raise ValueError(f"users must be from {len(counts)} to {MAX_USERS}, got {total}")
    shares = [headcount * total / sum(counts) for headcount in counts]
    scaled = [max(1, int(share)) for share in shares]
    by_remainder = sorted(range(len(counts)), key=lambda i: int(shares[i]) - shares[i])
    for i in by_remainder[: total - sum(scaled)]:
        scaled[i] += 1
    return scaled


def hex_id(rng: np.random.Generator, n_bytes: int) -> str:
    """`n_bytes` random bytes as lowercase hexadecimal (2 * `n_bytes` characters)."""
    return rng.bytes(n_bytes).hex()


def make_roles(rng: np.random.Generator) -> tuple[Role, ...]:
    """The roles of `ROLES`, each with a random id."""
    return tuple(Role(f"role-{hex_id(rng, 6)}", name, role_type) for name, role_type in ROLES)


def make_organizations(rng: np.random.Generator, first_day: int) -> tuple[Organization, ...]:
    """The organizations of `ORGANIZATIONS`, created 30 to 400 days before `first_day`.

    Each was last updated between its creation and `first_day` (Unix seconds).
    """
    organizations = []
    for name, _, session_limit, cycle_limit in ORGANIZATIONS:
        created_at = first_day - int(rng.integers(30, 400)) * SECONDS_PER_DAY
        updated_at = int(rng.integers(created_at, first_day))
        org_id = f"org-{hex_id(rng, 6)}"
        organizations.append(
            Organization(org_id, name, created_at, updated_at, session_limit, cycle_limit)
        )
    return tuple(organizations)


def make_users(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    roles: tuple[Role, ...],
    total: int | None = None,
) -> tuple[User, ...]:
    """The people, grouped by organization; each belongs to exactly one.

    The first person of each organization is its admin; the very first is also the enterprise
    admin. Names are distinct. There are `total` people (`headcounts` splits them), or the
    headcounts of `ORGANIZATIONS` without it.
    """
    enterprise_admin, _, org_admin, org_member = roles
    counts = headcounts(total)
    name_pairs = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=sum(counts), replace=False)
    org_of_user = np.repeat(np.arange(len(organizations)), counts)
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
                user_id=f"user-{hex_id(rng, 8)}",
                name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}",
                org_index=int(org_index),
                role_assignments=tuple(assignments),
            )
        )
    return tuple(users)


def make_service_users(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    roles: tuple[Role, ...],
    first_day: int,
) -> tuple[ServiceUser, ...]:
    """The service users of `SERVICE_USERS`.

    The inactive one is deleted `SERVICE_USER_DELETED_AT_FRACTION` into the first year after
    `first_day` (Unix seconds); every other one expires 60 to 400 days after that first year.
    """
    member = roles[1]
    org_names = [organization.name for organization in organizations]
    deleted_at = first_day + int(SERVICE_USER_DELETED_AT_FRACTION * SECONDS_PER_YEAR)
    year_later = first_day + SECONDS_PER_YEAR
    service_users = []
    for position, (name, org_name, _, inactive) in enumerate(SERVICE_USERS):
        expires_at = (
            year_later + int(rng.integers(60, 400)) * SECONDS_PER_DAY if position % 2 else None
        )
        service_users.append(
            ServiceUser(
                service_user_id=f"service-user-{hex_id(rng, 8)}",
                name=name,
                org_index=org_names.index(org_name),
                expires_at=expires_at,
                deleted_at=deleted_at if inactive else None,
                role_assignments=(RoleAssignment(member, None),),
            )
        )
    return tuple(service_users)


def make_playbooks(
    rng: np.random.Generator,
    organizations: tuple[Organization, ...],
    users: tuple[User, ...],
    first_day: int,
) -> tuple[Playbook, ...]:
    """The playbooks of `PLAYBOOKS`, each written by a random person.

    Each is created at its launch relative to `first_day` (Unix seconds) and updated 0 to 59
    days later (which may still lie ahead of "now": the directory then shows its creation).
    """
    org_ids = {organization.name: organization.org_id for organization in organizations}
    playbooks = []
    for title, org_name, launch, _ in PLAYBOOKS:
        if launch < 0:
            created_at = first_day - int(rng.integers(10, 200)) * SECONDS_PER_DAY
        else:
            created_at = first_day + int(launch * SECONDS_PER_YEAR)
        updated_at = created_at + int(rng.integers(0, 60)) * SECONDS_PER_DAY
        author = users[int(rng.integers(len(users)))].user_id
        slug = "-".join(title.lower().split())
        playbooks.append(
            Playbook(
                playbook_id=f"playbook-{hex_id(rng, 8)}",
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
