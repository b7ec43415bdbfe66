"""``metrics-toolkit fetch``: a metric of the family per bucket (and group), or the list an
endpoint answers, written to CSV, JSON, Parquet or Excel."""

from __future__ import annotations

import argparse
import difflib
import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._endpoints import METRICS, Metric
from .._vocabulary import BUCKET_END, BUCKET_START
from ..client import MetricsClient
from ..directory import looks_like_id
from ..errors import InvalidParameterError, ScopeError
from ..export import excel_ready
from ..fetch import fetch_series
from ..files import write_private
from ..params import to_timestamp
from ._common import connect, read_time, split

__all__ = ["FORMATS", "METRIC_NAMES", "STDOUT", "fetch", "metric_named"]

#: Output formats of ``fetch``, by file suffix.
FORMATS = (".csv", ".json", ".parquet", ".xlsx")
#: ``--out`` for CSV on standard output.
STDOUT = "-"
#: ``--metric`` names: the family's metrics as the command line spells them.
METRIC_NAMES = {name.replace("_", "-"): name for name in METRICS}
#: Columns of a list's rows that hold Unix seconds (written as ISO 8601, UTC).
SECONDS_COLUMNS = ("date", "start_time", "end_time", "after", "before")

#: The metrics whose answer is a list (days, weeks, categories, billing days or cycles): asked
#: once for the whole range, one row per entry; and how to get the entries.
LISTS: dict[str, Callable[[MetricsClient, Any, Any, dict[str, Any]], Sequence[Any]]] = {
    "dau": lambda client, a, b, kw: client.daily_active_users(a, b, **kw),
    "wau": lambda client, a, b, kw: client.weekly_active_users(a, b, **kw),
    "mau": lambda client, a, b, kw: client.monthly_active_users(a, b, **kw),
    "categories": lambda client, a, b, kw: client.sessions_by_category(a, b, **kw).categories,
    "consumption": lambda client, a, b, kw: client.consumption(a, b, **kw).consumption_by_date,
    "cycles": lambda client, a, b, kw: client.billing_cycles(),
}
#: The rows of a category are its subcategories (the category's own numbers beside them).
NESTED = {"categories": "subcategories"}


