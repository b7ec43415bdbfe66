"""Faults a `DemoServer` injects, chosen reproducibly per request by a `FaultPlan`.

Fault kinds (the `FaultPlan` field holding each one's rate):

================================= ==========================================================
``rate_limit``                    429 with ``Retry-After: <retry_after>``
``rate_limit_without_retry_after`` 429 without ``Retry-After``
``server_error``                  one of ``server_error_statuses`` (500/502/503/504), text body
``drop_connection``               the socket is closed without any response
``slow``                          the answer comes after ``slow_seconds`` more seconds
``html``                          an HTML error page, status one of ``html_statuses`` (200/502)
``truncated_json``                status and headers of the real answer, body cut in half (the
                                  ``Content-Length`` matches the cut body)
``incomplete_body``               ``Content-Length`` of the whole body, half of it sent, then the
                                  connection is closed
``schema_drift``                  on a 200 of the sessions endpoint, one of ``drift_kinds``:
                                  ``unknown_origin`` (10% of ``webapp`` moved to a new origin
                                  ``github``), ``unknown_metric`` (a new top-level count
                                  ``sessions_created_with_knowledge_count``), ``missing_size``
                                  (``xl`` left out of ``sessions_created_by_size``)
================================= ==========================================================

Besides these random faults, `FaultPlan.failing_time_after` lists ``time_after`` values whose
requests to the sessions endpoint always get a 500: buckets that fail every time.

The plan decides; `metrics_toolkit.demo.server` applies the decision to the answer it sends.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qsl

from metrics_toolkit.demo.protocol import DemoResponse
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH

__all__ = ["Fault", "FaultPlan", "drift_body", "half", "html_response", "text_response"]

DEFAULT_RETRY_AFTER: Final = "1"
DEFAULT_SLOW_SECONDS: Final = 2.0
SERVER_ERROR_STATUSES: Final = (500, 502, 503, 504)
HTML_STATUSES: Final = (200, 502)
DRIFT_KINDS: Final = ("unknown_origin", "unknown_metric", "missing_size")
UNKNOWN_ORIGIN: Final = "github"
UNKNOWN_METRIC: Final = "sessions_created_with_knowledge_count"
MISSING_SIZE: Final = "xl"
FAULT_KINDS: Final = (
    "rate_limit",
    "rate_limit_without_retry_after",
    "server_error",
    "drop_connection",
    "slow",
    "html",
    "truncated_json",
    "incomplete_body",
    "schema_drift",
)
HTML_ERROR_PAGE: Final = (
    "<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>\n"
    "<body><h1>{status} {phrase}</h1><p>The upstream server did not answer.</p></body></html>\n"
)


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request: a kind of `FAULT_KINDS`, and its variant."""

    kind: str
    status: int | None = None
    """HTTP status of ``server_error`` and ``html`` faults."""
    drift: str | None = None
    """One of `DRIFT_KINDS` for ``schema_drift``."""


