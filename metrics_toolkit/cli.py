"""The command line: thin, calls the library.

    metrics-toolkit fetch --start 2026-09-01 --end 2026-11-01 --freq week --demo --out w.csv
    metrics-toolkit fetch --start 2026-09-01 --end 2026-11-01 --demo --out - | head
    metrics-toolkit report --week 2026-W47 --demo --out report.html
    metrics-toolkit serve-demo --port 8765 --latency-ms 50
    metrics-toolkit cache-clear

A bad argument prints one line naming it and exits 2; an API error prints one line and
exits 1. Neither prints a traceback, and neither ever prints the token. With ``--out -`` the CSV
is all that goes to stdout; progress, warnings and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import metrics_toolkit

from ._constants import DEFAULT_PORT, DEFAULT_WEEKS, DEFAULT_WORKERS, ENV_API_KEY
from ._vocabulary import BUCKET_END, BUCKET_START, KINDS
from .client import MetricsClient
from .directory import looks_like_id
from .errors import FetchError, InsecureTransportError, InvalidParameterError, MetricsError
from .export import excel_ready
from .files import write_private

__all__ = ["main"]

#: Output formats of ``fetch``, by file suffix.
FORMATS = (".csv", ".json", ".parquet", ".xlsx")
#: ``--out`` for CSV on standard output.
STDOUT = "-"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 API error, 2 bad input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            result: int = args.run(args)
    except (InvalidParameterError, InsecureTransportError) as error:
        print(f"metrics-toolkit: error: {error}", file=sys.stderr)
        return 2
    except MetricsError as error:
        print(f"metrics-toolkit: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("metrics-toolkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of --out - stopped early (| head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result


def _one_line(error: MetricsError) -> str:
    """An API error in one line: a failed series by its count and first failure."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, FetchError) and error.failures:
        others = len(error.failures) - 1
        text = (
            f"{len(error.failures)} call(s) failed; the first: {error.failures[0]}"
            + (f" (and {others} more)" if others else "")
            + "; --on-error mark writes the rest, failed rows marked"
        )
    return " ".join(text.split())


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Warnings as one line each, without the source line Python would quote."""
    print(f"metrics-toolkit: warning: {message}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="metrics-toolkit",
        description="Devin session metrics: fetch series, render the weekly report, "
        "serve the demo API.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metrics_toolkit.__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser(
        "fetch",
        help="fetch a series into CSV, JSON, Parquet or Excel",
        description=_fetch.__doc__,
    )
    fetch.add_argument(
        "--start", required=True, help="first day/time, included (ISO 8601: 2026-09-01)"
    )
    fetch.add_argument(
        "--end", required=True, help="end, not included (ISO 8601: 2026-11-01 stops at 31 Oct)"
    )
    fetch.add_argument(
        "--freq", default="week", help="day, week, month, quarter, year, 6h, ... (default: week)"
    )
    fetch.add_argument("--tz", default="UTC", help="IANA time zone of the calendar (UTC)")
    fetch.add_argument("--by", choices=list(KINDS), help="break down by")
    fetch.add_argument(
        "--ids", action="append", help="ids or names to break down by (repeat or comma-join)"
    )
    _add_filters(fetch)
    fetch.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"requests in flight ({DEFAULT_WORKERS})",
    )
    fetch.add_argument(
        "--on-error",
        choices=["raise", "mark"],
        default="raise",
        help="on failed buckets: fail (raise) or write them marked (mark)",
    )
    fetch.add_argument("--refresh", action="store_true", help="bypass the cache")
    fetch.add_argument(
        "--out",
        required=True,
        help="output file: .csv, .json, .parquet or .xlsx (local times and a time_zone "
        "column); - for CSV on stdout",
    )
    _add_connection(fetch)
    fetch.set_defaults(run=_fetch)

    report = commands.add_parser(
        "report", help="render the weekly report notebook to HTML", description=_report.__doc__
    )
    report.add_argument("--week", help="ISO week such as 2026-W47 (default: the last full week)")
    report.add_argument("--tz", default="UTC", help="IANA time zone of the calendar (UTC)")
    report.add_argument("--org", action="append", help="organizations to focus on (ids or names)")
    report.add_argument("--playbook", action="append", help="playbooks to focus on (ids or titles)")
    report.add_argument(
        "--weeks", type=int, default=DEFAULT_WEEKS, help=f"weeks of history ({DEFAULT_WEEKS})"
    )
    report.add_argument("--out", help="output .html file (default: reports/weekly-WEEK.html)")
    _add_connection(report)
    report.set_defaults(run=_report)

    demo = commands.add_parser(
        "demo", help="the main job on the demo enterprise: render the weekly report"
    )
    demo.add_argument("--out", help="output .html file (default: reports/weekly-WEEK.html)")
    demo.set_defaults(run=_demo)

    serve = commands.add_parser(
        "serve-demo", help="serve the demo API over HTTP on 127.0.0.1", description=_serve.__doc__
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 ({DEFAULT_PORT})"
    )
    serve.add_argument("--latency-ms", type=float, default=0.0, help="added per request (0)")
    serve.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of requests that fail transiently"
    )
    serve.add_argument("--seed", type=int, default=None, help="seed of enterprise and faults")
    serve.add_argument("--now", help="the demo's 'now' (ISO 8601; default: the last hour)")
    serve.set_defaults(run=_serve)

    clear = commands.add_parser("cache-clear", help="delete the answer cache")
    clear.add_argument("--cache-dir", help="the cache directory (default: the user's)")
    clear.set_defaults(run=_cache_clear)
    return parser


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", action="append", help="keep these organizations (ids/names)")
    parser.add_argument("--user", action="append", help="keep these users (ids/emails)")
    parser.add_argument(
        "--service-user", action="append", help="keep these service users (ids/names)"
    )
    parser.add_argument("--playbook", help="keep this playbook (id or title)")


def _add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo", action="store_true", help="use the synthetic demo enterprise (no key)"
    )
    parser.add_argument("--base-url", help="API base URL (DEVIN_API_BASE_URL)")
    parser.add_argument("--no-cache", action="store_true", help="do not use the answer cache")
    parser.add_argument("--cache-dir", help="where the answer cache lives")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _split(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-joined values as one list; None when absent."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _time(value: str, name: str) -> str | int:
    """A point in time from the command line: digits are Unix epoch seconds, else ISO 8601.

    Eight digits that make a date (``20260901``) are refused: as seconds they fall in 1970.
    """
    if not value.isdigit():
        return value
    if len(value) == 8:
        try:
            day = dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
        else:
            raise InvalidParameterError(
                name, f"{value!r} reads as Unix seconds in 1970; for the date, write {day}"
            )
    return int(value)


def _client(args: argparse.Namespace) -> MetricsClient:
    """The demo with ``--demo``; else the API, refused before any request without a key."""
    settings: dict[str, Any] = {"cache": not args.no_cache}
    if args.cache_dir:
        settings["cache_dir"] = args.cache_dir
    if args.demo:
        return MetricsClient.demo(**settings)
    if not os.environ.get(ENV_API_KEY):
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...), or pass --demo for the "
            "synthetic demo enterprise",
        )
    return MetricsClient(base_url=args.base_url, **settings)


def _fetch(args: argparse.Namespace) -> int:
    """Fetch session metrics per bucket (and group) and write them to a file (- for stdout)."""
    out = args.out
    if out != STDOUT and Path(out).suffix.lower() not in FORMATS:
        raise InvalidParameterError(
            "--out", f"{out!r}: expected a file ending in {', '.join(FORMATS)}, or - for stdout"
        )
    start, end = _time(args.start, "start"), _time(args.end, "end")
    with _client(args) as client:
        filters, ids = _resolve_names(client, args)
        frame = client.session_metrics_frame(
            start,
            end,
            args.freq,
            tz=args.tz,
            by=args.by,
            ids=ids,
            workers=args.workers,
            progress=False if args.quiet else None,
            on_error=args.on_error,
            refresh=args.refresh,
            **filters,
        )
    _write(frame, out)
    stats = frame.attrs["fetch_stats"]
    where = "stdout" if out == STDOUT else out
    summary = f"wrote {len(frame)} rows to {where} ({stats.summary()})"
    print(summary, file=sys.stderr if out == STDOUT else sys.stdout)
    return 0


def _resolve_names(
    client: MetricsClient, args: argparse.Namespace
) -> tuple[dict[str, Any], list[str] | None]:
    """Turn names and emails into ids through the directory (read only when a value is not an
    id), and the keyword arguments of the frame's filters: an id the directory does not list is
    kept as typed (a deleted user), and sent so."""
    wanted = {
        "org": _split(args.org),
        "user": _split(args.user),
        "service_user": _split(args.service_user),
        "playbook": [args.playbook] if args.playbook else None,
    }
    ids = _split(args.ids)
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


def _write(frame: Any, out: str) -> None:
    """The frame as CSV (to a file or stdout), JSON, Parquet or Excel; a file is readable by
    the owner only (it is account data)."""
    if out == STDOUT:
        sys.stdout.write(_iso_times(frame).to_csv(index=False))
        sys.stdout.flush()
        return
    path = Path(out)
    suffix = path.suffix.lower()
    data: str | bytes
    if suffix == ".csv":
        data = _iso_times(frame).to_csv(index=False)
    elif suffix == ".json":
        data = _iso_times(frame).to_json(orient="records", indent=2)
    else:
        package = "pyarrow" if suffix == ".parquet" else "openpyxl"
        try:
            if suffix == ".parquet":
                data = _iso_times(frame).to_parquet(index=False)
            else:
                buffer = io.BytesIO()
                excel_ready(frame.reset_index()).to_excel(buffer, index=False)
                data = buffer.getvalue()
        except ImportError as exc:
            raise InvalidParameterError(
                "--out", f"writing {suffix} needs {package} (pip install {package}); use .csv"
            ) from exc
    write_private(path, data)


def _iso_times(frame: Any) -> Any:
    """The frame with its index as a column and bucket bounds as ISO 8601 strings."""
    table = frame.reset_index()
    for column in (BUCKET_START, BUCKET_END):
        table[column] = table[column].map(lambda stamp: stamp.isoformat())
    return table


def _report(args: argparse.Namespace) -> int:
    """Execute the weekly report notebook with these parameters and export it as HTML."""
    from .report import render_weekly_report

    path = render_weekly_report(
        week=args.week,
        tz=args.tz,
        orgs=_split(args.org),
        playbooks=_split(args.playbook),
        weeks=args.weeks,
        demo=args.demo,
        out=args.out,
        base_url=args.base_url,
        cache=not args.no_cache,
        cache_dir=args.cache_dir,
    )
    print(f"wrote the weekly report to {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The main job on the demo enterprise: the weekly report of the last full week."""
    from .report import render_weekly_report

    path = render_weekly_report(demo=True, out=args.out)
    print(f"wrote the weekly report to {path}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """Serve the synthetic demo API over HTTP on 127.0.0.1 until Ctrl-C."""
    from ._base_client import demo_now
    from .demo import DEFAULT_SEED, FaultPlan, serve_forever

    if not 0.0 <= args.fault_rate <= 1.0:
        raise InvalidParameterError("--fault-rate", f"got {args.fault_rate}; expected 0 to 1")
    if args.latency_ms < 0:
        raise InvalidParameterError("--latency-ms", f"got {args.latency_ms}; expected >= 0")
    seed = DEFAULT_SEED if args.seed is None else args.seed
    share = args.fault_rate / 4
    faults = FaultPlan(
        seed=seed,
        rate_limit=share,
        server_error=share,
        drop_connection=share,
        truncated_json=share,
    )
    now = demo_now(args.now, "--now") if args.now else None
    serve_forever(
        port=args.port,
        latency=args.latency_ms / 1000.0,
        faults=faults if args.fault_rate else None,
        seed=seed,
        now=now,
    )
    return 0


def _cache_clear(args: argparse.Namespace) -> int:
    from .cache import clear_cache, default_cache_dir

    directory = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    removed = clear_cache(directory)
    print(f"removed {removed} cache file(s) from {directory}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