def metric_named(value: str) -> Metric:
    """The metric ``--metric`` names (``active-users`` or ``active_users``), with a
    did-you-mean for a typo.

    Raises
    ------
    InvalidParameterError
        For a name that is not one of :data:`METRIC_NAMES`.
    """
    name = value.strip().lower().replace("_", "-")
    if name in METRIC_NAMES:
        return METRICS[METRIC_NAMES[name]]
    close = difflib.get_close_matches(name, METRIC_NAMES, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidParameterError(
        "--metric", f"got {value!r}; {hint}expected one of {', '.join(METRIC_NAMES)}"
    )


def fetch(args: argparse.Namespace) -> int:
    """Fetch a metric of the family (sessions by default) per bucket (and group), or the list
    it answers for the whole range (dau, wau, mau, categories, consumption, cycles), and write
    it to a file (- for stdout)."""
    out = args.out
    if out != STDOUT and Path(out).suffix.lower() not in FORMATS:
        raise InvalidParameterError(
            "--out", f"{out!r}: expected a file ending in {', '.join(FORMATS)}, or - for stdout"
        )
    metric = metric_named(args.metric)
    start, end = read_time(args.start, "start"), read_time(args.end, "end")
    with connect(args) as client:
        _check_scope(client, metric, args)
        if metric.name in LISTS:
            frame = _list_frame(client, metric, args, start, end)
            summary = f"{metric.name}, {len(frame)} entries"
        else:
            frame = _series(client, metric, args, start, end)
            summary = frame.attrs["fetch_stats"].summary()
    _write(frame, out, series=metric.name not in LISTS)
    where = "stdout" if out == STDOUT else out
    print(
        f"wrote {len(frame)} rows to {where} ({summary})",
        file=sys.stderr if out == STDOUT else sys.stdout,
    )
    return 0


def _check_scope(client: MetricsClient, metric: Metric, args: argparse.Namespace) -> None:
    """Refuse, before any request, what exists only at enterprise scope."""
    if client.org_id is None:
        return
    scope = f"the client is scoped to organization {client.org_id} (--org-scope)"
    if metric.at(client.scope) is None:
        raise ScopeError("--metric", f"{args.metric} exists only at enterprise scope; {scope}")
    if args.by == "org" or args.org:
        what = "--by org" if args.by == "org" else "--org"
        raise ScopeError(
            what, f"a breakdown or filter by organization exists only at enterprise scope; {scope}"
        )


def _series(
    client: MetricsClient, metric: Metric, args: argparse.Namespace, start: Any, end: Any
) -> pd.DataFrame:
    """One call per bucket (and group), through the series machinery."""
    filters, ids = _resolve_names(client, args)
    options: dict[str, Any] = {
        "tz": args.tz,
        "by": args.by,
        "ids": ids,
        "workers": args.workers,
        "progress": False if args.quiet else None,
        "on_error": args.on_error,
        "refresh": args.refresh,
        **{name: value for name, value in filters.items() if value is not None},
    }
    freq = args.freq or "week"
    if metric.name == "sessions":
        return client.session_metrics_frame(start, end, freq, **options)
    assert metric.enterprise is not None
    return fetch_series(client, start, end, freq, endpoint=metric.enterprise, **options)


def _list_frame(
    client: MetricsClient, metric: Metric, args: argparse.Namespace, start: Any, end: Any
) -> pd.DataFrame:
    """One call for the whole range; a row per entry of the list it answers."""
    others = [f"--{name.replace('_', '-')}" for name in ("by", "user", "service_user", "playbook")]
    given = [flag for flag in others if getattr(args, flag[2:].replace("-", "_"))]
    if given or args.freq:
        raise InvalidParameterError(
            given[0] if given else "--freq",
            f"--metric {args.metric} answers one list for the whole range (UTC days, weeks or "
            "months, billing days or cycles); it takes --org alone",
        )
    orgs = split(args.org)
    kwargs: dict[str, Any] = {"allow_unknown_ids": True}  # names resolved, unknown ids kept
    if orgs and metric.name == "consumption":
        if len(orgs) > 1:
            raise InvalidParameterError("--org", "consumption takes one organization")
        kwargs["org_id"] = orgs[0]
    elif orgs and metric.name != "cycles":
        kwargs["org_ids"] = orgs
    window = [
        to_timestamp(value, name, args.tz) for value, name in ((start, "start"), (end, "end"))
    ]
    entries = LISTS[metric.name](client, window[0], window[1], kwargs)
    records = [entry.model_dump(mode="json") for entry in entries]
    nested = NESTED.get(metric.name)
    if nested and records:
        top = [key for key in records[0] if key != nested]
        frame = pd.json_normalize(
            records, record_path=nested, meta=top, record_prefix=f"{nested[:-1]}.", sep="."
        )
    else:
        frame = pd.json_normalize(records, sep=".")
    for column in SECONDS_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame


def _resolve_names(
    client: MetricsClient, args: argparse.Namespace
) -> tuple[dict[str, Any], list[str] | None]:
    """Turn names and emails into ids through the directory (read only when a value is not an
    id), and the keyword arguments of the frame's filters: an id the directory does not list is
    kept as typed (a deleted user), and sent so."""
    wanted = {
        "org": split(args.org),
        "user": split(args.user),
        "service_user": split(args.service_user),
        "playbook": [args.playbook] if args.playbook else None,
    }
    ids = split(args.ids)
    needs_directory = any(
        not looks_like_id(value) for values in [*wanted.values(), ids] for value in values or []
    )
    directory = client.directory() if needs_directory else None

    def resolve(kind: str, values: list[str] | None) -> list[str] | None:
        if values is None or directory is None:
            return values
        return directory.resolve_names(kind, values, allow_unknown_ids=True)

    filters: dict[str, Any] = {
        "allow_unknown_ids": True,
        "org_ids": resolve("org", wanted["org"]),
        "user_ids": resolve("user", wanted["user"]),
        "service_user_ids": resolve("service_user", wanted["service_user"]),
    }
    playbooks = resolve("playbook", wanted["playbook"])
    filters["playbook_id"] = playbooks[0] if playbooks else None
    if ids is not None and args.by is not None:
        ids = resolve(args.by, ids)
    return filters, ids


def _write(frame: pd.DataFrame, out: str, *, series: bool = True) -> None:
    """The frame as CSV (to a file or stdout), JSON, Parquet or Excel; a file is readable by
    the owner only (it is account data). A series' index becomes columns."""
    table = _iso_times(frame) if series else _iso_columns(frame)
    if out == STDOUT:
        sys.stdout.write(table.to_csv(index=False))
        sys.stdout.flush()
        return
    path = Path(out)
    suffix = path.suffix.lower()
    data: str | bytes
    if suffix == ".csv":
        data = table.to_csv(index=False)
    elif suffix == ".json":
        data = table.to_json(orient="records", indent=2)
    else:
        package = "pyarrow" if suffix == ".parquet" else "openpyxl"
        try:
            if suffix == ".parquet":
                data = table.to_parquet(index=False)
            else:
                buffer = io.BytesIO()
                excel_ready(frame.reset_index() if series else frame).to_excel(buffer, index=False)
                data = buffer.getvalue()
        except ImportError as exc:
            raise InvalidParameterError(
                "--out", f"writing {suffix} needs {package} (pip install {package}); use .csv"
            ) from exc
    write_private(path, data)


def _iso_times(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its index as a column and bucket bounds as ISO 8601 strings."""
    table = frame.reset_index()
    for column in (BUCKET_START, BUCKET_END):
        table[column] = table[column].map(lambda stamp: stamp.isoformat())
    return table


def _iso_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A list's rows with their times as ISO 8601 strings (UTC)."""
    table = frame.copy()
    for column in SECONDS_COLUMNS:
        if column in table.columns:
            table[column] = table[column].map(lambda stamp: stamp.isoformat())
    return table
