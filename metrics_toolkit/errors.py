"""Every exception metrics_toolkit raises on purpose, under one root.

``except metrics_toolkit.MetricsError`` catches all of them::

    MetricsError
    ├── InvalidParameterError (also ValueError)   bad input, refused before any request
    │   └── ScopeError                            exists only at enterprise scope, or another org
    ├── InsecureTransportError (also ValueError)  the token would travel over plain http
    ├── APIConnectionError                        no HTTP answer: connection refused, dropped, ...
    │   └── APITimeoutError                       no answer within the client's timeout
    ├── APIStatusError                            the server answered with an error status
    │   ├── AuthenticationError                   401: token missing, malformed or unknown
    │   ├── PermissionDeniedError                 403: the token lacks a permission
    │   ├── NotFoundError                         404
    │   ├── RequestValidationError                422: the server's ``detail`` list, readable
    │   ├── RateLimitError                        429: carries ``retry_after`` (seconds)
    │   └── ServerError                           5xx
    ├── ResponseValidationError                   a 200 whose body is not JSON or breaks the schema
    ├── FetchError                                buckets of a series still failed after retries
    ├── StoreBusyError                            another process is writing the history store
    └── ReportExecutionError                      the report notebook failed while it ran

Every warning it gives on purpose has one root too (``warnings.filterwarnings`` on it)::

    MetricsWarning (also UserWarning)
    ├── TokenFormatWarning                        the token does not look like ``cog_...``
    ├── PartialFetchWarning                       some calls of a series failed (rows marked)
    ├── FutureBucketsWarning                      buckets starting at or after now were not asked
    ├── DirectoryWarning                          no permission to read the directory: ids unchecked
    └── CacheWarning                              a stored answer could not be read; asked again

Errors carry the request's URL (with its query, never its headers) and the status code, so the
token never appears in an error message; a server that quotes the token back in a body gets it
masked as ``***``.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CacheWarning",
    "DirectoryWarning",
    "FetchError",
    "FutureBucketsWarning",
    "InsecureTransportError",
    "InvalidParameterError",
    "MetricsError",
    "MetricsWarning",
    "NotFoundError",
    "PartialFetchWarning",
    "PermissionDeniedError",
    "RateLimitError",
    "ReportExecutionError",
    "RequestValidationError",
    "ResponseValidationError",
    "ScopeError",
    "ServerError",
    "StoreBusyError",
    "TokenFormatWarning",
    "status_error",
]

#: How many characters of an unexpected body an error message quotes.
BODY_EXCERPT_CHARS = 200
#: How many failed calls the table of a :class:`FetchError` in a notebook lists.
FAILURES_SHOWN = 10


class MetricsError(Exception):
    """Root of every error metrics_toolkit raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only constructors: rebuild from the message and the attributes instead
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[MetricsError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Rebuild an error for copy and pickle without calling its constructor."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class MetricsWarning(UserWarning):
    """Root of every warning metrics_toolkit gives on purpose."""


class TokenFormatWarning(MetricsWarning):
    """The token does not look like a service-user token (``cog_...``); it is sent anyway."""


class PartialFetchWarning(MetricsWarning):
    """Some calls of a series failed; their rows are marked ``failed`` with NA metrics."""


class FutureBucketsWarning(MetricsWarning):
    """Buckets that start at or after "now" were cut from a series: they have no numbers yet."""


class DirectoryWarning(MetricsWarning):
    """The directory could not be read (no permission): names and ids are sent as given,
    unchecked, and a breakdown is labelled with its ids."""


class CacheWarning(MetricsWarning):
    """A stored answer could not be read; it is asked again."""


class InvalidParameterError(MetricsError, ValueError):
    """A parameter was refused before any request was sent.

    Parameters
    ----------
    parameter : str
        The name of the parameter, as the user spelt it in the call.
    message : str
        What is wrong and what would be accepted.
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class ScopeError(InvalidParameterError):
    """A call this client's scope cannot make, refused before any request: what exists only at
    enterprise scope (billing cycles, sessions by category, the directory, a filter or a
    breakdown by organization) from a client scoped to one organization, or another
    organization's data.

    Parameters
    ----------
    parameter : str
        The parameter, or the client setting (``org_id``), that makes the call out of scope.
    message : str
        What exists where, and the client's scope.
    """


class InsecureTransportError(MetricsError, ValueError):
    """The token would be sent over plain ``http://`` to a host that is not loopback."""


class APIConnectionError(MetricsError):
    """No HTTP answer was received (connection refused or dropped, DNS failure, ...)."""

    def __init__(self, message: str, *, url: str) -> None:
        self.url = url
        super().__init__(f"{message} ({url})")


class APITimeoutError(APIConnectionError):
    """No answer arrived within the client's timeout."""


class APIStatusError(MetricsError):
    """The server answered with an error status.

    Attributes
    ----------
    status_code : int
        The HTTP status.
    url : str
        The request's URL with its query string (headers, and so the token, are never kept).
    body : Any
        The parsed JSON body, or the text when it was not JSON.
    """

    hint = ""

    def __init__(self, message: str, *, status_code: int, url: str, body: Any = None) -> None:
        self.status_code = status_code
        self.url = url
        self.body = body
        text = f"HTTP {status_code} from {url}: {message}"
        if self.hint:
            text += f" {self.hint}"
        super().__init__(text)


class AuthenticationError(APIStatusError):
    """401: the token is missing, malformed or unknown."""

    hint = "Check DEVIN_API_KEY (a service-user token starting with 'cog_')."


class PermissionDeniedError(APIStatusError):
    """403: the token is valid but lacks a permission.

    Attributes
    ----------
    permission : str or None
        The permission the endpoint needs, as the English docs name it, when known.
    candidates : tuple of str
        Every permission that may be the one missing, with its level (``"ViewOrgMetrics
        (organization level)"``): the editions of the docs name them differently, and the
        message names them all.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str,
        body: Any = None,
        permission: str | None = None,
        candidates: Sequence[str] = (),
    ) -> None:
        self.permission = permission
        self.candidates = tuple(candidates)
        self.server_message = message
        names = [candidate.split(" ", 1)[0] for candidate in self.candidates]
        named = [name for name in names if name in str(body)]
        if len(self.candidates) > 1:
            said = f"The server names {' and '.join(named)}. " if named else ""
            self.hint = (
                f"{said}The token needs {' or '.join(self.candidates)} (the editions of the "
                "docs name this permission differently)."
            )
        elif permission and permission in str(body):
            self.hint = f"The service user needs the {permission} permission at enterprise level."
        elif permission:
            self.hint = (
                "The server did not say which permission is missing; this endpoint is "
                f"expected to need {permission} at enterprise level."
            )
        super().__init__(message, status_code=status_code, url=url, body=body)

    def naming(self, candidates: Sequence[str]) -> PermissionDeniedError:
        """The same error, its message naming every candidate permission (with its level)."""
        error = type(self)(
            self.server_message,
            status_code=self.status_code,
            url=self.url,
            body=self.body,
            permission=self.permission,
            candidates=candidates,
        )
        error.__traceback__ = self.__traceback__
        return error


class NotFoundError(APIStatusError):
    """404: the path does not exist on this server (check the base URL)."""

    hint = "Check the base URL (DEVIN_API_BASE_URL)."


class RequestValidationError(APIStatusError, ValueError):
    """422: the server refused the parameters; ``errors`` holds its ``detail`` list."""

    def __init__(self, message: str, *, status_code: int, url: str, body: Any = None) -> None:
        self.errors: list[dict[str, Any]] = _detail_list(body)
        readable = "; ".join(_render_detail(item) for item in self.errors) or message
        super().__init__(readable, status_code=status_code, url=url, body=body)


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's wait in seconds, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, url=url, body=body)


class ServerError(APIStatusError):
    """5xx: the server failed; the request may succeed when tried again."""


class ResponseValidationError(MetricsError):
    """A successful status whose body is not JSON or does not match the schema.

    ``retryable`` is True when the body was cut or is not JSON at all (a proxy's error page, a
    dropped connection): such an answer is asked again; a well-formed body that breaks the
    schema is not.
    """

    def __init__(
        self, message: str, *, status_code: int, url: str, body_text: str, retryable: bool = False
    ) -> None:
        self.status_code = status_code
        self.url = url
        self.retryable = retryable
        excerpt = body_text[:BODY_EXCERPT_CHARS]
        if len(body_text) > BODY_EXCERPT_CHARS:
            excerpt += "..."
        self.body_excerpt = excerpt
        super().__init__(f"HTTP {status_code} from {url}: {message}. Body begins: {excerpt!r}")


class FetchError(MetricsError):
    """Some buckets of a series still failed after their retries.

    Attributes
    ----------
    failures : list
        One entry per failed request: its bucket, its group (or None) and the error.
    frame : pandas.DataFrame
        The wide frame of the buckets that did succeed.

    Its ``repr`` is one line, ``FetchError(9 failed (AuthenticationError x9), 4 rows on
    .frame)``; a notebook shows a table of the failed calls (bucket, group, error), the first
    :data:`FAILURES_SHOWN` of them.
    """

    def __init__(self, failures: Sequence[Any], frame: pd.DataFrame) -> None:
        self.failures = list(failures)
        self.frame = frame
        lines = [str(failure) for failure in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"... and {len(self.failures) - 20} more")
        super().__init__(
            f"{len(self.failures)} request(s) still failed after retries "
            f"({len(frame)} succeeded; the frame of those is on .frame):\n  " + "\n  ".join(lines)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"

    def _summary(self) -> str:
        """``"9 failed (AuthenticationError x9), 4 rows on .frame"``: counts by error type."""
        kinds = Counter(type(getattr(f, "error", f)).__name__ for f in self.failures)
        errors = ", ".join(f"{name} x{count}" for name, count in kinds.most_common())
        return f"{len(self.failures)} failed ({errors}), {len(self.frame)} rows on .frame"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(f'<td style="text-align:left">{html.escape(cell)}</td>' for cell in cells)
            + "</tr>"
            for cells in map(_failure_cells, self.failures[:FAILURES_SHOWN])
        )
        more = len(self.failures) - FAILURES_SHOWN
        tail = f"<p>... and {more} more</p>" if more > 0 else ""
        return (
            f'<div class="mt-fetch-error"><p><strong>{type(self).__name__}</strong>: '
            f"{html.escape(self._summary())}</p>"
            '<table><thead><tr><th style="text-align:left">bucket</th>'
            '<th style="text-align:left">group</th><th style="text-align:left">error</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>{tail}</div>"
        )


def _failure_cells(failure: Any) -> tuple[str, str, str]:
    """(bucket, group, error) of one failed call, as text; what is unknown is empty."""
    bucket = getattr(failure, "bucket", None)
    start, end = getattr(bucket, "start", None), getattr(bucket, "end", None)
    span = f"[{start.isoformat()}, {end.isoformat()})" if start and end else str(bucket or "")
    group = getattr(failure, "group", None)
    error = getattr(failure, "error", None)
    text = f"{type(error).__name__}: {error}" if error is not None else str(failure)
    return span, "" if group is None else str(group), text


def status_error(
    status_code: int,
    *,
    url: str,
    body: Any,
    retry_after: float | None = None,
    permission: str | None = None,
) -> APIStatusError:
    """Map an error status to its exception class, in one place.

    Parameters
    ----------
    status_code : int
        The HTTP status, 400 or above.
    url : str
        The request URL (no headers).
    body : Any
        The parsed JSON body, or its text.
    retry_after : float, optional
        Seconds from a ``Retry-After`` header, for 429.
    permission : str, optional
        The permission the endpoint needs, named by a 403.
    """
    message = _message_of(body)
    common: dict[str, Any] = {"status_code": status_code, "url": url, "body": body}
    if status_code == 401:
        return AuthenticationError(message, **common)
    if status_code == 403:
        return PermissionDeniedError(message, permission=permission, **common)
    if status_code == 404:
        return NotFoundError(message, **common)
    if status_code == 422:
        return RequestValidationError(message, **common)
    if status_code == 429:
        return RateLimitError(message, retry_after=retry_after, **common)
    if status_code >= 500:
        return ServerError(message, **common)
    return APIStatusError(message, **common)


def _message_of(body: Any) -> str:
    if isinstance(body, Mapping):
        detail = body.get("detail", body.get("message"))
        if isinstance(detail, str):
            return detail
        if detail is not None:
            return str(detail)[:BODY_EXCERPT_CHARS]
    if isinstance(body, str):
        return body[:BODY_EXCERPT_CHARS] or "(empty body)"
    return str(body)[:BODY_EXCERPT_CHARS]


def _detail_list(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, Mapping) and isinstance(body.get("detail"), list):
        return [item for item in body["detail"] if isinstance(item, dict)]
    return []


def _render_detail(item: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in item.get("loc", []))
    return f"{location}: {item.get('msg', '')}".strip(": ")


class StoreBusyError(MetricsError):
    """The history store is open for writing in another process (a sync): a DuckDB file has
    one writer, and no reader while it writes. Read it when the sync ends."""


class ReportExecutionError(MetricsError):
    """The report notebook failed while it ran; the message names the cell's error.

    Parameters
    ----------
    message : str
        What failed.
    error_name : str, optional
        The class name of the error raised in the notebook's kernel, verbatim.
    error_value : str, optional
        Its message, verbatim.
    """

    def __init__(self, message: str, *, error_name: str = "", error_value: str = "") -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_value = error_value
