"""Helpers shared by the reliability tests (faults, contract, input, secrets)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import requests
import yaml
from requests.adapters import BaseAdapter

import metrics_toolkit as mt
from metrics_toolkit.demo import DEMO_API_KEY, DemoServer

from .conftest import NOW

#: The OpenAPI paths and schemas of the sessions and searches endpoints, as Cognition publishes.
SPEC_PATH = Path(__file__).parent / "data" / "session-metrics.openapi.yaml"
#: A token distinctive enough to be searched for in every output.
SECRET = "cog_SECRET_abc123"
#: A fixed-body client talks to this; nothing listens there (the adapter answers).
FIXTURE_URL = "https://fixture.invalid"


def metric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its run-dependent ``attrs`` (fetch stats), for equality checks."""
    copy = frame.copy()
    copy.attrs = {}
    return copy


def client_of(
    server: DemoServer,
    cache_dir: Path | None = None,
    *,
    api_key: str = DEMO_API_KEY,
    **settings: Any,
) -> mt.MetricsClient:
    """A client of a demo server; no cache unless ``cache_dir`` is given."""
    settings.setdefault("backoff", 0.0)
    settings.setdefault("now", NOW)
    return mt.MetricsClient(
        api_key,
        base_url=server.url,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
        **settings,
    )


def sent_time_afters(targets: Iterable[str]) -> list[int]:
    """The ``time_after`` of every metrics request among server request targets, in order."""
    values = []
    for target in targets:
        parts = urlsplit(target)
        if parts.path.endswith("/metrics/sessions"):
            values.append(int(parse_qs(parts.query)["time_after"][0]))
    return values


def spec_schema(name: str) -> dict[str, Any]:
    """One schema of the spec's ``components`` as a standalone JSON schema (``$ref``s inlined)."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    components: Mapping[str, Any] = spec["components"]["schemas"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(components[node["$ref"].rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    schema: dict[str, Any] = inline(components[name])
    return schema


class FixedAnswer(BaseAdapter):
    """A transport adapter answering every request with one status, body and headers.

    Records each request's headers and the ``verify`` setting it was sent with.
    """

    def __init__(
        self, body: bytes = b"{}", status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__()
        self.body = body
        self.status = status
        self.headers = dict(headers or {"Content-Type": "application/json"})
        self.sent: list[requests.PreparedRequest] = []
        self.verify: list[Any] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._lock:
            self.sent.append(request)
            self.verify.append(kwargs.get("verify"))
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers.update(self.headers)
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def fixed_answer_client(adapter: BaseAdapter, **settings: Any) -> mt.MetricsClient:
    """A client whose every request is answered by ``adapter`` (no socket)."""
    settings.setdefault("api_key", DEMO_API_KEY)
    settings.setdefault("cache", False)
    settings.setdefault("max_retries", 0)
    return mt.MetricsClient(base_url=FIXTURE_URL, transport=adapter, **settings)
