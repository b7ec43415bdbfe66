"""A local history store: metrics kept in a DuckDB file by :func:`sync`, read back as the same
frames a fetch gives by :class:`Store`.

>>> import metrics_toolkit as mt
>>> client = mt.MetricsClient.demo(now="2026-11-20")
>>> summary = mt.sync(client, "history.duckdb", "2026-10-01")  # doctest: +SKIP
>>> store = mt.Store("history.duckdb")  # doctest: +SKIP
>>> weekly = store.frame("2026-10-05", "2026-11-16", freq="week")  # doctest: +SKIP

The store keeps one table per metric family (``sessions``, ``prs``, ``searches``, ``usage``,
``categories``, ``active_users`` with ``active_users_week`` and ``active_users_month``,
``consumption``; ``sessions_by_user`` with a breakdown), one row per (bucket, group) with every
field of the wide frame, when it was fetched (``fetched_at``, UTC) and whether it is settled:
its bucket ended more than :data:`~metrics_toolkit._constants.DEFAULT_SETTLE_PERIOD` before
the sync and its call did not fail, the answer cache's rule
(:class:`~metrics_toolkit.cache.CachePolicy`). A sync asks only for what is not settled:
provisional buckets, failed ones, new ones, those before the first kept and the groups not yet
kept. Days are those of the store's zone, fixed when it is created; consumption stays in
billing days. Needs the ``store`` extra (``duckdb``).
"""

from __future__ import annotations

from ._families import METRIC_NAMES
from ._read import Store
from ._sync import SyncSummary, sync

__all__ = ["METRIC_NAMES", "Store", "SyncSummary", "sync"]
