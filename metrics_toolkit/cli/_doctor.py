"""``metrics-toolkit doctor``: what a key can do, against the API or the demo, one line per check.

Each line reads ``ok``, ``warn`` or ``FAIL``, the check's name and what was found. The checks,
in order: the key (present, ``cog_...``, no whitespace); its scope (an enterprise path is
probed; on a 403 the organization's paths, for ``--org-scope`` or ``DEVIN_ORG_ID``); each
metric of the family (it answers, or the 403 names every candidate permission); which list
format the server reads (two organizations' sessions, asked together in each format, against
their sum); the clock against the server's ``Date``; the answer cache (where, how big). The
token is never printed. Exit status: 0 when no check fails (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .._base_client import demo_key
from .._constants import DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL, MAX_CLOCK_SKEW, TOKEN_PREFIX
from .._endpoints import METRICS, SESSION_METRICS
from .._vocabulary import LIST_FORMATS
from ..client import MetricsClient
from ..directory import looks_like_id
from ..errors import (
    AuthenticationError,
    MetricsError,
    PermissionDeniedError,
)
from ._common import org_scope

__all__ = ["FAMILY", "Check", "doctor"]

OK, WARN, FAIL = "ok", "warn", "FAIL"
#: The metrics checked, each by the name its line gives.
FAMILY = {
    "sessions": "sessions",
    "prs": "PRs",
    "usage": "usage",
    "searches": "searches",
    "active_users": "active users",
    "categories": "categories",
    "consumption": "consumption",
    "cycles": "billing cycles",
}
#: The window of the probes: the last days up to now.
PROBE_WINDOW = dt.timedelta(days=28)
#: Organizations tried to find two with sessions for the list format probe.
PROBE_ORGS = 8


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok``, ``warn`` or ``FAIL``, what was checked, what was found."""

    status: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4}  {self.name}: {' '.join(self.detail.split())}"


def doctor(args: argparse.Namespace) -> int:
    """Check the key, its scope, each metric of the family, the list format the server reads,
    the clock and the cache: one line each (ok, warn or FAIL); exit 0 when none fails."""
    failed = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a malformed key is a FAIL line, not a warning too
        for check in checks(args):
            print(check, flush=True)
            failed = failed or check.status == FAIL
    return 1 if failed else 0


def checks(args: argparse.Namespace) -> Iterator[Check]:
    """Every check, in order; the ones that need the server stop at a key it refuses."""
    key_check, usable = _key(args)
    yield key_check
    if usable:
        clients = _Clients(args)
        scope_checks, client = _scope(clients, org_scope(args), args.list_format)
        yield from scope_checks
        if client is not None:
            yield from _family(client)
            yield _list_format(clients, client)
            client.close()
        yield _clock(args)
    yield _cache(args)


def _key(args: argparse.Namespace) -> tuple[Check, bool]:
    """The key: present, with the ``cog_`` prefix, without whitespace (never printed)."""
    if args.demo:
        return Check(OK, "key", "the demo's (no key needed)"), True
    key = os.environ.get(ENV_API_KEY)
    if not key:
        return Check(FAIL, "key", f"{ENV_API_KEY} is not set (or --demo)"), False
    if any(char.isspace() for char in key):
        detail = f"{ENV_API_KEY} holds whitespace (a space or newline copied with it?)"
        return Check(FAIL, "key", detail), False
    if not key.startswith(TOKEN_PREFIX):
        detail = f"{ENV_API_KEY} does not start with {TOKEN_PREFIX} (a service-user token does)"
        return Check(FAIL, "key", detail), True
    return Check(OK, "key", f"{ENV_API_KEY} is set: {TOKEN_PREFIX}..., {len(key)} characters"), True


