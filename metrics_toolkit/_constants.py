"""Every default and environment-variable name, said once (the CLI, panel and report read them).

Units are in the names' docstrings: seconds as floats, sizes in inches, counts as ints.
"""

from __future__ import annotations

import datetime as dt

# -- where the API is, and the token ---------------------------------------------------------

#: Where the Devin API lives.
DEFAULT_BASE_URL = "https://api.devin.ai"
#: The environment variable read for the token when ``api_key`` is not given.
ENV_API_KEY = "DEVIN_API_KEY"
#: The environment variable read for the base URL when ``base_url`` is not given.
ENV_BASE_URL = "DEVIN_API_BASE_URL"
#: The environment variable the command line reads for ``--org-scope`` when it is not given.
ENV_ORG_ID = "DEVIN_ORG_ID"
#: Service-user tokens start with this.
TOKEN_PREFIX = "cog_"
#: Replaces the token wherever an error would quote a body that contains it.
TOKEN_MASK = "***"

# -- the request path ------------------------------------------------------------------------

#: Seconds an attempt may take in all: connection, answer and whole body.
DEFAULT_TIMEOUT = 30.0
#: Further attempts after the first, for connection errors, timeouts, 429, 5xx and broken bodies.
DEFAULT_MAX_RETRIES = 4
#: First backoff in seconds; doubled at each retry, with jitter, up to ``MAX_BACKOFF``.
DEFAULT_BACKOFF = 0.5
#: The longest wait between two attempts, in seconds.
MAX_BACKOFF = 30.0
#: The longest ``Retry-After`` honoured, in seconds.
MAX_RETRY_AFTER = 120.0
#: Connections kept open per host (at least the largest worker count in use).
DEFAULT_POOL_SIZE = 32
#: Requests in flight at once in a series.
DEFAULT_WORKERS = 8
#: Most workers accepted (the connection pool holds this many).
MAX_WORKERS = DEFAULT_POOL_SIZE
#: A progress bar appears above this many calls.
PROGRESS_MIN_CALLS = 8
#: Seconds between two progress reports of a series.
PROGRESS_INTERVAL = 0.1
#: Entries asked for per page of a list (the API's maximum).
PAGE_SIZE = 200
#: How long the directory lists are reused before they are asked again.
DEFAULT_DIRECTORY_TTL = dt.timedelta(days=1)
#: How list parameters go on the wire: "repeat" (ids=a&ids=b) or "comma" (ids=a,b).
DEFAULT_LIST_FORMAT = "repeat"

# -- the answer store ------------------------------------------------------------------------

#: How long after a window ends its numbers may still change (merged PRs, ACUs).
DEFAULT_SETTLE_PERIOD = dt.timedelta(days=14)
#: How long a provisional window's answer is reused before it is asked again.
DEFAULT_PROVISIONAL_TTL = dt.timedelta(hours=1)

# -- the history store -----------------------------------------------------------------------

#: Calls answered and written to the store together: a sync holds at most this many answers.
STORE_BATCH_CALLS = 2000
#: Memory DuckDB may hold while a sync writes (its cache of the tables; more spills to disk),
#: so that a sync's memory does not grow with the history it writes into.
STORE_MEMORY_LIMIT = "64MB"

# -- the front ends --------------------------------------------------------------------------

#: Weeks of history in the weekly report and ``metrics-toolkit report``.
DEFAULT_WEEKS = 12
#: Most weeks of history the report takes.
MAX_WEEKS = 104
#: The port ``metrics-toolkit serve-demo`` listens on, on 127.0.0.1.
DEFAULT_PORT = 8765
#: Size of a chart, in inches (width, height).
FIGSIZE = (10.0, 4.8)
#: Size of the KPI summary card, in inches (width, height).
KPI_FIGSIZE = (10.0, 2.4)
#: Seconds the local clock may differ from the server's ``Date`` before ``doctor`` warns.
MAX_CLOCK_SKEW = 60.0
#: A rate or share over fewer sessions than this is drawn and reported as too small to read.
MIN_SESSIONS = 30
