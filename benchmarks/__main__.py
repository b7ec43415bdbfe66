"""``python -m benchmarks``: run the scenarios, print the table, write the JSON.

Options: ``--quick`` (tiny sizes, one run, no JSON unless ``--output``), ``--runs N``,
``--baseline-runs N`` (runs of scenario 1's slow plain loop), ``--scenarios 1,3`` and
``--output PATH``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from metrics_toolkit.demo import DemoAPI, generate_enterprise

from .harness import ScenarioResult, format_report, machine_info, source_info, write_json
from .scenarios import END, FULL, QUICK, RUNNERS, SEED

#: Where the full run writes its JSON.
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
SCENARIOS = tuple(RUNNERS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one run: checks, not numbers"
    )
    parser.add_argument("--runs", type=int, help="runs per measurement (default 3)")
    parser.add_argument(
        "--baseline-runs", type=int, help="runs of scenario 1's sequential plain loop (default 1)"
    )
    parser.add_argument(
        "--scenarios", default=",".join(map(str, SCENARIOS)), help="e.g. 1,3 (default: all)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"JSON file (default {DEFAULT_OUTPUT.name} next to this module; none with --quick)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; returns 0, or 1 when a correctness check failed."""
    args = _parser().parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = dataclasses.replace(sizes, runs=args.runs)
    if args.baseline_runs is not None:
        sizes = dataclasses.replace(sizes, baseline_runs=args.baseline_runs)
    wanted = {int(part) for part in args.scenarios.split(",") if part.strip()}
    if not wanted <= set(SCENARIOS):
        expected = ",".join(map(str, SCENARIOS))
        print(
            f"unknown scenario in {args.scenarios!r}; expected some of {expected}", file=sys.stderr
        )
        return 2
    output = args.output if args.output is not None else None if args.quick else DEFAULT_OUTPUT

    started = time.perf_counter()
    machine = machine_info()
    print(
        f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
        f"{machine['implementation']} {machine['python']}"
        + (" -- quick sizes, numbers not meaningful" if args.quick else ""),
        flush=True,
    )
    source = source_info()
    dirty = f", {len(source['changed'])} library files changed" if source["changed"] else ""
    print(f"source: commit {source['commit']}{dirty}", flush=True)
    api = DemoAPI(generate_enterprise(seed=SEED, end=END))
    results: list[ScenarioResult] = []
    for number in sorted(wanted):
        result = RUNNERS[number](sizes, api)
        results.append(result)
        print(f"scenario {number} ({result.title}): {result.seconds:.1f} s", flush=True)
    seconds = time.perf_counter() - started
    print()
    print(format_report(results))
    print(f"\ntotal: {seconds:.1f} s")
    if output is not None:
        settings = {**dataclasses.asdict(sizes), "quick": args.quick, "end": END.isoformat()}
        write_json(output, results, settings=settings, seconds=seconds, source=source)
        print(f"wrote {output}")
    failed = any(not ok for result in results for ok in result.checks.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