class _Clients:
    """Clients over one key, at either scope and in either list format: the API's, or the
    demo's in-process (the key of the organization checked, when the demo has one)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.base_url = args.base_url
        self.key_org: str | None = None
        self._demo: Any = None
        if args.demo:
            from ..demo import DemoAdapter, DemoAPI, generate_enterprise

            api = DemoAPI(generate_enterprise())
            self._demo = (api, DemoAdapter(api))

    def make(self, org_id: str | None, list_format: str) -> MetricsClient:
        """A client scoped to ``org_id`` (None: enterprise scope), sending lists so."""
        settings: dict[str, Any] = {"cache": False, "org_id": org_id, "list_format": list_format}
        if self._demo is None:
            return MetricsClient(base_url=self.base_url, **settings)
        from ..demo import DEMO_BASE_URL

        api, adapter = self._demo
        key = demo_key(api, self.key_org)
        return MetricsClient(
            key, base_url=DEMO_BASE_URL, transport=adapter, now=lambda: api.now, **settings
        )


def _window(client: MetricsClient) -> dict[str, int]:
    """The probes' window: the last 28 days up to now (whole hours), Unix seconds."""
    end = client.now().floor("h")
    return {
        "time_after": int((end - PROBE_WINDOW).timestamp()),
        "time_before": int(end.timestamp()),
    }


def _scope(
    clients: _Clients, org: str | None, list_format: str
) -> tuple[list[Check], MetricsClient | None]:
    """Which scope the key has, and the client of that scope (None when the key is refused)."""
    if org is not None and not looks_like_id(org):
        try:
            with clients.make(None, list_format) as enterprise:
                org = enterprise.directory().resolve_names("org", [org], parameter="--org-scope")[0]
        except MetricsError as error:
            return [Check(FAIL, "scope", f"--org-scope {org!r} names no organization: {error}")], (
                None
            )
    clients.key_org = org  # the demo holds the organization's key, when it has one
    make = clients.make
    enterprise = make(None, list_format)
    try:
        enterprise.request(SESSION_METRICS, _window(enterprise))
    except AuthenticationError as error:
        enterprise.close()
        return [Check(FAIL, "key", f"the server refuses it (401): {error.body}")], None
    except PermissionDeniedError as error:
        refused = f"403 at {SESSION_METRICS.path} ({_said(error)})"
    except MetricsError as error:
        enterprise.close()
        return [Check(FAIL, "server", f"{type(error).__name__}: {error}")], None
    else:
        if org is None:
            return [Check(OK, "scope", "enterprise: /v3/enterprise/... answers")], enterprise
        enterprise.close()
        detail = f"enterprise key, checked at organization {org} (--org-scope)"
        return [Check(OK, "scope", detail)], make(org, list_format)
    enterprise.close()
    if org is None:
        return [
            Check(
                FAIL,
                "scope",
                f"{refused}: an organization's key, or a key without ViewAccountMetrics; for an "
                "organization's key give --org-scope ORG (or set DEVIN_ORG_ID)",
            )
        ], make(None, list_format)
    client = make(org, list_format)
    try:
        client.request(SESSION_METRICS, _window(client))
    except MetricsError as error:
        return [Check(FAIL, "scope", f"{refused}; organization {org}: {_said(error)}")], client
    detail = f"organization {org}: {refused}; /v3/organizations/{org}/... answers"
    return [Check(OK, "scope", detail)], client


def _said(error: MetricsError) -> str:
    """What the server said in an error, short."""
    body = getattr(error, "body", None)
    detail = body.get("detail") if isinstance(body, dict) else body
    return str(detail or error)[:200]


def _family(client: MetricsClient) -> Iterator[Check]:
    """Each metric answers at the client's scope, or its line names every permission."""
    window = _window(client)
    for name, label in FAMILY.items():
        metric = METRICS[name]
        endpoint = metric.at(client.scope)
        if endpoint is None or metric.enterprise is None:
            yield Check(WARN, label, "exists only at enterprise scope (not checked)")
            continue
        params: dict[str, Any] = dict(window) if endpoint.windowed else {}
        try:
            client.request(metric.enterprise, params)
        except PermissionDeniedError as error:
            needs = " or ".join(error.candidates or endpoint.candidates)
            path = _path(endpoint.path, client)
            yield Check(FAIL, label, f"403 at {path}: the key needs {needs}")
        except MetricsError as error:
            yield Check(FAIL, label, f"{type(error).__name__}: {error}")
        else:
            yield Check(OK, label, f"{_path(endpoint.path, client)} answers")


def _path(path: str, client: MetricsClient) -> str:
    """A path with the client's organization in it."""
    return path.replace("{org_id}", client.org_id) if client.org_id else path


