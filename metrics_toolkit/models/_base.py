"""The base of every payload model, the short notebook form of a metrics answer, and the body
of a 422 answer."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "APIModel",
    "HTTPValidationError",
    "MetricsAnswer",
    "ValidationErrorItem",
]

# Where an answer's window is kept among its private state.
_WINDOW_KEY = "_window"


class APIModel(BaseModel):
    """Base of every payload model: unknown fields kept, counts strict, instances frozen."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    #: How the entries of a model of nested counts are named in a table people read (origins
    #: as ``"Web app"``); None: as sent.
    entry_label: ClassVar[Callable[[str], str] | None] = None


class MetricsAnswer(APIModel):
    """Base of the metrics answers: totals over one half-open window, short in a notebook.

    The window ``[time_after, time_before)`` an answer covers is kept beside its fields, not as
    one: a client call notes it, and ``repr`` and the table a notebook shows
    (``_repr_html_``) name it. ``model_dump``, JSON and equality ignore it, and an answer
    built from a payload (``model_validate``) or combined from others has none.

    ``repr`` shows the window and each number, and for nested counts only how many there are:
    ``client.search_metrics("2026-11-23", "2026-11-30")`` shows as
    ``SearchMetrics(window=[2026-11-23, 2026-11-30) UTC, searches_created_count=593)``. The
    HTML table shows every field, counts with thousands separators, averages with two decimals
    and nested counts by their labels (``Web app 282 · Slack 325``).

    Examples
    --------
    >>> from metrics_toolkit.models import SearchMetrics
    >>> answer = SearchMetrics.model_validate({"searches_created_count": 1234})
    >>> answer, answer.window
    (SearchMetrics(searches_created_count=1234), None)
    >>> print(answer._repr_html_())  # doctest: +NORMALIZE_WHITESPACE
    <table class="mt-answer"><caption>SearchMetrics</caption><tr><th
    style="text-align:left">searches_created_count</th><td
    style="text-align:right">1,234</td></tr></table>
    """

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The half-open window ``[start, end)`` answered, as tz-aware UTC datetimes; None when
        unknown (built from a payload, or combined from several answers)."""
        return _utc_window(self._window)

    @property
    def _window(self) -> tuple[int, int] | None:
        """The window noted, in Unix seconds. It is kept where pydantic keeps private state,
        which copies and pickles carry, set only when noted: a model with a declared private
        attribute pays for setting it up at every validation (a year of daily answers read
        from the store is 365 of them)."""
        noted: dict[str, Any] | None = getattr(self, "__pydantic_private__", None)
        return None if noted is None else noted.get(_WINDOW_KEY)

    def _note_window(self, params: Mapping[str, Any]) -> None:
        """Keep the window of the query ``params`` this answers: its ``time_after`` and
        ``time_before`` in Unix seconds; anything else leaves the window unknown."""
        after, before = params.get("time_after"), params.get("time_before")
        if type(after) is int and type(before) is int:
            noted = {**(getattr(self, "__pydantic_private__", None) or {})}
            noted[_WINDOW_KEY] = (after, before)
            object.__setattr__(self, "__pydantic_private__", noted)

    def window_text(self) -> str | None:
        """The window for reading: ``"[2026-11-23, 2026-11-30) UTC"``, with the time of day
        when a bound is not at midnight (``"[2026-11-23 06:00, 2026-11-23 12:00) UTC"``); None
        when unknown."""
        window = self.window
        if window is None:
            return None
        if any(bound.second for bound in window):
            shape = "%Y-%m-%d %H:%M:%S"
        elif any(bound.hour or bound.minute for bound in window):
            shape = "%Y-%m-%d %H:%M"
        else:
            shape = "%Y-%m-%d"
        start, end = (bound.strftime(shape) for bound in window)
        return f"[{start}, {end}) UTC"

    def _items(self) -> Iterator[tuple[str, Any]]:
        """Every field, the documented ones first, then those the server added."""
        for name in type(self).model_fields:
            yield name, getattr(self, name)
        yield from (self.model_extra or {}).items()

    def __eq__(self, other: object) -> bool:
        # the same numbers are the same answer, whatever window was noted beside them
        if isinstance(other, MetricsAnswer) and type(other) is type(self):
            return self.__dict__ == other.__dict__ and (self.model_extra or {}) == (
                other.model_extra or {}
            )
        return super().__eq__(other)

    def __repr__(self) -> str:
        window = self.window_text()
        parts = [] if window is None else [f"window={window}"]
        parts += [f"{name}={_short(value)}" for name, value in self._items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        caption = html.escape(type(self).__name__)
        window = self.window_text()
        if window is not None:
            caption += f" &middot; {html.escape(window)}"
        rows = "".join(
            f'<tr><th style="text-align:left">{html.escape(name)}</th>'
            f'<td style="text-align:{"left" if isinstance(value, BaseModel | list) else "right"}">'
            f"{html.escape(_cell(value))}</td></tr>"
            for name, value in self._items()
        )
        return f'<table class="mt-answer"><caption>{caption}</caption>{rows}</table>'


def _utc_window(window: tuple[int, int] | None) -> tuple[dt.datetime, dt.datetime] | None:
    """A window of Unix seconds as tz-aware UTC datetimes; None stays None."""
    if window is None:
        return None
    start, end = window
    return (
        dt.datetime.fromtimestamp(start, dt.timezone.utc),
        dt.datetime.fromtimestamp(end, dt.timezone.utc),
    )


def _short(value: Any) -> str:
    """A field's value in a one-line repr: numbers as they are (floats to 3 decimals), nested
    counts by how many there are."""
    if isinstance(value, BaseModel):
        return f"<{len(value.model_dump())} counts>"
    if isinstance(value, dict | list):
        return f"<{len(value)} entries>"
    if isinstance(value, float):
        return repr(round(value, 3))
    return repr(value)


def _cell(value: Any) -> str:
    """A field's value in a table people read: ``1,069``, ``6.75``, ``Web app 219 · Slack 300``;
    a list by its length (``31 entries``)."""
    if isinstance(value, BaseModel):
        label = getattr(type(value), "entry_label", None) or str
        counts = value.model_dump().items()
        return " · ".join(f"{label(key)} {_cell(count)}" for key, count in counts)
    if isinstance(value, list):
        return f"{len(value):,} entr{'y' if len(value) == 1 else 'ies'}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


class ValidationErrorItem(APIModel):
    """One entry of a 422 body's ``detail`` list (FastAPI's shape)."""

    model_config = ConfigDict(strict=False)

    loc: list[str | int]
    """Where the error is, e.g. ``["query", "time_before"]``."""
    msg: str
    """What is wrong, e.g. ``"Field required"``."""
    type: str
    """The error type, e.g. ``"missing"`` or ``"int_parsing"``."""


class HTTPValidationError(APIModel):
    """The body of a 422 answer."""

    model_config = ConfigDict(strict=False)

    detail: list[ValidationErrorItem] = []
    """Every problem with the request's parameters."""