@dataclass(frozen=True)
class FaultPlan:
    """Which faults a `DemoServer` injects, reproducibly from `seed`.

    Each rate is the probability (0..1) that a request gets that fault; the rates add up to at
    most 1 and at most one fault applies to a request. Request number n (counting from 0 in
    the order the server receives them) always gets the same fault for the same plan.

    Parameters
    ----------
    seed : int
        Seed of the per-request draws.
    rate_limit, rate_limit_without_retry_after, server_error, drop_connection, slow, html,
    truncated_json, incomplete_body, schema_drift : float
        Rate of each fault kind (see the module docstring).
    retry_after : str
        Value of the ``Retry-After`` header of ``rate_limit`` faults, in seconds.
    slow_seconds : float
        Extra delay of ``slow`` faults, in seconds.
    server_error_statuses, html_statuses : tuple of int
        Statuses the ``server_error`` and ``html`` faults choose from.
    drift_kinds : tuple of str
        Variants the ``schema_drift`` fault chooses from (subset of `DRIFT_KINDS`).
    failing_time_after : frozenset of int
        Requests to the sessions endpoint whose ``time_after`` (Unix seconds) is in this set
        always get a 500.
    paths : frozenset of str, optional
        Only requests to these paths get random faults; None means every path.
    """

    seed: int = 0
    rate_limit: float = 0.0
    rate_limit_without_retry_after: float = 0.0
    server_error: float = 0.0
    drop_connection: float = 0.0
    slow: float = 0.0
    html: float = 0.0
    truncated_json: float = 0.0
    incomplete_body: float = 0.0
    schema_drift: float = 0.0
    retry_after: str = DEFAULT_RETRY_AFTER
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    server_error_statuses: tuple[int, ...] = SERVER_ERROR_STATUSES
    html_statuses: tuple[int, ...] = HTML_STATUSES
    drift_kinds: tuple[str, ...] = DRIFT_KINDS
    failing_time_after: frozenset[int] = frozenset()
    paths: frozenset[str] | None = None

    def __post_init__(self) -> None:
        rates = self.rates()
        if any(not 0.0 <= rate <= 1.0 for rate in rates.values()):
            raise ValueError(f"fault rates must be between 0 and 1, got {rates}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must add up to at most 1, got {sum(rates.values())}")
        if not set(self.drift_kinds) <= set(DRIFT_KINDS) or not self.drift_kinds:
            raise ValueError(f"drift_kinds must be a non-empty subset of {DRIFT_KINDS}")
        if not self.server_error_statuses or not self.html_statuses:
            raise ValueError("server_error_statuses and html_statuses must not be empty")
        if self.slow_seconds < 0:
            raise ValueError("slow_seconds must not be negative")

    @classmethod
    def spread(
        cls, total_rate: float, *, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS
    ) -> FaultPlan:
        """A plan where `total_rate` of the requests fail, shared equally among `kinds`."""
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"kinds must be a non-empty subset of {FAULT_KINDS}")
        rates: dict[str, Any] = dict.fromkeys(kinds, total_rate / len(kinds))
        return cls(seed=seed, **rates)

    def rates(self) -> dict[str, float]:
        """Rate of each fault kind, in the order of `FAULT_KINDS`."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {kind: float(values[kind]) for kind in FAULT_KINDS}

    def decide(self, sequence_number: int, path: str = SESSION_METRICS_PATH) -> Fault | None:
        """The fault of request number `sequence_number` (from 0) to `path`, or None."""
        if self.paths is not None and path not in self.paths:
            return None
        draws = random.Random(f"{self.seed}:{sequence_number}")
        draw = draws.random()
        threshold = 0.0
        for kind, rate in self.rates().items():
            threshold += rate
            if draw < threshold:
                if kind == "server_error":
                    return Fault(kind, status=draws.choice(self.server_error_statuses))
                if kind == "html":
                    return Fault(kind, status=draws.choice(self.html_statuses))
                if kind == "schema_drift":
                    return Fault(kind, drift=draws.choice(self.drift_kinds))
                return Fault(kind)
        return None

    def fails_permanently(self, path: str, query: str) -> bool:
        """Whether this request is one of the chosen always-failing sessions requests."""
        if path != SESSION_METRICS_PATH or not self.failing_time_after:
            return False
        values = [value for name, value in parse_qsl(query) if name == "time_after"]
        try:
            return bool(values) and int(values[-1]) in self.failing_time_after
        except ValueError:
            return False


def text_response(status: HTTPStatus) -> DemoResponse:
    """A plain-text error answer, ``"500 Internal Server Error"`` and the like."""
    body = f"{status.value} {status.phrase}".encode()
    return DemoResponse(int(status), {"Content-Type": "text/plain; charset=utf-8"}, body)


def html_response(status: int) -> DemoResponse:
    """The HTML error page a proxy in front of the API might send, with status `status`."""
    phrase = HTTPStatus(status).phrase
    body = HTML_ERROR_PAGE.format(status=status, phrase=phrase).encode()
    return DemoResponse(status, {"Content-Type": "text/html; charset=utf-8"}, body)


def half(body: bytes) -> bytes:
    """The first half of `body` (rounded down)."""
    return body[: len(body) // 2]


def drift_body(body: bytes, drift: str) -> bytes:
    """The sessions metrics payload `body` changed the way a newer server might change it."""
    payload = json.loads(body)
    if drift == "unknown_origin":
        origins = payload["sessions_created_by_origin"]
        moved = origins.get("webapp", 0) // 10
        origins["webapp"] = origins.get("webapp", 0) - moved
        origins[UNKNOWN_ORIGIN] = moved
    elif drift == "unknown_metric":
        payload[UNKNOWN_METRIC] = payload["sessions_created_with_search_count"] // 2
    elif drift == "missing_size":
        payload["sessions_created_by_size"].pop(MISSING_SIZE, None)
    return json.dumps(payload, separators=(",", ":")).encode()
