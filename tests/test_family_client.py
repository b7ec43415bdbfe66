"""The rest of the metrics family through the client: every declaration is a path of the
compiled OpenAPI document with its parameters, each typed method asks the right path at either
scope, what exists only at enterprise scope is refused before any request, lists go on the wire
in either format, and a 403 names every candidate permission.

The server here is started by the tests on 127.0.0.1 and answers bodies built from the compiled
schemas (each body is checked against its schema first).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import numpy as np
import pandas as pd
import pytest
import referencing
import referencing.jsonschema
import yaml

import metrics_toolkit as mt
from metrics_toolkit import _vocabulary as words
from metrics_toolkit._endpoints import (
    CONSUMPTION,
    CYCLES,
    ENDPOINTS,
    ENTITY_METRICS,
    METRICS,
    PR_METRICS,
    SESSION_METRICS,
    USAGE_METRICS,
    Endpoint,
    Rule,
    scoped,
)
from metrics_toolkit._wire import with_query
from metrics_toolkit.demo import DEMO_API_KEY, DEMO_ORG_API_KEY, DemoAPI, DemoEnterprise, DemoServer
from metrics_toolkit.errors import ScopeError

from ._reliability import SECRET
from .conftest import NOW

DATA = Path(__file__).parent / "data"
SPEC = yaml.safe_load((DATA / "metrics-family.openapi.yaml").read_text(encoding="utf-8"))
DIRECTORY_SPEC = json.loads((DATA / "directory.openapi.json").read_text(encoding="utf-8"))
#: A token the scripted server answers 403 for, naming the organization permission.
LIMITED = "cog_limited_abc123"
MONDAY = 1795392000  # 2026-11-23 00:00 UTC
DAY = 86_400
WEEK = ("2026-11-16", "2026-11-23")
ORG = "org-1"


def parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's parameters, $refs resolved."""
    found = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[1]
            parameter = SPEC["components"]["parameters"][name]
        found.append(parameter)
    return found


def operation_of(path: str) -> dict[str, Any]:
    for spec in (SPEC, DIRECTORY_SPEC):
        if path in spec["paths"]:
            return dict(spec["paths"][path]["get"])
    raise AssertionError(f"{path} is not a path of the compiled OpenAPI documents")


# -- the declarations against the compiled OpenAPI document ----------------------------------


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_declaration_is_a_path_of_the_document_with_its_parameters(name: str) -> None:
    endpoint = ENDPOINTS[name]
    declared = parameters(operation_of(endpoint.path))
    query = {p["name"] for p in declared if p["in"] == "query"}
    path = {p["name"] for p in declared if p["in"] == "path"}
    assert set(endpoint.query_parameters) == query
    assert set(endpoint.placeholders) == path
    required = {p["name"] for p in declared if p.get("required") and p["in"] == "query"}
    window = {"time_after", "time_before"}
    assert endpoint.window == (
        "required" if window <= required else "optional" if window <= query else "none"
    )
    assert endpoint.scope == (
        "organization" if endpoint.path.startswith("/v3/organizations/") else "enterprise"
    )


@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
def test_every_path_of_the_family_is_declared_once_with_every_permission_named(path: str) -> None:
    [endpoint] = [endpoint for endpoint in ENDPOINTS.values() if endpoint.path == path]
    permission = SPEC["paths"][path]["get"]["x-permission"]
    candidates = permission.get("candidates", [permission])
    named = " ".join(endpoint.candidates)
    for candidate in candidates:
        assert f"{candidate['name']} (" in named, candidate
    assert endpoint.permission == candidates[0]["name"]


def test_the_family_is_28_endpoints_and_the_directory_lists() -> None:
    assert len(SPEC["paths"]) == 28
    assert len(ENDPOINTS) == 28 + 4
    assert set(METRICS) == {
        "sessions",
        "prs",
        "usage",
        "searches",
        "active_users",
        "dau",
        "wau",
        "mau",
        "categories",
        "consumption",
        "cycles",
    }
    enterprise_only = {name for name, metric in METRICS.items() if metric.organization is None}
    assert enterprise_only == {"categories", "cycles"}
    assert ENTITY_METRICS["org_usage"].organization is METRICS["usage"].organization


