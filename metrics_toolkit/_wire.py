"""What goes on the wire for one host: the query string, the proxy, the connection pool, and a
body read by a deadline.

Pure helpers of :mod:`._transport`, kept apart so that the transport reads as retries, rate
limits and error mapping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment  # type: ignore[attr-defined]

import urllib3

from .errors import InvalidParameterError

__all__ = ["environment_proxies", "pool_manager", "read_by", "same_origin", "with_query"]

#: Bytes asked for per read of a body.
_CHUNK = 1 << 16


def with_query(url: str, params: Mapping[str, Any], list_format: str = "repeat") -> str:
    """The URL as sent, also quoted in messages.

    Integers (the window) are written as they are; everything else is quoted as ``urlencode``
    would (this runs once per request: ``urlencode`` alone cost 30 µs of it).

    Parameters
    ----------
    url : str
        The URL without a query.
    params : mapping
        The query. A list or tuple is written as repeated keys (``user_ids=a&user_ids=b``), or
        comma-joined (``user_ids=a,b``) with ``list_format="comma"``.
    list_format : {"repeat", "comma"}, default "repeat"
        How lists are written.

    Raises
    ------
    InvalidParameterError
        For an item holding a comma in a comma-joined list (it would read as two).

    Examples
    --------
    >>> with_query("/m", {"time_after": 0, "org_ids": ["org-1", "org-2"]}, "comma")
    '/m?time_after=0&org_ids=org-1,org-2'
    """
    if not params:
        return url
    parts = []
    for name, value in params.items():
        key = quote_plus(str(name))
        if list_format == "comma" and isinstance(value, list | tuple):
            if not value:
                continue
            items = [str(item) for item in value]
            if any("," in item for item in items):
                raise InvalidParameterError(
                    str(name),
                    f"{items} holds an id with a comma, which a comma-joined list reads as two",
                )
            parts.append(f"{key}={','.join(map(quote_plus, items))}")
            continue
        for item in value if isinstance(value, list | tuple) else (value,):
            text = str(item) if type(item) is int else quote_plus(str(item))
            parts.append(f"{key}={text}")
    return f"{url}?{'&'.join(parts)}"


def environment_proxies(url: str) -> dict[str, str]:
    """The proxies the environment sets for ``url``'s host (none when ``NO_PROXY`` names it)."""
    proxies = getproxies_environment()
    host = urlsplit(url).hostname or ""
    if not proxies or proxy_bypass_environment(host, proxies):
        return {}
    return {key: value for key, value in proxies.items() if key != "no"}


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs share scheme, host and port (the token may follow a redirect only then)."""
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def pool_manager(
    base_url: str, proxies: Mapping[str, str], bundle: str | None, pool_size: int
) -> urllib3.PoolManager:
    """Connections to one host, through the environment's proxy for it, if any.

    TLS is always verified: against ``bundle`` (a file, or a directory of hashed certificates,
    as requests takes ``REQUESTS_CA_BUNDLE``), else certifi's bundle. A proxy URL's user and
    password are sent as ``Proxy-Authorization``.
    """
    options: dict[str, Any] = {"num_pools": 4, "maxsize": pool_size, "block": False}
    if base_url.startswith("https:"):
        options["cert_reqs"] = "CERT_REQUIRED"
        if bundle and os.path.isdir(bundle):
            options["ca_cert_dir"] = bundle
        else:
            options["ca_certs"] = bundle or _default_ca_bundle()
    scheme = base_url.split(":", 1)[0]
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return urllib3.PoolManager(**options)
    parts = urlsplit(proxy)
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        options["proxy_headers"] = urllib3.make_headers(proxy_basic_auth=credentials)
        proxy = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return urllib3.ProxyManager(proxy, **options)


def read_by(response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """The whole body by ``deadline`` (``time.monotonic`` seconds), else ``ReadTimeoutError``.

    A socket timeout bounds each read, not the body: a server that sends a byte just inside it
    holds a worker for as long as it likes. Each read here waits at most what is left.
    """
    sock = getattr(response.connection, "sock", None)  # None once the connection is closed
    chunks = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise urllib3.exceptions.ReadTimeoutError(None, None, "the body came too slowly")  # type: ignore[arg-type]
            if sock is not None:
                sock.settimeout(left)
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:
        response.close()  # a half-read connection is not reused
        raise
    response.release_conn()
    return b"".join(chunks)


def _default_ca_bundle() -> str | None:
    """The CA bundle requests would use (certifi's), else None for the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests depends on certifi
        return None
    return str(certifi.where())
