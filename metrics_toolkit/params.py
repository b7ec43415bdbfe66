"""Checking and normalising what users pass in, before any request is sent (pure, no I/O).

Every function here raises :class:`~metrics_toolkit.errors.InvalidParameterError` (a
``ValueError``) naming the parameter and what would be accepted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import functools
import ipaddress
import math
import numbers
import os
import re
import warnings
import zoneinfo
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

import pandas as pd

from ._constants import TOKEN_PREFIX
from .errors import InsecureTransportError, InvalidParameterError, TokenFormatWarning

__all__ = [
    "TimeLike",
    "check_base_url",
    "check_directory",
    "check_duration",
    "check_flag",
    "check_ids",
    "check_names",
    "check_now",
    "check_playbook_id",
    "check_positive_int",
    "check_positive_number",
    "check_text",
    "check_timezone",
    "check_token",
    "check_window",
    "filter_params",
    "refuse_insecure_http",
    "session_metrics_params",
    "to_epoch_seconds",
    "to_timestamp",
    "window_params",
]

#: Anything accepted as a point in time.
TimeLike: TypeAlias = "dt.datetime | dt.date | str | pd.Timestamp | int"

#: Units of a timestamp's integer, per second.
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
#: Epoch values above this (the year 5138 in seconds) are taken for milliseconds and refused.
MAX_EPOCH_SECONDS = 100_000_000_000
#: What a too-large epoch int was most likely counted in (pandas' ``Timestamp.value`` is ns).
SUBSECOND_UNITS = (("milliseconds", 10**3), ("microseconds", 10**6), ("nanoseconds", 10**9))

TIME_FORMS = (
    "an ISO 8601 string: '2026-09-01', '2026-09-01T14:30' or '2026-09-01T14:30+02:00' (naive "
    "means {tz}); or a datetime, a date, a pandas.Timestamp or an int of Unix epoch seconds"
)
#: The strings accepted: ISO 8601's extended form, a date, then an optional time (after ``T`` or
#: a space) and offset. Day-month and month-day orders (``1.9.2026``, ``09/01/2026``) differ
#: by country, and words (``Sept 1 2026``, ``today``) are guesses: both are refused.
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
#: Numeric dates in other orders: day and month then year (1.9.2026), or year first (2026/9/1).
_OTHER_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})|(\d{4})[./-](\d{1,2})[./-](\d{1,2})")


def to_timestamp(value: Any, name: str, tz: str = "UTC") -> pd.Timestamp:
    """Turn a point in time into a tz-aware :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : datetime, date, str, pandas.Timestamp or int
        A string is ISO 8601 only (:data:`ISO_TIME`: ``2026-09-01``, ``2026-09-01T14:30``,
        ``2026-09-01T14:30+02:00``). One without offset, a naive datetime and a date (midnight)
        are read in ``tz``; an int is Unix epoch seconds (UTC), 0 to ``MAX_EPOCH_SECONDS``.
    name : str
        The parameter's name, for the error message.
    tz : str, default "UTC"
        IANA time zone for naive values; the result is expressed in it.

    Returns
    -------
    pandas.Timestamp
        Tz-aware, in ``tz``.

    Raises
    ------
    InvalidParameterError
        For another type, a string not in ISO 8601 form (``1.9.2026``, ``09/01/2026``,
        ``Sept 1 2026``: the message gives the ISO readings), a negative int or one that looks
        like milliseconds.
    """
    zone = check_timezone(tz)
    forms = TIME_FORMS.format(tz=zone)
    if isinstance(value, bool):
        raise InvalidParameterError(name, f"got a bool; expected {forms}")
    if isinstance(value, numbers.Integral):
        seconds = int(value)
        if seconds < 0:
            raise InvalidParameterError(name, f"{seconds} is negative; expected {forms}")
        if seconds > MAX_EPOCH_SECONDS:
            for unit, factor in SUBSECOND_UNITS:
                if seconds // factor <= MAX_EPOCH_SECONDS:
                    raise InvalidParameterError(
                        name,
                        f"{seconds} looks like {unit}; pass Unix epoch seconds "
                        f"(e.g. {seconds // factor})",
                    )
            raise InvalidParameterError(name, f"{seconds} is too large; expected {forms}")
        return pd.Timestamp(seconds, unit="s", tz="UTC").tz_convert(zone)
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
    elif isinstance(value, dt.date):
        stamp = pd.Timestamp(value.year, value.month, value.day)
    elif isinstance(value, str):
        stamp = _parse_iso(value, name, forms)
    else:
        raise InvalidParameterError(name, f"got {type(value).__name__}; expected {forms}")
    if pd.isna(stamp):
        raise InvalidParameterError(name, f"got a missing value (NaT); expected {forms}")
    if stamp.tzinfo is None:
        try:
            return stamp.tz_localize(zone, ambiguous="raise", nonexistent="shift_forward")
        except ValueError:  # the local time occurs twice (clocks set back)
            raise InvalidParameterError(
                name,
                f"{value!r} happens twice in {zone} (the clocks go back then); give an "
                "offset, e.g. '2026-10-25T02:30:00+02:00'",
            ) from None
    return stamp.tz_convert(zone)


def _parse_iso(value: str, name: str, forms: str) -> pd.Timestamp:
    """An ISO 8601 string (:data:`ISO_TIME`) as a Timestamp; else raise, naming the ISO readings
    of a numeric date in another order (``1.9.2026``: ``2026-09-01`` or ``2026-01-09``)."""
    text, hint = value.strip(), ""
    if ISO_TIME.fullmatch(text):
        try:
            return pd.Timestamp(text)
        except ValueError as exc:  # "month must be in 1..12: 2026-13-01"
            hint = f" ({str(exc).partition(':')[0]})"
    elif match := _OTHER_DATE.fullmatch(text):
        first, second, year, *year_month_day = match.groups()
        orders = [(year, second, first), (year, first, second)] if year else [year_month_day]
        readings = []
        for parts in orders:  # (year, month, day)
            with contextlib.suppress(ValueError):
                readings.append(dt.date(*map(int, parts)).isoformat())
        hint = f" (write {' or '.join(dict.fromkeys(readings))})" if readings else ""
    raise InvalidParameterError(
        name, f"{value!r} is not an ISO 8601 date (YYYY-MM-DD) or time{hint}; expected {forms}"
    )


def to_epoch_seconds(value: Any, name: str) -> int:
    """Unix epoch seconds (UTC) of a point in time; sub-second parts are dropped.

    Parameters
    ----------
    value : datetime, date, str, pandas.Timestamp or int
        As :func:`to_timestamp` accepts, naive values read as UTC.
    name : str
        The parameter's name, for the error message.
    """
    stamp = to_timestamp(value, name)
    # read in the stamp's own unit: ``value`` (nanoseconds) overflows past 2262
    return int(stamp.asm8.view("i8")) // _PER_SECOND[stamp.unit]


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(tz: Any, name: str = "tz") -> str:
    """Return ``tz`` when it is a known IANA time zone name, else raise with suggestions.

    Parameters
    ----------
    tz : str
        For example ``"UTC"``, ``"Europe/Berlin"``, ``"America/New_York"``.
    name : str, default "tz"
        The parameter's name, for the error message.
    """
    if not isinstance(tz, str):
        raise InvalidParameterError(
            name, f"got {type(tz).__name__}; expected an IANA time zone name such as 'UTC'"
        )
    return _known_timezone(tz, name)


@functools.lru_cache(maxsize=256)
def _known_timezone(tz: str, name: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(tz, sorted(_zone_names()), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InvalidParameterError(
            name,
            f"{tz!r} is not an IANA time zone name (such as 'UTC' or 'Europe/Berlin').{hint}",
        ) from None
    return tz


def check_names(value: Any, name: str) -> list[str] | None:
    """Validate an optional list of ids or names; a single string counts as a list of one.

    Parameters
    ----------
    value : None, str or iterable of str
        The ids, each a non-empty string. Duplicates are dropped, order kept.
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    list of str or None
        None when ``value`` is None.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, bytes | dict):
        raise InvalidParameterError(
            name, f"got {type(value).__name__}; expected a list of id strings or None"
        )
    ids = list(value)
    if not ids:
        raise InvalidParameterError(
            name, "is an empty list; pass None for no filter, or at least one id"
        )
    for item in ids:
        if not isinstance(item, str) or not item.strip():
            raise InvalidParameterError(
                name, f"every id must be a non-empty string; got {item!r} ({type(item).__name__})"
            )
    return list(dict.fromkeys(ids))