def test_how_each_field_combines_is_declared() -> None:
    prs = METRICS["prs"]
    for endpoint in (prs.enterprise, prs.organization):
        assert endpoint is not None
        rules = {name: rule.rule for name, rule in endpoint.fields.items()}
        assert rules == {words.PRS_OPENED: Rule.STATE, words.PRS_TAKEN_OVER_OPENED: Rule.STATE}
        assert set(rules) <= set(endpoint.model.model_fields)
    active = METRICS["active_users"].enterprise
    assert active is not None and active.fields[words.ACTIVE_USERS].rule is Rule.DISTINCT
    never_split = {name for name, endpoint in ENDPOINTS.items() if not endpoint.splittable}
    assert {"active_users", "dau", "wau", "mau", "categories", "consumption", "cycles"} <= (
        never_split
    )
    assert {"sessions", "prs", "usage", "searches"}.isdisjoint(never_split)
    assert all(ENDPOINTS[name].splittable is False for name in never_split)


def test_a_placeholder_is_filled_quoted_and_leaves_the_query() -> None:
    endpoint = ENTITY_METRICS["user_consumption"].organization
    assert endpoint is not None
    path, query = endpoint.fill({"org_id": ORG, "user_id": "a/b c", "time_after": 1})
    assert path == "/v3/organizations/org-1/consumption/daily/users/a%2Fb%20c"
    assert query == {"time_after": 1}
    for bad in (None, "", "..", "."):
        with pytest.raises(mt.InvalidParameterError, match="user_id"):
            endpoint.fill({"org_id": ORG, "user_id": bad})


def test_lists_go_on_the_wire_in_either_format() -> None:
    query = {"time_after": 1, "user_ids": ["u-1", "u 2"], "org_ids": []}
    assert with_query("/m", query) == "/m?time_after=1&user_ids=u-1&user_ids=u+2"
    assert with_query("/m", query, "comma") == "/m?time_after=1&user_ids=u-1,u+2"
    with pytest.raises(mt.InvalidParameterError, match="comma"):
        with_query("/m", {"user_ids": ["a,b"]}, "comma")


# -- a server the tests start -----------------------------------------------------------------

SCHEMAS = referencing.Registry().with_resource(
    "urn:family", referencing.jsonschema.DRAFT202012.create_resource(SPEC)
)


def checked(schema: str, body: Any) -> bytes:
    """``body`` as JSON, after checking it against the compiled schema ``schema``."""
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"urn:family#/components/schemas/{schema}"}, registry=SCHEMAS
    )
    validator.validate(body)
    return json.dumps(body).encode()


def consumption_body(path: str) -> bytes:
    """Two billing days; the amount differs by path, so each entity has its own answer."""
    amount = float(len(path))
    rows = [
        {
            "date": MONDAY + words.BILLING_DAY_START + day * DAY,
            "acus": amount,
            "acus_by_product": {"devin": amount, "cascade": 0.0, "terminal": 0.0, "review": 0.0},
        }
        for day in range(2)
    ]
    return checked("ConsumptionResponse", {"total_acus": 2 * amount, "consumption_by_date": rows})


