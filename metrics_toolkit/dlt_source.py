"""The metrics as a dlt source: the store's tables loaded into any dlt destination.

>>> import dlt  # doctest: +SKIP
>>> import metrics_toolkit as mt
>>> from metrics_toolkit.dlt_source import devin_metrics_source
>>> pipeline = dlt.pipeline("devin_metrics", destination="duckdb")  # doctest: +SKIP
>>> info = pipeline.run(devin_metrics_source(mt.MetricsClient(), "2026-01-01"))  # doctest: +SKIP

:func:`devin_metrics_source` yields one dlt resource per table of the store (``sessions``,
``prs``, ..., ``active_users_week``, ``consumption``; ``sessions_by_org`` with a breakdown),
with the rows :func:`~metrics_toolkit.sync` writes: every field of the wide frame, with
``fetched_at``, ``settled`` and ``group_position``. Each resource is merged on its primary
key (``bucket_start``, and the group's id with a breakdown) with dlt's ``delete-insert``
strategy, so a run never duplicates a row, whatever the destination.

Each resource keeps in its dlt state what it loaded settled (the bucket ended more than the
client's settle period, :attr:`CachePolicy.settle_period <metrics_toolkit.CachePolicy>`,
14 days by default, before the run, and its call did not fail): a later run asks only for
the rest, the store's rule. So a daily run asks for the provisional window (the last 14
days), the failed buckets and the new day; a group the directory no longer lists is still
asked. A failed
call's rows are loaded marked ``failed`` (metrics null), except where an earlier run loaded
numbers: those stay until the bucket is answered again. A missing value is a null. The
state travels with the pipeline (dlt restores it from the destination), and
``pipeline.run(source, refresh="drop_sources")`` reloads everything.

dlt normalizes column names for its destinations: ``acus_by_product.devin`` is loaded as
``acus_by_product_devin`` (``pipeline.default_schema.naming.normalize_identifier`` gives
any one). Needs the ``dlt`` extra (``pip install 'metrics-toolkit[dlt]'``); importing
``metrics_toolkit`` does not import dlt.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types

from ._constants import DEFAULT_WORKERS, MAX_WORKERS
from ._vocabulary import BILLING_DAY, BUCKET_START, ID_FIELDS
from .cache import CachePolicy
from .errors import InvalidParameterError, PartialFetchWarning
from .params import check_positive_int, check_timezone, to_timestamp
from .store._families import CONSUMPTION, Family, families_for
from .store._jobs import Job, plan_job, stamped_batches
from .store._sync import Breakdown

if TYPE_CHECKING:
    from dlt.common.schema.typing import TDeleteInsertStrategyDict
    from dlt.extract.source import DltSource

    from ._calls import MetricsSource
    from .client import MetricsClient

__all__ = ["devin_metrics_source"]

#: The source's name in dlt (its state and schema are kept under it).
_SOURCE_NAME = "devin_metrics"
#: Rows replace those of the same primary key: dlt's most widely supported merge.
_MERGE: TDeleteInsertStrategyDict = {"disposition": "merge", "strategy": "delete-insert"}
#: The resource state's keys: the zone of the days, what each group holds (``[first bucket
#: start, settled before, loaded before]``, Unix seconds), the failed buckets per group.
_TZ, _GROUPS, _FAILED = "tz", "groups", "failed"
_NO_GROUP = ""


def devin_metrics_source(
    client: MetricsClient | None,
    start: Any,
    *,
    tz: str = "UTC",
    metrics: Sequence[str] | None = None,
    by: Breakdown | None = None,
    workers: int = DEFAULT_WORKERS,
) -> DltSource:
    """A dlt source of the metrics: one resource per table of the store, merged on its
    primary key, incremental on the bucket start.

    Every family is checked here, before any request; each resource plans its calls when
    the pipeline runs, against the client's clock then, and asks only for the buckets its
    dlt state does not hold settled: provisional ones (ended less than the client's settle
    period before the run), failed ones, new ones, those before the first loaded and the
    groups not yet loaded (and those the directory no longer lists). The same
    source can run again (an orchestrator may keep one): each run plans afresh.

    Parameters
    ----------
    client : MetricsClient or None
        Or another :class:`~metrics_toolkit.fetch.MetricsSource`; None for
        ``MetricsClient()`` (its key from ``DEVIN_API_KEY``).
    start : TimeLike
        The first day loaded (read in ``tz``). Weeks and months of active users start at
        the week or month that contains it; consumption at its billing day.
    tz : str, default "UTC"
        IANA zone of the days, weeks and months, fixed by the first run of a pipeline
        (another is then refused); consumption stays in billing days (08:00 UTC).
    metrics : sequence of str, optional
        Families to load, of :data:`~metrics_toolkit.store.METRIC_NAMES`; default: every
        one that can be kept by ``by``.
    by : {"org", "user", "service_user", "playbook"}, optional
        Load this breakdown, one table per family (``sessions_by_org``), keyed by
        ``bucket_start`` and the group's id (``org_id``).
    workers : int, default 8
        Calls in flight at once, 1 to 32.

    Returns
    -------
    dlt.extract.source.DltSource
        Named ``"devin_metrics"``; its resources are named as the store's tables.

    Raises
    ------
    ScopeError
        A breakdown from a client scoped to one organization (the directory exists only
        at enterprise scope).
    InvalidParameterError
        Before any request: an unknown family or one that cannot be kept by ``by`` or at
        the client's scope, an
        unknown zone, an unreadable ``start``, ``workers`` out of bounds. When the pipeline
        runs (wrapped by dlt's ``PipelineStepFailed``): ``tz`` is not the zone its first
        run fixed, or ``start`` is not before the client's now.
    ModuleNotFoundError
        Without dlt (the ``dlt`` extra).

    Examples
    --------
    >>> import dlt  # doctest: +SKIP
    >>> pipeline = dlt.pipeline("devin_metrics", destination="duckdb")  # doctest: +SKIP
    >>> source = devin_metrics_source(mt.MetricsClient(), "2026-01-01", by="org")  # doctest: +SKIP
    >>> info = pipeline.run(source)  # doctest: +SKIP
    """
    try:
        import dlt
        from dlt.common.configuration.specs import BaseConfiguration
    except ModuleNotFoundError as error:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "the dlt source needs dlt: pip install 'metrics-toolkit[dlt]'"
        ) from error
    workers = check_positive_int(workers, "workers")
    if workers > MAX_WORKERS:
        raise InvalidParameterError("workers", f"got {workers}; expected 1 to {MAX_WORKERS}")
    if client is None:
        from .client import MetricsClient

        client = MetricsClient()
    chosen = families_for(client, metrics, by)
    zone = check_timezone(tz)
    first = to_timestamp(start, "start", zone)
    key = [BUCKET_START] if by is None else [BUCKET_START, ID_FIELDS[by]]
    # every argument is given: no configuration to inject, nor a class of it made up in
    # this module (``spec``)
    resources = [
        dlt.resource(
            _rows,
            name=family.table(by),
            write_disposition=_MERGE,
            primary_key=key,
            spec=BaseConfiguration,
        )(client, family, first, zone=zone, by=by, workers=workers)
        for family in chosen
    ]

    def devin_metrics() -> list[Any]:
        return resources

    return dlt.source(devin_metrics, name=_SOURCE_NAME, spec=BaseConfiguration)()


def _rows(
    client: MetricsSource,
    family: Family,
    first: pd.Timestamp,
    *,
    zone: str,
    by: str | None,
    workers: int,
) -> Iterator[Any]:
    """One table's rows, batch by batch, and its state brought up to date at the end."""
    import dlt

    state = dlt.current.resource_state()
    zone_kept = state.setdefault(_TZ, zone)
    if zone_kept != zone:
        raise InvalidParameterError(
            "tz",
            f"this pipeline keeps {family.table(by)} in {zone_kept!r} days, not {zone!r}: its "
            f"zone is fixed by the first run; load {zone!r} days with another pipeline",
        )
    now = pd.Timestamp(client.now()).tz_convert("UTC")
    if first >= now:
        raise InvalidParameterError(
            "start",
            f"got {first.isoformat()}; the first day loaded must be before now "
            f"({now:%Y-%m-%d %H:%M} UTC)",
        )
    directory = client.directory() if by is not None else None
    plan = {
        "tz": zone,
        "by": by,
        "directory": directory,
        "now": now,
        "extra_groups": [] if by is None else list(state.get(_GROUPS, {})),
        "settle": getattr(client, "cache_policy", CachePolicy()).settle_period,
    }
    whole = plan_job(client, family, first, settled={}, **plan)
    job = plan_job(client, family, first, settled=_settled(whole, state), **plan)
    group = None if by is None else ID_FIELDS[by]
    failed: dict[str, list[int]] = {}
    answered: set[str] = set()
    tally = [0, 0]

    def advance(calls: int, failures: int) -> None:
        tally[0] += calls
        tally[1] += failures

    for rows, _ in stamped_batches(client, job, now=now, workers=workers, advance=advance):
        frame = _sort_out(rows.reset_index(), group, state, failed, answered)
        hints = dlt.mark.make_hints(columns=_column_types(frame))  # type: ignore[arg-type]
        yield dlt.mark.with_hints(_records(frame), hints)
    _remember(state, job, now, failed, answered)
    if tally[1]:
        warnings.warn(
            f"{job.table}: {tally[1]} of {tally[0]} calls failed; their rows are loaded "
            "marked failed (a row loaded earlier with numbers keeps them), and the next run "
            "asks for them again.",
            PartialFetchWarning,
            stacklevel=2,
        )


def _key(group: str | None) -> str:
    return _NO_GROUP if group is None else str(group)


def _ends(job: Job) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The end of each of the job's buckets, Unix seconds."""
    if job.plan is None:
        return job.starts + BILLING_DAY
    return np.array([int(b.end.timestamp()) for b in job.plan.buckets], dtype=np.int64)


def _settled(
    job: Job, state: dict[str, Any]
) -> dict[str | None, np.ndarray[Any, np.dtype[np.int64]]]:
    """The bucket starts each group holds settled by the state: from the first one it loaded,
    ended by the time it was settled then, and not failed."""
    ends = _ends(job)
    held: dict[str, list[int]] = state.get(_GROUPS, {})
    failed: dict[str, list[int]] = state.get(_FAILED, {})
    settled = {}
    for group in job.groups:
        entry = held.get(_key(group))
        if entry is None:
            continue
        first, before, _ = entry
        keep = (job.starts >= first) & (ends <= before)
        keep &= ~np.isin(job.starts, np.asarray(failed.get(_key(group), []), dtype=np.int64))
        settled[group] = job.starts[keep]
    return settled


def _sort_out(
    frame: pd.DataFrame,
    group: str | None,
    state: dict[str, Any],
    failed: dict[str, list[int]],
    answered: set[str],
) -> pd.DataFrame:
    """The rows of a batch to load: all but the failed ones whose bucket a run loaded earlier
    with numbers (kept, as the store keeps them). Notes the groups the batch answered and
    its failed buckets, asked again by the next run."""
    keys = [_NO_GROUP] * len(frame) if group is None else [str(g) for g in frame[group]]
    answered.update(keys)
    held: dict[str, list[int]] = state.get(_GROUPS, {})
    failed_before: dict[str, list[int]] = state.get(_FAILED, {})
    keep = np.ones(len(frame), dtype=bool)
    for position in np.flatnonzero(frame["failed"].to_numpy(dtype=bool)):
        key, start = keys[position], int(frame[BUCKET_START].iloc[position].timestamp())
        failed.setdefault(key, []).append(start)
        first, _, loaded_before = held.get(key, (0, 0, 0))
        keep[position] = not first <= start < loaded_before or start in failed_before.get(key, ())
    return frame if keep.all() else frame[keep]


def _remember(
    state: dict[str, Any],
    job: Job,
    now: pd.Timestamp,
    failed: dict[str, list[int]],
    answered: set[str],
) -> None:
    """What each group holds settled after a run: its buckets from the first one it loaded
    (kept from before when this run went on from a settled one), ended before the settle
    cutoff, and the time they were loaded before; the failed ones apart. A group whose
    consumption call failed without rows stays as it was."""
    if not len(job.starts):
        return
    first = int(job.starts[0])
    cutoff = int((now - job.settle).timestamp())
    held: dict[str, list[int]] = state.setdefault(_GROUPS, {})
    failed_before: dict[str, list[int]] = state.get(_FAILED, {})
    planned = {_key(group) for group in job.groups}
    failed_after = {k: v for k, v in failed_before.items() if k not in planned}
    for group, asked in zip(job.groups, job.wanted, strict=True):
        key = _key(group)
        if job.family.metric == CONSUMPTION and asked.any() and key not in answered:
            if key in failed_before:
                failed_after[key] = failed_before[key]
            continue
        kept_from, settled_before, _ = held.get(key, (first, first - 1, first))
        goes_on = kept_from <= first <= settled_before
        held[key] = [kept_from if goes_on else first, cutoff, int(now.timestamp())]
        still = [s for s in failed_before.get(key, []) if s < first] if goes_on else []
        if still or key in failed:
            failed_after[key] = still + failed.get(key, [])
    state[_FAILED] = failed_after


def _column_types(frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The dlt type of each column, so a column of nulls is created all the same (text for
    any other than booleans, integers, floats and times, as the store keeps it)."""
    hints = {}
    for name, dtype in frame.dtypes.items():
        if types.is_bool_dtype(dtype):
            kind = "bool"
        elif types.is_integer_dtype(dtype):
            kind = "bigint"
        elif types.is_float_dtype(dtype):
            kind = "double"
        elif types.is_datetime64_any_dtype(dtype):
            kind = "timestamp"
        else:
            kind = "text"
        hints[str(name)] = {"data_type": kind}
    return hints


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts of Python values, None for a missing one (NaN, NA)."""
    values = frame.astype(object)
    return values.where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]
