"""The API's words, said once: breakdown kinds, column names, row flags and the labels people read.

Every other module imports these; a new breakdown kind, column or label is one line here.
The column names are the API's field names (a test checks each against the models).
"""

from __future__ import annotations

from dataclasses import dataclass

# -- breakdown kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of directory entry, which is also a breakdown (``by=``) and a filter."""

    name: str
    """What ``by=`` and the directory call it: ``"org"``."""
    id_field: str
    """The API's id field, which is also the group column of a breakdown: ``"org_id"``."""
    filter_param: str
    """The query parameter that filters by it: ``"org_ids"``."""
    label: str
    """Lower-case words for menus and sentences: ``"organization"``."""
    noun: str
    """A heading: ``"Organization"``."""
    plural: str
    """A heading for many: ``"Organizations"``."""

    @property
    def single(self) -> bool:
        """Whether the filter takes one id (a string) rather than a list."""
        return not self.filter_param.endswith("_ids")

    @property
    def name_column(self) -> str:
        """The column a breakdown's names go in: ``"org_name"``."""
        return f"{self.name}_name"


#: Every kind, in the order menus list them.
KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("org", "org_id", "org_ids", "organization", "Organization", "Organizations"),
        Kind("user", "user_id", "user_ids", "user", "User", "Users"),
        Kind(
            "service_user",
            "service_user_id",
            "service_user_ids",
            "service user",
            "Service user",
            "Service users",
        ),
        Kind("playbook", "playbook_id", "playbook_id", "playbook", "Playbook", "Playbooks"),
    )
}
#: The id field of each kind, as the API names it.
ID_FIELDS: dict[str, str] = {name: kind.id_field for name, kind in KINDS.items()}
#: The filter each breakdown id is passed as.
BREAKDOWNS: dict[str, str] = {name: kind.filter_param for name, kind in KINDS.items()}
#: The kind each filter parameter names: ``{"org_ids": "org", ...}``.
KIND_OF_FILTER: dict[str, str] = {kind.filter_param: name for name, kind in KINDS.items()}

# -- the session metrics' fields (also the wide frame's columns) -------------------------------

SESSIONS = "sessions_created_count"
ORIGIN_FIELD = "sessions_created_by_origin"
SIZE_FIELD = "sessions_created_by_size"
PLAYBOOK = "sessions_created_with_playbook_count"
SEARCH = "sessions_created_with_search_count"
MERGED = "sessions_with_merged_prs_count"
MERGED_SIZE_FIELD = "sessions_with_merged_prs_by_size"
#: The one non-additive metric of the answer: combined weighted by ``SESSIONS``.
AVERAGE = "avg_acus_per_session"

# -- derived columns (ratios of sums, recomputed after every rollup) ----------------------------

ACUS_TOTAL = "acus_total"
MERGE_RATE = "merged_pr_rate"
PLAYBOOK_SHARE = "playbook_share"
SEARCH_SHARE = "search_share"
DERIVED_PREFIXES = (ACUS_TOTAL, MERGE_RATE, PLAYBOOK_SHARE, SEARCH_SHARE)

# -- columns that describe a row rather than measure it ----------------------------------------

#: Index of every frame: the bucket's start, tz-aware.
BUCKET_START = "bucket_start"
BUCKET_END = "bucket_end"
#: The row's flags, in the order notes name them: reaches past "now", cut by the range, no answer.
ROW_FLAGS = ("partial", "clipped", "failed")
ERROR = "error"
ROW_COLUMNS = (BUCKET_END, *ROW_FLAGS, ERROR)

# -- the labels people read --------------------------------------------------------------------

#: Session origins the API documents, in the spec's order, and how people name them.
ORIGIN_LABELS: dict[str, str] = {
    "api": "API",
    "automation": "Automation",
    "code_scan": "Code scan",
    "desktop": "Desktop",
    "jira": "Jira",
    "linear": "Linear",
    "slack": "Slack",
    "teams": "Teams",
    "webapp": "Web app",
}
#: Session sizes the API documents, smallest first, and how people name them.
SIZE_LABELS: dict[str, str] = {"xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL"}
ORIGINS = tuple(ORIGIN_LABELS)
SIZES = tuple(SIZE_LABELS)
#: The label of the groups beyond the top N of a chart or table.
OTHER_LABEL = "other"


