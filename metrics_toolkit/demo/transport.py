"""A `requests` transport adapter answering from a `DemoAPI`, in process.

Mount it on a session for a base URL and every request under that URL is served by the
simulator, without a socket:

>>> import requests
>>> from metrics_toolkit.demo import DemoAPI, generate_enterprise
>>> session = requests.Session()
>>> session.mount(DEMO_BASE_URL, DemoAdapter(DemoAPI(generate_enterprise(days=7))))
>>> session.get(f"{DEMO_BASE_URL}/v3/enterprise/organizations").status_code
401
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from http import HTTPStatus
from typing import Final
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse

from metrics_toolkit.demo.simulator import DemoAPI

__all__ = ["DEMO_BASE_URL", "DemoAdapter"]

DEMO_BASE_URL: Final = "https://demo.metrics-toolkit.invalid"


class DemoAdapter(BaseAdapter):
    """Transport adapter that turns each request into a `DemoAPI.handle` call.

    Parameters
    ----------
    api : DemoAPI
        The simulator answering the requests.

    Notes
    -----
    The response is built the way `requests.adapters.HTTPAdapter` builds one, over a
    `urllib3.HTTPResponse`, so streaming, `.json()`, `.raise_for_status()` and caching layers
    behave as with a real server. Timeouts, proxies and TLS settings are accepted and ignored.
    """

    def __init__(self, api: DemoAPI) -> None:
        super().__init__()
        self.api = api

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Answer `request` from the simulator."""
        url = request.url or ""
        parts = urlsplit(url)
        answer = self.api.handle(
            request.method or "GET", parts.path or "/", parts.query, dict(request.headers)
        )
        reason = _reason(answer.status)
        raw = HTTPResponse(
            body=io.BytesIO(answer.body),
            headers={**answer.headers, "Content-Length": str(len(answer.body))},
            status=answer.status,
            reason=reason,
            preload_content=False,
            decode_content=False,
            request_url=url,
        )
        response = Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers) or "utf-8"
        response.raw = raw
        response.reason = reason
        response.url = url
        response.request = request
        if not stream:
            _ = response.content
        return response

    def close(self) -> None:
        """Nothing to release."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
