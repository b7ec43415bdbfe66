"""The HTTP side of the simulator: reading query strings and headers, writing JSON answers.

Parameters are read the way FastAPI reads them: a scalar takes the last value of a repeated key,
a list takes repeated keys and comma-joined values alike (or only one of the two, in a strict
`ListFormat`), integers and booleans are parsed by pydantic v2 so that a 422 carries pydantic's
``type``, ``msg`` and ``input``. Errors are
collected, not raised one by one, so one 422 lists every bad parameter in declaration order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, Literal
from urllib.parse import parse_qsl

import numpy as np
from pydantic import TypeAdapter, ValidationError

__all__ = [
    "DemoResponse",
    "RequestError",
    "clip_int64",
    "error",
    "header",
    "id_list",
    "json_response",
    "last",
    "optional_value",
    "parse_query",
    "required_integer",
    "time_window",
    "validation_error",
]

JSON_CONTENT_TYPE: Final = "application/json"
INT64_MIN: Final = int(np.iinfo(np.int64).min)
INT64_MAX: Final = int(np.iinfo(np.int64).max)
_INTEGER: Final = TypeAdapter(int)

Query = dict[str, list[str]]
"""A parsed query string: every value of each key, in order."""
JsonObject = dict[str, Any]
ListFormat = Literal["any", "repeat", "comma"]
"""How a list parameter is read from the query string:

- ``"any"``: repeated keys (``a=1&a=2``) and comma-joined values (``a=1,2``) alike, as the demo
  does by default;
- ``"repeat"``: repeated keys only; a comma-joined value is one id (``a=1,2`` is the id
  ``"1,2"``), as FastAPI reads a list;
- ``"comma"``: one comma-joined value; of repeated keys only the last one counts, as FastAPI
  reads a scalar (the way a server expecting Cognition's SDK would).
"""
LIST_FORMATS: Final[tuple[ListFormat, ...]] = ("any", "repeat", "comma")


@dataclass(frozen=True)
class DemoResponse:
    """An HTTP response of the simulator: status code, headers, body (JSON, UTF-8)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body, decoded from JSON."""
        return json.loads(self.body)


class RequestError(Exception):
    """Ends the handling of a request with this response."""

    def __init__(self, response: DemoResponse) -> None:
        super().__init__(response.status)
        self.response = response


# -- reading the request ---------------------------------------------------------------------


def parse_query(query: str) -> Query:
    """Every value of each key of a percent-encoded query string, blank values kept."""
    parsed: Query = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        parsed.setdefault(name, []).append(value)
    return parsed


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name` (lowercase), matched case-insensitively, or None."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def last(query: Query, name: str) -> str | None:
    """A scalar parameter: like FastAPI, the last value wins when a key is repeated."""
    values = query.get(name)
    return None if not values else values[-1]


def id_list(query: Query, name: str, list_format: ListFormat = "any") -> list[str] | None:
    """A list parameter, read as `list_format` says (see `ListFormat`); None when absent."""
    values = query.get(name)
    if values is None:
        return None
    if list_format == "repeat":
        return list(values)
    if list_format == "comma":
        values = values[-1:]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _pydantic_errors(error: ValidationError, name: str) -> list[JsonObject]:
    return [{**item, "loc": ["query", name]} for item in error.errors(include_url=False)]


def required_integer(query: Query, name: str, errors: list[JsonObject]) -> int | None:
    """A required integer parameter, or None with its error appended to `errors`."""
    value = last(query, name)
    if value is None:
        errors.append(
            {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}
        )
        return None
    try:
        return _INTEGER.validate_python(value)
    except ValidationError as error:
        errors.extend(_pydantic_errors(error, name))
        return None


def time_window(query: Query) -> tuple[int, int]:
    """``time_after`` and ``time_before``, both required integers (Unix seconds).

    Raises
    ------
    RequestError
        A 422 listing the missing or malformed ones, ``time_before`` first (the order the
        metrics endpoints declare them in).
    """
    errors: list[JsonObject] = []
    time_before = required_integer(query, "time_before", errors)
    time_after = required_integer(query, "time_after", errors)
    if errors or time_after is None or time_before is None:
        raise RequestError(validation_error(errors))
    return time_after, time_before


def optional_value(
    query: Query, name: str, adapter: TypeAdapter[Any], default: Any, errors: list[JsonObject]
) -> Any:
    """An optional parameter validated by `adapter`; `default` (and an error) when invalid."""
    value = last(query, name)
    if value is None:
        return default
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        errors.extend(_pydantic_errors(error, name))
        return default


def clip_int64(value: int) -> int:
    """`value` clipped to the int64 range (a bound numpy can search a timestamp array with)."""
    return min(max(value, INT64_MIN), INT64_MAX)


# -- writing the answer ----------------------------------------------------------------------


def json_response(
    status: HTTPStatus, content: Any, headers: Mapping[str, str] | None = None
) -> DemoResponse:
    """`content` as compact UTF-8 JSON (NaN refused) with status `status`."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return DemoResponse(
        status=int(status),
        headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
        body=body.encode("utf-8"),
    )


def error(
    status: HTTPStatus, detail: str, headers: Mapping[str, str] | None = None
) -> DemoResponse:
    """FastAPI's error shape: ``{"detail": "..."}``."""
    return json_response(status, {"detail": detail}, headers)


def validation_error(errors: Sequence[JsonObject]) -> DemoResponse:
    """A 422 with FastAPI's ``HTTPValidationError`` body."""
    return json_response(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": list(errors)})