def answer(path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
    """The scripted answer of one GET."""
    after = int(query.get("time_after", [MONDAY])[0])
    before = int(query.get("time_before", [MONDAY + 7 * DAY])[0])
    tail = path.rsplit("/", 1)[1]
    if "/consumption/cycles" in path:
        later = query.get("after") == ["c1"]
        start = MONDAY + words.BILLING_DAY_START + (30 * DAY if later else 0)
        page = {
            "items": [{"after": start, "before": start + 30 * DAY}],
            "has_next_page": not later,
            "end_cursor": None if later else "c1",
        }
        return 200, checked("PaginatedResponse_ConsumptionCycle_", page)
    if "/consumption/daily" in path:
        return 200, consumption_body(path)
    if tail in DIRECTORY:
        return 200, json.dumps({"items": DIRECTORY[tail], "has_next_page": False}).encode()
    bodies: dict[str, tuple[str, Any]] = {
        "sessions": ("SessionMetricsResponse", SESSIONS_BODY),
        "prs": ("PrMetricsResponse", PRS_BODY),
        "usage": ("UsageMetrics", USAGE_BODY),
        "searches": ("SearchMetricsResponse", {"searches_created_count": 5}),
        "active-users": (
            "ActiveUserMetricsResponse",
            {"active_users": 4, "start_time": after, "end_time": before},
        ),
        "sessions-by-category": ("SessionsByCategoryResponse", CATEGORIES_BODY),
    }
    if tail in ("dau", "wau", "mau"):
        middle = (after + before) // 2
        periods = [
            {"active_users": 2, "start_time": after, "end_time": middle - 1},  # ...:59, inclusive
            {"active_users": 3, "start_time": middle, "end_time": before},
        ]
        return 200, checked("ActiveUserMetricsListResponse", periods)
    if tail in bodies:
        schema, body = bodies[tail]
        return 200, checked(schema, body)
    return 404, b'{"detail": "Not Found"}'


DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "organizations": [{"org_id": ORG, "name": "Platform", "created_at": 0, "updated_at": 0}],
    "users": [{"user_id": "user-1", "email": "ada@example.com", "name": "Ada"}],
    "service-users": [{"service_user_id": "service-user-1", "name": "CI bot"}],
    "playbooks": [],
}
SESSIONS_BODY = {
    "sessions_created_count": 3,
    "sessions_created_by_origin": {"slack": 3},
    "sessions_created_by_size": {"s": 3},
    "sessions_created_with_playbook_count": 0,
    "sessions_created_with_search_count": 0,
    "sessions_with_merged_prs_count": 1,
    "sessions_with_merged_prs_by_size": {"s": 1},
    "avg_acus_per_session": 2.0,
}
PRS_BODY = {
    "prs_created_count": 10,
    "prs_opened_count": 2,
    "prs_merged_count": 7,
    "prs_closed_count": 1,
    "prs_taken_over_count": 1,
    "prs_taken_over_opened_count": 0,
    "prs_taken_over_merged_count": 1,
    "prs_taken_over_closed_count": 0,
}
USAGE_BODY = {
    "sessions_count": 3,
    "searches_count": 5,
    "prs_created_count": 10,
    "prs_merged_count": 7,
}
CATEGORIES_BODY = {
    "categories": [
        {
            "category": "Bug fix",
            "sessions_count": 3,
            "acus": 6.0,
            "subcategories": [
                {
                    "subcategory_id": "sub-1",
                    "display_name": "Crash",
                    "sessions_count": 2,
                    "acus": 4.0,
                },
                {"subcategory_id": None, "display_name": "Other", "sessions_count": 1, "acus": 2.0},
            ],
        }
    ]
}