def _list_format(clients: _Clients, client: MetricsClient) -> Check:
    """Which list format the server reads: two organizations' sessions asked together, in each
    format, against the sum of each asked alone."""
    name = "list format"
    if client.org_id is not None:
        return Check(
            WARN,
            name,
            "not probed at organization scope (the probe filters by "
            "organization); an enterprise key can check the account's",
        )
    try:
        organizations = client.directory().ids("org")[:PROBE_ORGS]
    except MetricsError as error:
        return Check(WARN, name, f"not probed: the directory cannot be read ({_said(error)})")
    window = _window(client)
    counts: dict[str, int] = {}
    try:
        for org in organizations:
            counts[org] = _sessions(client, window, [org])
            if sum(1 for value in counts.values() if value) == 2:
                break
        pair = [org for org, value in counts.items() if value][:2]
        if len(pair) < 2:
            return Check(WARN, name, "not probed: fewer than two organizations had sessions")
        expected = counts[pair[0]] + counts[pair[1]]
        together = {}
        for wire in LIST_FORMATS:
            with clients.make(None, wire) as probe:
                together[wire] = _sessions(probe, window, pair)
    except MetricsError as error:
        return Check(WARN, name, f"not probed: {type(error).__name__}: {error}")
    honoured = [wire for wire in LIST_FORMATS if together[wire] == expected]
    said = ", ".join(f"{wire} counts {together[wire]}" for wire in LIST_FORMATS)
    found = (
        f"two organizations alone: {counts[pair[0]]} + {counts[pair[1]]} = {expected}; "
        f"together: {said}"
    )
    if client.list_format in honoured:
        both = " (both formats are read)" if len(honoured) == len(LIST_FORMATS) else ""
        return Check(OK, name, f"{client.list_format}{both}: {found}")
    if honoured:
        return Check(
            FAIL,
            name,
            f"the server reads {honoured[0]}, not {client.list_format}: "
            f"{found}; pass --list-format {honoured[0]} "
            f"(MetricsClient(list_format={honoured[0]!r}))",
        )
    return Check(FAIL, name, f"neither format counts the pair as its sum: {found}")


def _sessions(client: MetricsClient, window: dict[str, int], orgs: list[str]) -> int:
    """Sessions created in the window in these organizations (one request)."""
    answer = client.request(SESSION_METRICS, {**window, "org_ids": orgs}).data
    return int(answer.sessions_created_count)


def _clock(args: argparse.Namespace) -> Check:
    """The local clock against the server's ``Date`` (an unauthenticated request: no token)."""
    name = "clock"
    if args.demo:
        return Check(OK, name, "the in-process demo has no server clock to compare")
    base = args.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    before = time.time()
    try:
        response = requests.get(base.rstrip("/") + SESSION_METRICS.path, timeout=10)
    except requests.RequestException as error:
        return Check(WARN, name, f"no answer from {base}: {type(error).__name__}")
    after = time.time()
    date = response.headers.get("Date")
    if not date:
        return Check(WARN, name, "the server sent no Date header")
    try:
        server = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return Check(WARN, name, f"the server's Date {date!r} cannot be read")
    skew = (before + after) / 2 - server
    ahead = "ahead of" if skew > 0 else "behind"
    detail = f"this machine is {abs(skew):.0f} s {ahead} the server's Date"
    if abs(skew) > MAX_CLOCK_SKEW + 1:  # Date has whole seconds
        return Check(
            WARN,
            name,
            f"{detail} (more than {MAX_CLOCK_SKEW:.0f} s: windows and "
            "partial buckets are judged on this clock)",
        )
    return Check(OK, name, detail)


def _cache(args: argparse.Namespace) -> Check:
    """Where the answer cache is and how big."""
    from ..cache import default_cache_dir

    directory = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    off = " (off: --no-cache)" if args.no_cache else ""
    if not directory.exists():
        return Check(OK, "cache", f"{directory}{off}: empty, not created yet")
    files = [path for path in directory.rglob("*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    return Check(OK, "cache", f"{directory}{off}: {len(files)} file(s), {size / 1e6:.1f} MB")
