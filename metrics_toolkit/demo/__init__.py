"""A synthetic enterprise and an API simulator serving it, in process or over HTTP.

`generate_enterprise` builds the data (a directory, a session log with each session's pull
request and category, and a search log), `DemoAPI` answers the Devin v3 metrics family from it
(sessions, PRs, usage, searches, active users, sessions by category, daily ACU consumption and
billing cycles, at enterprise and organization scope), `DemoAdapter` plugs `DemoAPI` into a
`requests.Session`, and `DemoServer` serves it on 127.0.0.1 with optional latency and faults
(`FaultPlan`). `DEMO_API_KEY` is an enterprise key; `DEMO_ORG_API_KEY` is scoped to the first
organization.

The enterprise's history begins on `FIRST_DAY` (Monday 1 December 2025, UTC) and ends at "now".
Each day's events depend on the seed and that day's date alone, so a closed week reads the same
whatever "now" is; a window before `FIRST_DAY` counts 0 (the simulator logs that it does).
"""

from metrics_toolkit.demo.enterprise import (
    DEFAULT_SEED,
    FIRST_DAY,
    NEVER_MERGED,
    NO_INDEX,
    ORIGINS,
    SIMPSON_ORG_A,
    SIMPSON_ORG_B,
    SIZES,
    DemoEnterprise,
    Organization,
    Playbook,
    Role,
    RoleAssignment,
    SearchLog,
    ServiceUser,
    SessionLog,
    User,
    generate_enterprise,
)
from metrics_toolkit.demo.server import DemoServer, FaultPlan, serve_forever
from metrics_toolkit.demo.simulator import (
    DEMO_API_KEY,
    DEMO_KEY_WITHOUT_PERMISSIONS,
    DEMO_ORG_API_KEY,
    DemoAPI,
    DemoResponse,
)
from metrics_toolkit.demo.transport import DEMO_BASE_URL, DemoAdapter

__all__ = [
    "DEFAULT_SEED",
    "DEMO_API_KEY",
    "DEMO_BASE_URL",
    "DEMO_KEY_WITHOUT_PERMISSIONS",
    "DEMO_ORG_API_KEY",
    "FIRST_DAY",
    "NEVER_MERGED",
    "NO_INDEX",
    "ORIGINS",
    "SIMPSON_ORG_A",
    "SIMPSON_ORG_B",
    "SIZES",
    "DemoAPI",
    "DemoAdapter",
    "DemoEnterprise",
    "DemoResponse",
    "DemoServer",
    "FaultPlan",
    "Organization",
    "Playbook",
    "Role",
    "RoleAssignment",
    "SearchLog",
    "ServiceUser",
    "SessionLog",
    "User",
    "generate_enterprise",
    "serve_forever",
]
