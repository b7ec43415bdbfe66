"""metrics_toolkit: Devin session metrics as pandas DataFrames, charts, panels and reports.

>>> import metrics_toolkit as mt
>>> client = mt.MetricsClient.demo()          # the synthetic demo enterprise, no key needed
>>> weekly = client.session_metrics_frame("2026-09-01", "2026-11-01", freq="week")
"""

from ._endpoints import Answer, Endpoint
from .buckets import Bucket, time_buckets
from .cache import CachePolicy, clear_cache, default_cache_dir
from .client import MetricsClient
from .combine import combine_metrics
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    CacheWarning,
    FetchError,
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
    ServerError,
    TokenFormatWarning,
)
from .fetch import BucketFailure, FetchStats, MetricsSource, fetch_series
from .frames import add_derived, long_frame, rollup, wide_frame
from .models import (
    HTTPValidationError,
    SearchMetrics,
    SessionCountsByOrigin,
    SessionCountsBySize,
    SessionMetrics,
    ValidationErrorItem,
)

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Answer",
    "AuthenticationError",
    "Bucket",
    "BucketFailure",
    "CachePolicy",
    "CacheWarning",
    "Endpoint",
    "FetchError",
    "FetchStats",
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
    "RateLimitError",
    "ReportExecutionError",
    "RequestValidationError",
    "ResponseValidationError",
    "SearchMetrics",
    "ServerError",
    "SessionCountsByOrigin",
    "SessionCountsBySize",
    "SessionMetrics",
    "TokenFormatWarning",
    "ValidationErrorItem",
    "__version__",
    "add_derived",
    "clear_cache",
    "combine_metrics",
    "default_cache_dir",
    "fetch_series",
    "long_frame",
    "rollup",
    "time_buckets",
    "wide_frame",
]