def origin_label(origin: str) -> str:
    """How people name an origin: ``"webapp"`` -> ``"Web app"``; an unknown one as sent."""
    return ORIGIN_LABELS.get(origin, origin.replace("_", " ").capitalize())


def size_label(size: str) -> str:
    """How people name a size: ``"xl"`` -> ``"XL"``; an unknown one upper-cased."""
    return SIZE_LABELS.get(size, size.upper())


# -- the rest of the metrics family: fields the declarations name ------------------------------

#: PRs Devin created that are open now: a state, not an event of the window.
PRS_OPENED = "prs_opened_count"
#: PRs Devin took over that are open now: a state, likewise.
PRS_TAKEN_OVER_OPENED = "prs_taken_over_opened_count"
#: Distinct active users of a window: never summed, never split.
ACTIVE_USERS = "active_users"

# -- scopes, and the permissions a 403 names ---------------------------------------------------

#: Whose data a path answers for: the whole enterprise, or one organization.
ENTERPRISE = "enterprise"
ORGANIZATION = "organization"
SCOPES = (ENTERPRISE, ORGANIZATION)
#: The permissions the editions of the docs name (they disagree: a 403 names every candidate).
VIEW_ACCOUNT_METRICS = "ViewAccountMetrics"
VIEW_ORG_METRICS = "ViewOrgMetrics"
MANAGE_BILLING = "ManageBilling"
VIEW_ACCOUNT_CONSUMPTION = "ViewAccountConsumption"
VIEW_ORG_CONSUMPTION = "ViewOrgConsumption"

# -- the wire -----------------------------------------------------------------------------------

#: How a list parameter is written: repeated keys (``user_ids=a&user_ids=b``, OpenAPI's and
#: FastAPI's default) or comma-joined (``user_ids=a,b``, as Cognition's own SDK sends).
LIST_FORMATS = ("repeat", "comma")

# -- billing days -------------------------------------------------------------------------------

#: Billing days start at midnight PST, which the docs give as 08:00 UTC all year: seconds after
#: midnight UTC.
BILLING_DAY_START = 8 * 3600
#: Seconds in a billing day.
BILLING_DAY = 24 * 3600

# -- active users -------------------------------------------------------------------------------

#: The API's default of ``min_sessions`` and ``min_searches``: a user is active with at least
#: one session OR at least one search in the window.
ACTIVE_THRESHOLD = 1

# -- consumption ---------------------------------------------------------------------------------

#: Products whose ACUs a consumption row splits, and how people name them.
PRODUCT_LABELS: dict[str, str] = {
    "devin": "Devin",
    "cascade": "Cascade",
    "terminal": "Terminal",
    "review": "Review",
}


def product_label(product: str) -> str:
    """How people name a product: ``"devin"`` -> ``"Devin"``; an unknown one capitalised."""
    return PRODUCT_LABELS.get(product, product.replace("_", " ").capitalize())


# -- the family's series: columns and calendars ---------------------------------------

#: PRs Devin created in a window, and of those the ones merged by now.
PRS_CREATED = "prs_created_count"
PRS_MERGED = "prs_merged_count"
#: Searches (Ask Devin queries) made in a window.
SEARCHES = "searches_created_count"
#: ACUs of a billing day (or of a category), and the same by product (``acus_by_product.devin``).
ACUS = "acus"
ACUS_BY_PRODUCT = "acus_by_product"
#: ``frame.attrs["calendar"]`` of a frame in billing days: never relabelled as calendar days.
BILLING_CALENDAR = "billing days (08:00 UTC)"

# -- PR outcomes ----------------------------------------------------------------------------------

#: PRs Devin created in a window that were closed without merging, and those it took over.
PRS_CLOSED = "prs_closed_count"
PRS_TAKEN_OVER = "prs_taken_over_count"
#: What became of a window's PRs, as charts name them (they add up to ``prs_created_count``).
PR_OUTCOME_LABELS: dict[str, str] = {
    PRS_MERGED: "merged",
    PRS_CLOSED: "closed unmerged",
    PRS_OPENED: "still open",
}
#: The share of a window's decided PRs that merged: merged / (merged + closed), 0 to 1.
MERGED_OF_CLOSED_LABEL = "merged of decided PRs"
#: Active users in words, and stickiness: mean daily active users of a month over its monthly.
ACTIVE_USERS_LABEL = "active users"
STICKINESS_LABEL = "stickiness (DAU/MAU)"