class _Family(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        parts = urlsplit(self.path)
        if self.headers.get("Authorization") == f"Bearer {LIMITED}":
            needs = "ViewOrgMetrics" if "/metrics/" in parts.path else "ManageBilling"
            status, body = 403, json.dumps({"detail": f"Missing permission {needs}"}).encode()
        else:
            status, body = answer(parts.path, parse_qs(parts.query))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def family() -> Iterator[tuple[str, list[str]]]:
    """(base URL, paths seen) of a server answering the whole family."""
    seen: list[str] = []
    handler = type("Handler", (_Family,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def client_of(url: str, **settings: Any) -> mt.MetricsClient:
    settings.setdefault("cache", False)
    return mt.MetricsClient(settings.pop("api_key", SECRET), base_url=url, backoff=0.0, **settings)


Call = Callable[[mt.MetricsClient], Any]

#: Each typed method, and the path it asks at enterprise scope and at organization scope.
CALLS: list[tuple[str, Call, str, str]] = [
    (
        "sessions",
        lambda c: c.session_metrics(*WEEK),
        "/v3/enterprise/metrics/sessions",
        "/v3/organizations/org-1/metrics/sessions",
    ),
    (
        "prs",
        lambda c: c.pr_metrics(*WEEK, user_ids=["user-1"], allow_unknown_ids=True),
        "/v3/enterprise/metrics/prs",
        "/v3/organizations/org-1/metrics/prs",
    ),
    (
        "usage",
        lambda c: c.usage_metrics(*WEEK),
        "/v3/enterprise/metrics/usage",
        "/v3/organizations/org-1/metrics/usage",
    ),
    (
        "one org's usage",
        lambda c: c.usage_metrics(*WEEK, org_id=ORG, allow_unknown_ids=True),
        "/v3/enterprise/organizations/org-1/metrics/usage",
        "/v3/organizations/org-1/metrics/usage",
    ),
    (
        "searches",
        lambda c: c.search_metrics(*WEEK),
        "/v3/enterprise/metrics/searches",
        "/v3/organizations/org-1/metrics/searches",
    ),
    (
        "active users",
        lambda c: c.active_users(*WEEK, min_sessions=2, min_searches=0),
        "/v3/enterprise/metrics/active-users",
        "/v3/organizations/org-1/metrics/active-users",
    ),
    (
        "dau",
        lambda c: c.daily_active_users(*WEEK),
        "/v3/enterprise/metrics/dau",
        "/v3/organizations/org-1/metrics/dau",
    ),
    (
        "wau",
        lambda c: c.weekly_active_users(*WEEK),
        "/v3/enterprise/metrics/wau",
        "/v3/organizations/org-1/metrics/wau",
    ),
    (
        "mau",
        lambda c: c.monthly_active_users(*WEEK),
        "/v3/enterprise/metrics/mau",
        "/v3/organizations/org-1/metrics/mau",
    ),
    (
        "consumption",
        lambda c: c.consumption(*WEEK),
        "/v3/enterprise/consumption/daily",
        "/v3/organizations/org-1/consumption/daily",
    ),
    (
        "one org's consumption",
        lambda c: c.consumption(*WEEK, org_id=ORG, allow_unknown_ids=True),
        "/v3/enterprise/consumption/daily/organizations/org-1",
        "/v3/organizations/org-1/consumption/daily",
    ),
    (
        "a user's consumption",
        lambda c: c.consumption(*WEEK, user_id="user-1", allow_unknown_ids=True),
        "/v3/enterprise/consumption/daily/users/user-1",
        "/v3/organizations/org-1/consumption/daily/users/user-1",
    ),
    (
        "a service user's consumption",
        lambda c: c.consumption(service_user_id="service-user-1", allow_unknown_ids=True),
        "/v3/enterprise/consumption/daily/service-users/service-user-1",
        "/v3/organizations/org-1/consumption/daily/service-users/service-user-1",
    ),
    (
        "a session's consumption",
        lambda c: c.consumption(session_id="devin-abc123"),
        "/v3/enterprise/consumption/daily/sessions/devin-abc123",
        "/v3/organizations/org-1/consumption/daily/sessions/devin-abc123",
    ),
]


@pytest.mark.parametrize(
    ("call", "enterprise", "organization"),
    [call[1:] for call in CALLS],
    ids=[call[0] for call in CALLS],
)
def test_each_typed_method_asks_its_path_at_either_scope(
    family: tuple[str, list[str]], call: Call, enterprise: str, organization: str
) -> None:
    url, seen = family
    for client, path in ((client_of(url), enterprise), (client_of(url, org_id=ORG), organization)):
        seen.clear()
        answered = call(client)
        assert [sent.split("?")[0] for sent in seen] == [path]
        assert answered  # parsed into its model


def test_the_answers_are_the_models_with_their_windows(family: tuple[str, list[str]]) -> None:
    url, seen = family
    client = client_of(url)
    prs = client.pr_metrics(*WEEK)
    assert prs.prs_created_count == prs.prs_opened_count + prs.prs_merged_count + 1
    assert prs.window_text() == "[2026-11-16, 2026-11-23) UTC"
    active = client.active_users(*WEEK, min_sessions=0)
    assert active.active_users == 4 and "min_sessions=0&min_searches=1" in seen[-1]
    days = client.daily_active_users(*WEEK)
    assert days[0].period[1] == days[1].start_time  # an inclusive end read as exclusive
    categories = client.sessions_by_category(*WEEK).categories
    assert sum(sub.sessions_count for sub in categories[0].subcategories) == 3
    cycles = client.billing_cycles()
    assert len(cycles) == 2 and cycles[0].before == cycles[1].after  # both pages, in order
    assert client.usage_metrics().sessions_count == 3
    assert "time_after" not in seen[-1]  # no window: the current billing cycle


def test_names_in_a_path_are_read_from_the_directory(family: tuple[str, list[str]]) -> None:
    url, seen = family
    client = client_of(url)
    client.usage_metrics(org_id="Platform")
    client.consumption(user_id="ada@example.com")
    client.consumption(service_user_id="CI bot")
    asked = [sent.split("?")[0] for sent in seen if "/metrics/" in sent or "/daily" in sent]
    assert asked == [
        "/v3/enterprise/organizations/org-1/metrics/usage",
        "/v3/enterprise/consumption/daily/users/user-1",
        "/v3/enterprise/consumption/daily/service-users/service-user-1",
    ]
    with pytest.raises(mt.InvalidParameterError, match="org_id"):
        client.usage_metrics(org_id="Platfrom")  # not listed: refused, with the closest name


def test_an_optional_window_is_both_bounds_or_neither(family: tuple[str, list[str]]) -> None:
    url, seen = family
    client = client_of(url)
    with pytest.raises(mt.InvalidParameterError, match="time_before"):
        client.usage_metrics("2026-11-16")
    with pytest.raises(mt.InvalidParameterError, match="time_after"):
        client.consumption(time_before="2026-11-16")
    with pytest.raises(mt.InvalidParameterError, match="min_sessions"):
        client.active_users(*WEEK, min_sessions=-1)
    with pytest.raises(mt.InvalidParameterError, match="at most one"):
        client.consumption(user_id="user-1", session_id="devin-1", allow_unknown_ids=True)
    with pytest.raises(mt.InvalidParameterError, match="user_id"):
        client.consumption(user_id="user\x00", allow_unknown_ids=True)
    assert seen == []


def test_each_entity_has_its_own_stored_answer(
    family: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = family
    client = client_of(url, cache=True, cache_dir=tmp_path, now="2027-06-01")
    first = client.consumption(*WEEK, user_id="user-1", allow_unknown_ids=True)
    second = client.consumption(*WEEK, user_id="user-22", allow_unknown_ids=True)
    assert first.total_acus != second.total_acus and len(seen) == 2
    again = client.consumption(*WEEK, user_id="user-1", allow_unknown_ids=True)
    assert again == first and len(seen) == 2  # from the store, under its own URL
    client.close()


def test_consumption_is_never_split_and_usage_is(family: tuple[str, list[str]]) -> None:
    url, seen = family
    client = client_of(url, max_window=dt.timedelta(days=2))
    client.consumption(*WEEK)
    assert len(seen) == 1
    seen.clear()
    usage = client.usage_metrics(*WEEK)
    assert len(seen) == 4 and usage.sessions_count == 4 * USAGE_BODY["sessions_count"]


# -- organization scope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda c: c.billing_cycles(), "org_id"),
        (lambda c: c.sessions_by_category(*WEEK), "org_id"),
        (lambda c: c.directory(), "org_id"),
        (lambda c: c.search_metrics(*WEEK, org_ids=["org-1"], allow_unknown_ids=True), "org_ids"),
        (lambda c: c.session_metrics_frame(*WEEK, by="org"), "by"),
        (lambda c: c.session_metrics_frame(*WEEK, org_ids=["org-1"]), "org_ids"),
        (lambda c: c.usage_metrics(org_id="org-2"), "org_id"),
        (lambda c: c.consumption(org_id="org-2"), "org_id"),
        (lambda c: c.pr_metrics(*WEEK, user_ids=["ada@example.com"]), "user_ids"),
    ],
    ids=[
        "cycles",
        "categories",
        "directory",
        "org_ids",
        "by org",
        "frame org_ids",
        "another org's usage",
        "another org's consumption",
        "a name",
    ],
)
def test_what_exists_only_at_enterprise_scope_is_refused_before_any_request(
    family: tuple[str, list[str]], call: Call, parameter: str
) -> None:
    url, seen = family
    client = client_of(url, org_id=ORG)
    assert client.scope == "organization" and client_of(url).scope == "enterprise"
    with pytest.raises(ScopeError) as caught:
        call(client)
    assert caught.value.parameter == parameter
    assert "this client is scoped to organization org-1" in str(caught.value)
    assert isinstance(caught.value, mt.InvalidParameterError)
    assert seen == []


def test_an_enterprise_token_may_call_an_organizations_paths(
    family: tuple[str, list[str]],
) -> None:
    url, seen = family
    client = client_of(url)
    client.consumption(org_id=ORG, user_id="user-1", allow_unknown_ids=True)
    assert seen[-1] == "/v3/organizations/org-1/consumption/daily/users/user-1"
    endpoint, params = scoped(SESSION_METRICS, {"time_after": 0}, None)
    assert endpoint is SESSION_METRICS and params == {"time_after": 0}


def test_a_series_at_organization_scope_asks_and_stores_the_organizations_path(
    family: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = family
    client = client_of(url, org_id=ORG, cache=True, cache_dir=tmp_path, now="2027-06-01")
    frame = client.session_metrics_frame("2026-11-02", "2026-11-16", freq="week")
    assert frame["sessions_created_count"].tolist() == [3, 3]
    assert {sent.split("?")[0] for sent in seen} == {"/v3/organizations/org-1/metrics/sessions"}
    again = client.session_metrics_frame("2026-11-02", "2026-11-16", freq="week")
    assert again.attrs["fetch_stats"].from_cache == 2 and len(seen) == 2
    enterprise = client_of(url, cache=True, cache_dir=tmp_path, now="2027-06-01")
    enterprise.session_metrics_frame("2026-11-02", "2026-11-16", freq="week")
    assert len(seen) == 4  # the enterprise's weeks are other answers
    client.close()
    enterprise.close()


@pytest.mark.parametrize("org_id", ["", "org 1", "a,b", 7])
def test_a_malformed_scope_or_list_format_is_refused(org_id: Any) -> None:
    with pytest.raises(mt.InvalidParameterError, match="org_id"):
        mt.MetricsClient(SECRET, org_id=org_id, cache=False)
    with pytest.raises(mt.InvalidParameterError, match="list_format"):
        mt.MetricsClient(SECRET, list_format="csv", cache=False)


# -- the list format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_format", "expected"),
    [("repeat", "user_ids=user-1&user_ids=user-2"), ("comma", "user_ids=user-1,user-2")],
)
def test_the_list_format_is_one_setting(
    family: tuple[str, list[str]], list_format: str, expected: str
) -> None:
    url, seen = family
    client = client_of(url, list_format=list_format)
    assert client.list_format == list_format
    client.session_metrics(*WEEK, user_ids=["user-2", "user-1"], allow_unknown_ids=True)
    client.pr_metrics(*WEEK, user_ids=["user-2", "user-1"], allow_unknown_ids=True)
    assert all(expected in sent for sent in seen) and len(seen) == 2


def test_the_list_format_is_part_of_the_stored_answers_key(
    family: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, seen = family
    for list_format in ("repeat", "comma", "repeat"):
        client = client_of(
            url, list_format=list_format, cache=True, cache_dir=tmp_path, now="2027-06-01"
        )
        client.session_metrics(*WEEK, user_ids=["user-1", "user-2"], allow_unknown_ids=True)
        client.close()
    assert len(seen) == 2  # the third is the first's stored answer


# -- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda c: c.session_metrics(*WEEK), ["ViewAccountMetrics", "ViewOrgMetrics"]),
        (
            lambda c: c.consumption(),
            ["ManageBilling", "ViewAccountConsumption", "ViewOrgConsumption"],
        ),
    ],
    ids=["metrics", "consumption"],
)
def test_a_403_names_every_candidate_permission(
    family: tuple[str, list[str]], call: Call, names: list[str]
) -> None:
    url, _ = family
    client = client_of(url, api_key=LIMITED, org_id=ORG)
    with pytest.raises(mt.PermissionDeniedError) as caught:
        call(client)
    message = str(caught.value)
    for name in names:
        assert name in message, name
    assert "organization level" in message and caught.value.permission == names[0]
    assert len(caught.value.candidates) == len(names)
    assert caught.value.status_code == 403 and "/v3/organizations/org-1/" in caught.value.url


def test_an_enterprise_consumption_403_names_both_editions(
    family: tuple[str, list[str]],
) -> None:
    url, _ = family
    with pytest.raises(mt.PermissionDeniedError) as caught:
        client_of(url, api_key=LIMITED).billing_cycles()
    assert "ManageBilling (enterprise level) or ViewAccountConsumption (enterprise level)" in str(
        caught.value
    )
    assert "The server names ManageBilling" in str(caught.value)


def test_every_typed_call_is_a_declared_endpoint() -> None:
    declared = {id(endpoint) for endpoint in ENDPOINTS.values()}
    for endpoint in (PR_METRICS, USAGE_METRICS, CONSUMPTION, CYCLES):
        assert id(endpoint) in declared
    assert isinstance(PR_METRICS, Endpoint)


# -- the demo enterprise, at both scopes ----------------------------------------------------------


def demo_ids(api: DemoAPI) -> dict[str, str]:
    """A user, a service user and a session of the first organization, within WEEK."""
    enterprise = api.enterprise
    log = enterprise.sessions
    after, before = (int(pd.Timestamp(day, tz="UTC").timestamp()) for day in WEEK)
    inside = (log.created_at >= after) & (log.created_at < before) & (log.org_index == 0)
    by_user = np.flatnonzero(inside & (log.user_index >= 0))
    by_robot = np.flatnonzero(inside & (log.service_user_index >= 0))
    return {
        "org": enterprise.organizations[0].org_id,
        "user": enterprise.users[int(log.user_index[by_user[0]])].user_id,
        "service_user": enterprise.service_users[
            int(log.service_user_index[by_robot[0]])
        ].service_user_id,
        "session": log.session_id(int(by_user[0])),
    }


def every_typed_call(client: mt.MetricsClient, ids: dict[str, str]) -> dict[str, Any]:
    """Each typed method's answer over WEEK (the enterprise-only ones at enterprise scope)."""
    known = {"allow_unknown_ids": True}
    answers: dict[str, Any] = {
        "sessions": client.session_metrics(*WEEK),
        "prs": client.pr_metrics(*WEEK),
        "usage": client.usage_metrics(*WEEK),
        "org usage": client.usage_metrics(*WEEK, org_id=ids["org"], **known),
        "searches": client.search_metrics(*WEEK),
        "active users": client.active_users(*WEEK),
        "dau": client.daily_active_users(*WEEK),
        "wau": client.weekly_active_users(*WEEK),
        "mau": client.monthly_active_users(*WEEK),
        "consumption": client.consumption(*WEEK),
        "org consumption": client.consumption(*WEEK, org_id=ids["org"], **known),
        "user consumption": client.consumption(*WEEK, user_id=ids["user"], **known),
        "service user consumption": client.consumption(
            *WEEK, service_user_id=ids["service_user"], **known
        ),
        "session consumption": client.consumption(*WEEK, session_id=ids["session"]),
    }
    if client.scope == "enterprise":
        answers["categories"] = client.sessions_by_category(*WEEK)
        answers["cycles"] = client.billing_cycles()
    return answers


def test_every_typed_method_answers_from_the_demo_at_both_scopes(
    demo_api: DemoAPI, server: DemoServer
) -> None:
    ids = demo_ids(demo_api)
    enterprise = every_typed_call(mt.MetricsClient.demo(api=demo_api), ids)
    organization = every_typed_call(mt.MetricsClient.demo(api=demo_api, org_id=ids["org"]), ids)
    with mt.MetricsClient(
        DEMO_ORG_API_KEY, base_url=server.url, org_id=ids["org"], cache=False
    ) as client:  # a token of the organization itself, over HTTP
        assert every_typed_call(client, ids) == organization
    assert set(enterprise) - set(organization) == {"categories", "cycles"}
    for answers in (enterprise, organization):
        prs = answers["prs"]
        assert prs.prs_created_count == (
            prs.prs_opened_count + prs.prs_merged_count + prs.prs_closed_count
        )
        assert answers["usage"].sessions_count == answers["sessions"].sessions_created_count > 0
        assert answers["usage"].searches_count == answers["searches"].searches_created_count
        assert answers["usage"].prs_created_count == prs.prs_created_count
        assert len(answers["dau"]) == 7 and len(answers["wau"]) == 1
        assert max(day.active_users for day in answers["dau"]) <= answers["wau"][0].active_users
        assert answers["active users"].active_users == answers["wau"][0].active_users
        for name in ("consumption", "user consumption", "session consumption"):
            answer = answers[name]
            days = answer.consumption_by_date
            assert answer.total_acus == pytest.approx(sum(day.acus for day in days))
            assert answer.total_acus > 0, name
    assert organization["usage"] == enterprise["org usage"]  # one organization, two paths
    devin = sum(
        day.acus_by_product.devin for day in organization["consumption"].consumption_by_date
    )
    assert organization["consumption"].total_acus == pytest.approx(devin)  # only Devin's ACUs
    assert enterprise["consumption"].total_acus > enterprise["org consumption"].total_acus
    assert (
        enterprise["cycles"][-1].after <= demo_api.now.timestamp() < enterprise["cycles"][-1].before
    )


def test_the_demo_organization_key_outside_its_scope(demo_api: DemoAPI, server: DemoServer) -> None:
    ids = demo_ids(demo_api)
    other = demo_api.enterprise.organizations[1].org_id
    scoped_client = mt.MetricsClient(
        DEMO_ORG_API_KEY, base_url=server.url, org_id=ids["org"], cache=False
    )
    with pytest.raises(ScopeError):
        scoped_client.usage_metrics(org_id=other, allow_unknown_ids=True)
    unscoped = mt.MetricsClient(DEMO_ORG_API_KEY, base_url=server.url, cache=False)
    with pytest.raises(mt.PermissionDeniedError) as caught:  # the server's own refusal
        unscoped.session_metrics(*WEEK)
    assert "ViewAccountMetrics" in str(caught.value)


@pytest.mark.parametrize("strict", ["repeat", "comma"])
def test_the_list_format_the_demo_reads_counts_both_ids(
    enterprise: DemoEnterprise, strict: str
) -> None:
    api = DemoAPI(enterprise, now=NOW, list_format=strict)
    first, second = (organization.org_id for organization in enterprise.organizations[:2])
    counts = {}
    with DemoServer(api) as server:
        for list_format in ("repeat", "comma"):
            client = mt.MetricsClient(
                DEMO_API_KEY, base_url=server.url, list_format=list_format, cache=False
            )
            counts[list_format] = [
                client.search_metrics(
                    *WEEK, org_ids=org_ids, allow_unknown_ids=True
                ).searches_created_count
                for org_ids in ([first], [second], [first, second])
            ]
    one, two, both = counts[strict]
    assert both == one + two > 0  # the format the server reads: the pair is the sum
    assert counts["comma" if strict == "repeat" else "repeat"][2] != both
