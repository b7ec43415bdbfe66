"""The command line: thin, calls the library.

    metrics-toolkit fetch --start 2026-09-01 --end 2026-11-01 --freq week --demo --out w.csv
    metrics-toolkit fetch --start 2026-09-01 --end 2026-11-01 --demo --out - | head
    metrics-toolkit report --week 2026-W47 --demo --out report.html
    metrics-toolkit serve-demo --port 8765 --latency-ms 50
    metrics-toolkit fetch --metric prs --start 2026-09-01 --end 2026-11-01 --demo --out p.csv
    metrics-toolkit fetch --metric sessions --org-scope ORG ... (an organization's key)
    metrics-toolkit doctor --demo
    metrics-toolkit sync --db history.duckdb --start 2026-09-01 --demo
    metrics-toolkit cache-clear

A bad argument prints one line naming it and exits 2; an API error prints one line and
exits 1. Neither prints a traceback, and neither ever prints the token. With ``--out -`` the CSV
is all that goes to stdout; progress, warnings and the summary go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

import metrics_toolkit

from .._constants import DEFAULT_PORT, DEFAULT_WEEKS, DEFAULT_WORKERS, ENV_ORG_ID
from .._vocabulary import KINDS
from ..errors import FetchError, InsecureTransportError, InvalidParameterError, MetricsError
from . import _commands, _doctor, _fetch
from ._common import add_connection, add_filters

__all__ = ["main"]


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
        description="Devin metrics: fetch series, check a key, render the weekly report, "
        "serve the demo API.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {metrics_toolkit.__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser(
        "fetch",
        help="fetch a series into CSV, JSON, Parquet or Excel",
        description=_fetch.fetch.__doc__,
    )
    fetch.add_argument(
        "--start", required=True, help="first day/time, included (ISO 8601: 2026-09-01)"
    )
    fetch.add_argument(
        "--end", required=True, help="end, not included (ISO 8601: 2026-11-01 stops at 31 Oct)"
    )
    fetch.add_argument(
        "--metric",
        default="sessions",
        help=f"what to fetch: {', '.join(_fetch.METRIC_NAMES)} (default: sessions); dau, wau, mau, "
        "categories, consumption and cycles come as one list for the whole range",
    )
    fetch.add_argument("--freq", help="day, week, month, quarter, year, 6h, ... (default: week)")
    fetch.add_argument("--tz", default="UTC", help="IANA time zone of the calendar (UTC)")
    fetch.add_argument("--by", choices=list(KINDS), help="break down by")
    fetch.add_argument(
        "--ids", action="append", help="ids or names to break down by (repeat or comma-join)"
    )
    add_filters(fetch)
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
    add_connection(fetch, scope=True)
    fetch.set_defaults(run=_fetch.fetch)

    check = commands.add_parser(
        "doctor",
        help="check the key, its scope, each metric, the list format, the clock and the cache",
        description=_doctor.doctor.__doc__,
    )
    add_connection(check, scope=True)
    check.set_defaults(run=_doctor.doctor)

    report = commands.add_parser(
        "report",
        help="render the weekly report notebook to HTML",
        description=_commands.report.__doc__,
    )
    report.add_argument("--week", help="ISO week such as 2026-W47 (default: the last full week)")
    report.add_argument("--tz", default="UTC", help="IANA time zone of the calendar (UTC)")
    report.add_argument("--org", action="append", help="organizations to focus on (ids or names)")
    report.add_argument("--playbook", action="append", help="playbooks to focus on (ids or titles)")
    report.add_argument(
        "--weeks", type=int, default=DEFAULT_WEEKS, help=f"weeks of history ({DEFAULT_WEEKS})"
    )
    report.add_argument("--out", help="output .html file (default: reports/weekly-WEEK.html)")
    report.add_argument(
        "--acu-price", type=float, help="price per ACU, for amounts of money (default: ACUs only)"
    )
    report.add_argument(
        "--org-scope",
        metavar="ORG",
        help=f"the report of one organization (id or name), for an organization's key "
        f"({ENV_ORG_ID}); it leaves out what exists only for the whole enterprise",
    )
    report.add_argument(
        "--store",
        metavar="PATH",
        help="read a local history store (metrics-toolkit sync) instead of the API: no request",
    )
    add_connection(report)
    report.set_defaults(run=_commands.report)

    demo = commands.add_parser(
        "demo", help="the main job on the demo enterprise: render the weekly report"
    )
    demo.add_argument("--out", help="output .html file (default: reports/weekly-WEEK.html)")
    demo.set_defaults(run=_commands.demo)

    serve = commands.add_parser(
        "serve-demo",
        help="serve the demo API over HTTP on 127.0.0.1",
        description=_commands.serve.__doc__,
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
    serve.set_defaults(run=_commands.serve)

    keep = commands.add_parser(
        "sync", help="keep a local DuckDB history store", description=_commands.sync.__doc__
    )
    keep.add_argument("--db", required=True, help="the DuckDB file (created if missing)")
    keep.add_argument("--start", required=True, help="first day kept (ISO 8601: 2026-09-01)")
    keep.add_argument(
        "--tz", help="IANA zone of the days, fixed at creation (default: the store's, else UTC)"
    )
    keep.add_argument("--by", choices=list(KINDS), help="keep this breakdown")
    keep.add_argument(
        "--metrics", action="append", help="families to keep, comma-separated (default: all)"
    )
    add_connection(keep)
    keep.set_defaults(run=_commands.sync)

    clear = commands.add_parser("cache-clear", help="delete the answer cache")
    clear.add_argument("--cache-dir", help="the cache directory (default: the user's)")
    clear.set_defaults(run=_commands.cache_clear)
    return parser
