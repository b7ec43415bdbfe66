"""Session and search metrics: totals over one half-open window for the given filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pydantic import Field

from .._vocabulary import origin_label, size_label
from ._base import APIModel, MetricsAnswer

__all__ = [
    "SearchMetrics",
    "SessionCountsByOrigin",
    "SessionCountsBySize",
    "SessionMetrics",
]


class SessionCountsByOrigin(APIModel):
    """Sessions created, counted by where they were started. Unknown origins are kept."""

    __pydantic_extra__: dict[str, int] = Field(init=False)  # type: ignore[assignment]
    entry_label: ClassVar[Callable[[str], str] | None] = staticmethod(origin_label)

    api: int = 0
    """Sessions started through the API."""
    automation: int = 0
    """Sessions started by automations (scheduled sessions are counted here)."""
    code_scan: int = 0
    """Sessions started by a code scan."""
    desktop: int = 0
    """Sessions started from the desktop app."""
    jira: int = 0
    """Sessions started from Jira."""
    linear: int = 0
    """Sessions started from Linear."""
    slack: int = 0
    """Sessions started from Slack."""
    teams: int = 0
    """Sessions started from Microsoft Teams."""
    webapp: int = 0
    """Sessions started in the Devin web app."""


class SessionCountsBySize(APIModel):
    """Sessions counted by size, XS to XL (a composite of ACUs and user messages)."""

    __pydantic_extra__: dict[str, int] = Field(init=False)  # type: ignore[assignment]
    entry_label: ClassVar[Callable[[str], str] | None] = staticmethod(size_label)

    xs: int = 0
    """Extra-small sessions."""
    s: int = 0
    """Small sessions."""
    m: int = 0
    """Medium sessions."""
    l: int = 0  # noqa: E741 - the API's field name
    """Large sessions (flagged as unhealthy in Devin's insights)."""
    xl: int = 0
    """Extra-large sessions (flagged as unhealthy in Devin's insights)."""


class SessionMetrics(MetricsAnswer):
    """Totals over one half-open window ``[time_after, time_before)`` for the given filters."""

    sessions_created_count: int
    """Sessions created in the window."""
    sessions_created_by_origin: SessionCountsByOrigin
    """Sessions created in the window, by origin."""
    sessions_created_by_size: SessionCountsBySize
    """Sessions created in the window, by size."""
    sessions_created_with_playbook_count: int
    """Sessions created in the window with a playbook."""
    sessions_created_with_search_count: int
    """Sessions created in the window that used search."""
    sessions_with_merged_prs_count: int
    """Sessions created in the window whose PR has been merged (so far: this still grows)."""
    sessions_with_merged_prs_by_size: SessionCountsBySize
    """Sessions created in the window with a merged PR, by size."""
    avg_acus_per_session: float
    """Mean ACUs (Agent Compute Units) per session created in the window; 0 when none."""


class SearchMetrics(MetricsAnswer):
    """Searches over one half-open window ``[time_after, time_before)`` for the given filters."""

    searches_created_count: int
    """Searches (Ask Devin queries) made in the window."""