def check_ids(value: Any, name: str) -> list[str] | None:
    """:func:`check_names` for ids sent to the API: none may hold a comma, white space or a
    control character (on the wire ``"u1,u2"`` may be read as two ids).

    Examples
    --------
    >>> check_ids(["org-1", "org-2", "org-1"], "org_ids")
    ['org-1', 'org-2']
    """
    ids = check_names(value, name)
    for item in ids or ():
        if any(char == "," or char.isspace() or not char.isprintable() for char in item):
            raise InvalidParameterError(
                name,
                f"{item!r} holds a comma, a space or a control character, which no id does "
                "(on the wire 'a,b' may be read as two ids); pass each id as its own item",
            )
    return ids


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` when it is an int of at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(name, f"got {value!r}; expected an int >= {minimum}")
    return int(value)


def check_playbook_id(value: Any, name: str = "playbook_id") -> str | None:
    """Return ``value`` when it is None or a non-empty string, else raise."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(name, f"got {value!r}; expected one playbook id string or None")
    return value


def check_window(time_after: Any, time_before: Any) -> tuple[int, int]:
    """Unix seconds of a half-open window ``[time_after, time_before)``, checked non-empty."""
    after = to_epoch_seconds(time_after, "time_after")
    before = to_epoch_seconds(time_before, "time_before")
    if after >= before:
        raise InvalidParameterError(
            "time_before",
            f"must be later than time_after (got time_after={after}, time_before={before}, "
            "Unix seconds); windows are half-open [time_after, time_before)",
        )
    return after, before


def filter_params(
    *,
    user_ids: Any = None,
    service_user_ids: Any = None,
    org_ids: Any = None,
    playbook_id: Any = None,
) -> dict[str, Any]:
    """The checked filters as query parameters: id lists sorted, absent filters left out."""
    params: dict[str, Any] = {}
    for name, value in (
        ("user_ids", user_ids),
        ("service_user_ids", service_user_ids),
        ("org_ids", org_ids),
    ):
        ids = check_ids(value, name)
        if ids is not None:
            params[name] = sorted(ids)
    playbook = check_playbook_id(playbook_id)
    if playbook is not None:
        params["playbook_id"] = playbook
    return params


def session_metrics_params(
    time_after: Any,
    time_before: Any,
    *,
    user_ids: Any = None,
    service_user_ids: Any = None,
    org_ids: Any = None,
    playbook_id: Any = None,
) -> dict[str, Any]:
    """The canonical query of one sessions-metrics call (same call, same dict, same cache key).

    Parameters
    ----------
    time_after, time_before : TimeLike
        Half-open window; naive values are UTC, ints Unix seconds.
    user_ids, service_user_ids, org_ids : list of str, optional
    playbook_id : str, optional

    Returns
    -------
    dict
        ``time_after`` and ``time_before`` as ints, then the filters present.
    """
    after, before = check_window(time_after, time_before)
    params: dict[str, Any] = {"time_after": after, "time_before": before}
    params.update(
        filter_params(
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )
    )
    return params


def window_params(
    time_after: Any, time_before: Any, *, allowed: Iterable[str], **filters: Any
) -> dict[str, Any]:
    """The canonical query of one windowed call to an endpoint that takes the ``allowed`` filters.

    Parameters
    ----------
    time_after, time_before : TimeLike
        Half-open window; naive values are UTC, ints Unix seconds.
    allowed : iterable of str
        The filters the endpoint takes (``org_ids``, ...).
    **filters
        Filter values by name; None leaves a filter out.

    Raises
    ------
    InvalidParameterError
        For a filter the endpoint does not take, or a malformed value.
    """
    accepted = tuple(allowed)
    for name, value in filters.items():
        if value is not None and name not in accepted:
            takes = ", ".join(accepted) if accepted else "no filter"
            raise InvalidParameterError(name, f"this endpoint does not take it; it takes {takes}")
    after, before = check_window(time_after, time_before)
    params: dict[str, Any] = {"time_after": after, "time_before": before}
    params.update(filter_params(**filters))
    return params


def check_flag(value: Any, name: str) -> bool:
    """Return ``value`` when it is True or False (not merely truthy), else raise."""
    if not isinstance(value, bool):
        raise InvalidParameterError(name, f"got {value!r}; expected True or False")
    return value


def check_base_url(value: Any, name: str = "base_url") -> str:
    """An http(s) URL with a host and no query, without its trailing slash; else raise."""
    if not isinstance(value, str):
        raise InvalidParameterError(name, f"got {type(value).__name__}; expected a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(
            name, f"{value!r} is not an http(s) URL such as 'https://api.devin.ai'"
        )
    if parts.query or parts.fragment:
        raise InvalidParameterError(name, f"{value!r} must not carry a query")
    return value.rstrip("/")


def check_positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A finite number of seconds, > 0 (or >= 0 with ``allow_zero``), as a float; else raise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(
            name, f"got {value!r}; expected a finite number of seconds {bound}"
        )
    return float(value)


def check_text(value: Any, name: str) -> str:
    """Return ``value`` when it is a string with something besides white space, else raise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(name, f"got {value!r}; expected a non-empty string")
    return value


def check_duration(
    value: Any, name: str, *, minimum: dt.timedelta = dt.timedelta(0)
) -> dt.timedelta:
    """Return ``value`` when it is a ``timedelta`` of at least ``minimum``, else raise."""
    if not isinstance(value, dt.timedelta) or value < minimum:
        seconds = minimum.total_seconds()
        bound = ">= 0" if not seconds else f"of at least {seconds:g} second{'s' * (seconds != 1)}"
        raise InvalidParameterError(name, f"got {value!r}; expected a timedelta {bound}")
    return value


def check_directory(value: Any, name: str) -> Path | None:
    """A directory path (str or path-like) as a :class:`~pathlib.Path`, or None; else raise."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise InvalidParameterError(
            name, f"got {type(value).__name__}; expected a directory path or None"
        )
    return Path(value)


def check_now(now: Any) -> Callable[[], Any] | None:
    """A "now" setting as a function of no argument (None: the wall clock); else raise."""
    if now is None:
        return None
    if callable(now):
        return now  # type: ignore[no-any-return]
    stamp = to_timestamp(now, "now")
    return lambda: stamp


def check_token(api_key: Any) -> str:
    """Return the token when it is one printable word; warn when it does not look like
    ``cog_...``. The messages never quote the token."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise InvalidParameterError("api_key", "expected a non-empty token string (cog_...)")
    if any(char.isspace() or not char.isprintable() for char in api_key):
        raise InvalidParameterError(
            "api_key",
            "the token contains whitespace or a control character (a newline read from a "
            "file?); pass the token alone",
        )
    if not api_key.startswith(TOKEN_PREFIX):
        warnings.warn(
            f"the API key does not start with {TOKEN_PREFIX!r}, as Devin service-user tokens "
            "do; it is sent anyway",
            TokenFormatWarning,
            stacklevel=3,  # the line that created the client
        )
    return api_key


def refuse_insecure_http(base_url: str) -> None:
    """Raise when a token would travel over plain http to a host that is not loopback."""
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        return
    host = parts.hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise InsecureTransportError(
        f"refusing to send the API token over plain http to {host!r}: use https, or pass "
        "allow_insecure_http=True if you really mean it"
    )
