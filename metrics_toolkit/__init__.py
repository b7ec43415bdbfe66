"""metrics_toolkit: Devin session metrics as pandas DataFrames, charts, panels and reports.

>>> import metrics_toolkit as mt
>>> client = mt.MetricsClient.demo()          # the synthetic demo enterprise, no key needed
>>> weekly = client.session_metrics_frame("2026-09-01", "2026-11-01", freq="week")

The names are loaded when first used (``mt.MetricsClient`` loads the client, pydantic and the
models): ``import metrics_toolkit`` stays cheap for the command line and for notebooks that
only need a few names. Type checkers and IDEs see the imports below ``TYPE_CHECKING``.
"""

import importlib as _importlib
import typing as _typing

from .buckets import Bucket, time_buckets
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    CacheWarning,
    DirectoryWarning,
    FetchError,
    FutureBucketsWarning,
    InsecureTransportError,
    InvalidParameterError,
    MetricsError,
    MetricsWarning,
    NotFoundError,
    PartialFetchWarning,
    PermissionDeniedError,
    RateLimitError,
    ReportExecutionError,
    RequestValidationError,
    ResponseValidationError,
    ScopeError,
    ServerError,
    StoreBusyError,
    TokenFormatWarning,
)

if _typing.TYPE_CHECKING:
    from ._endpoints import (
        ACTIVE_USERS,
        PR_METRICS,
        SEARCH_METRICS,
        SESSION_METRICS,
        USAGE_METRICS,
        Answer,
        Endpoint,
    )
    from .cache import CachePolicy, clear_cache, default_cache_dir
    from .client import MetricsClient
    from .combine import combine_metrics
    from .export import excel_ready
    from .fetch import BucketFailure, FetchStats, MetricsSource, fetch_series
    from .frames import add_derived, long_frame, rollup, wide_frame
    from .models import (
        ActiveUserMetrics,
        Consumption,
        ConsumptionCycle,
        HTTPValidationError,
        PrMetrics,
        SearchMetrics,
        SessionCountsByOrigin,
        SessionCountsBySize,
        SessionMetrics,
        SessionsByCategory,
        UsageMetrics,
        ValidationErrorItem,
    )
    from .periods import fetch_active_user_periods, fetch_consumption
    from .store import Store, sync
    from .tables import category_frame, overview

__version__ = "0.1.0"

__all__ = [
    "ACTIVE_USERS",
    "PR_METRICS",
    "SEARCH_METRICS",
    "SESSION_METRICS",
    "USAGE_METRICS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ActiveUserMetrics",
    "Answer",
    "AuthenticationError",
    "Bucket",
    "BucketFailure",
    "CachePolicy",
    "CacheWarning",
    "Consumption",
    "ConsumptionCycle",
    "DirectoryWarning",
    "Endpoint",
    "FetchError",
    "FetchStats",
    "FutureBucketsWarning",
    "HTTPValidationError",
    "InsecureTransportError",
    "InvalidParameterError",
    "MetricsClient",
    "MetricsError",
    "MetricsSource",
    "MetricsWarning",
    "NotFoundError",
    "PartialFetchWarning",
    "PermissionDeniedError",
    "PrMetrics",
    "RateLimitError",
    "ReportExecutionError",
    "RequestValidationError",
    "ResponseValidationError",
    "ScopeError",
    "SearchMetrics",
    "ServerError",
    "SessionCountsByOrigin",
    "SessionCountsBySize",
    "SessionMetrics",
    "SessionsByCategory",
    "Store",
    "StoreBusyError",
    "TokenFormatWarning",
    "UsageMetrics",
    "ValidationErrorItem",
    "__version__",
    "add_derived",
    "category_frame",
    "clear_cache",
    "combine_metrics",
    "default_cache_dir",
    "excel_ready",
    "fetch_active_user_periods",
    "fetch_consumption",
    "fetch_series",
    "long_frame",
    "overview",
    "rollup",
    "sync",
    "time_buckets",
    "wide_frame",
]


#: Where each public name lives, loaded on first use.
_LAZY_NAMES: dict[str, str] = {
    "ACTIVE_USERS": "_endpoints",
    "ActiveUserMetrics": "models",
    "Answer": "_endpoints",
    "Consumption": "models",
    "ConsumptionCycle": "models",
    "PR_METRICS": "_endpoints",
    "PrMetrics": "models",
    "SessionsByCategory": "models",
    "USAGE_METRICS": "_endpoints",
    "UsageMetrics": "models",
    "SEARCH_METRICS": "_endpoints",
    "SESSION_METRICS": "_endpoints",
    "BucketFailure": "fetch",
    "CachePolicy": "cache",
    "Endpoint": "_endpoints",
    "FetchStats": "fetch",
    "HTTPValidationError": "models",
    "MetricsClient": "client",
    "MetricsSource": "fetch",
    "SearchMetrics": "models",
    "SessionCountsByOrigin": "models",
    "SessionCountsBySize": "models",
    "SessionMetrics": "models",
    "ValidationErrorItem": "models",
    "add_derived": "frames",
    "category_frame": "tables",
    "clear_cache": "cache",
    "combine_metrics": "combine",
    "default_cache_dir": "cache",
    "excel_ready": "export",
    "fetch_active_user_periods": "periods",
    "fetch_consumption": "periods",
    "fetch_series": "fetch",
    "long_frame": "frames",
    "overview": "tables",
    "rollup": "frames",
    "Store": "store",
    "sync": "store",
    "wide_frame": "frames",
}


def __getattr__(name: str) -> object:
    """Load a public name, or a submodule, on first use (PEP 562)."""
    module = _LAZY_NAMES.get(name)
    if module is not None:
        value: object = getattr(_importlib.import_module(f".{module}", __name__), name)
    elif not name.startswith("__"):
        try:
            value = _importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise  # the submodule exists, and something it imports is missing
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
