"""The commands over the report, the demo and the store: ``report``, ``demo``,
``serve-demo``, ``sync`` and ``cache-clear``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..directory import looks_like_id
from ..errors import InvalidParameterError
from ._common import connect, org_scope, organization_id, read_time, split

__all__ = ["cache_clear", "demo", "report", "serve", "sync"]


def report(args: argparse.Namespace) -> int:
    """Execute the weekly report notebook with these parameters and export it as HTML (from
    the API, or from a local history store with --store, as of its last sync)."""
    from ..report import render_weekly_report

    if args.store is not None and args.org_scope:
        raise InvalidParameterError(
            "--org-scope", "a store is read for the whole enterprise: report one with --org"
        )
    org = None if args.store is not None else org_scope(args)
    if org is not None and not looks_like_id(org):
        settings = {"cache": not args.no_cache, "cache_dir": args.cache_dir}
        org = organization_id(args, org, settings)
    path = render_weekly_report(
        week=args.week,
        tz=args.tz,
        orgs=split(args.org),
        playbooks=split(args.playbook),
        weeks=args.weeks,
        demo=args.demo,
        out=args.out,
        base_url=args.base_url,
        cache=not args.no_cache,
        cache_dir=args.cache_dir,
        acu_price=args.acu_price,
        org_id=org,
        store=args.store,
    )
    print(f"wrote the weekly report to {path}")
    return 0


def demo(args: argparse.Namespace) -> int:
    """The main job on the demo enterprise: the weekly report of the last full week."""
    from ..report import render_weekly_report

    path = render_weekly_report(demo=True, out=args.out)
    print(f"wrote the weekly report to {path}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """Serve the synthetic demo API over HTTP on 127.0.0.1 until Ctrl-C."""
    from .._base_client import demo_now
    from ..demo import DEFAULT_SEED, FaultPlan, serve_forever

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


def cache_clear(args: argparse.Namespace) -> int:
    """Delete the answer cache's files."""
    from ..cache import clear_cache, default_cache_dir

    directory = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    removed = clear_cache(directory)
    print(f"removed {removed} cache file(s) from {directory}")
    return 0


def sync(args: argparse.Namespace) -> int:
    """Bring a local DuckDB history store up to date: every day from --start to today, asking
    only for the days (and groups) not yet settled, written batch by batch; a sync that was
    stopped goes on where it stopped (needs the ``store`` extra: duckdb)."""
    from ..store import sync as sync_store

    client = connect(args, cache=False)  # the store keeps the answers, not also the cache
    summary = sync_store(
        client,
        args.db,
        read_time(args.start, "--start"),
        tz=args.tz,
        metrics=split(args.metrics) or None,
        by=args.by,
        progress=False if args.quiet else None,
    )
    if not args.quiet:
        print(f"synced {args.db}: {summary.line()}")
    return 0
