"""Pydantic models of the API's payloads.

Field names are exactly the API's. Every model keeps fields it does not know (``extra="allow"``):
a new origin, a new size or a new metric from the server is kept and reaches the DataFrame as a
column, never dropped and never an error. Counts are strict integers: a body that sends ``"3"``
or ``true`` for a count breaks the schema and is reported, not silently coerced. Where the
editions of the docs disagree on a field (``prs_taken_over_*``, ``review``), it is optional.

Each field is documented by the docstring below it, for readers, IDEs and ``help()``. They are
not copied into pydantic's field descriptions (``use_attribute_docstrings``): that reads and
tokenises the source in every process, 80 ms of ``import metrics_toolkit``, for descriptions
nothing here uses.

A metrics answer (:class:`MetricsAnswer`) is short in a notebook: ``repr`` names its window and
its numbers in one line, and Jupyter shows it as a small table of its fields.

The models live in one module per part of the API, all importable from here:
:mod:`~metrics_toolkit.models.sessions` (sessions, searches),
:mod:`~metrics_toolkit.models.prs` (PRs, usage),
:mod:`~metrics_toolkit.models.activity` (active users, sessions by category),
:mod:`~metrics_toolkit.models.consumption` (ACUs per billing day, billing cycles) and
:mod:`~metrics_toolkit.models.directory` (the directory lists and their pages).
"""

from __future__ import annotations

from .._vocabulary import ID_FIELDS, ORIGINS, SIZES
from ._base import APIModel, HTTPValidationError, MetricsAnswer, ValidationErrorItem
from .activity import (
    ActiveUserMetrics,
    ActiveUserSeries,
    CategoryMetrics,
    SessionsByCategory,
    SubcategoryMetrics,
)
from .consumption import (
    AcusByProduct,
    Consumption,
    ConsumptionByDate,
    ConsumptionCycle,
    ConsumptionCyclePage,
)
from .directory import (
    DirectoryModel,
    Organization,
    OrganizationPage,
    Page,
    Playbook,
    PlaybookPage,
    Role,
    RoleAssignment,
    ServiceUser,
    ServiceUserPage,
    User,
    UserPage,
)
from .prs import PrMetrics, UsageMetrics
from .sessions import SearchMetrics, SessionCountsByOrigin, SessionCountsBySize, SessionMetrics

__all__ = [
    "ID_FIELDS",
    "ORIGINS",
    "SIZES",
    "APIModel",
    "ActiveUserMetrics",
    "ActiveUserSeries",
    "AcusByProduct",
    "CategoryMetrics",
    "Consumption",
    "ConsumptionByDate",
    "ConsumptionCycle",
    "ConsumptionCyclePage",
    "DirectoryModel",
    "HTTPValidationError",
    "MetricsAnswer",
    "Organization",
    "OrganizationPage",
    "Page",
    "Playbook",
    "PlaybookPage",
    "PrMetrics",
    "Role",
    "RoleAssignment",
    "SearchMetrics",
    "ServiceUser",
    "ServiceUserPage",
    "SessionCountsByOrigin",
    "SessionCountsBySize",
    "SessionMetrics",
    "SessionsByCategory",
    "SubcategoryMetrics",
    "UsageMetrics",
    "User",
    "UserPage",
    "ValidationErrorItem",
]
