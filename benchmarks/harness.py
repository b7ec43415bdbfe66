"""What every scenario shares: measurements, targets, the machine, the table and the JSON.

A :class:`Measurement` keeps every run's value and reports the median; a :class:`Target` compares
a median (or a ratio of medians measured side by side) with a bound and says PASS or MISS.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "Measurement",
    "ScenarioResult",
    "Target",
    "format_report",
    "machine_info",
    "source_info",
    "timed",
    "write_json",
]

#: Packages whose versions are recorded with the results.
RECORDED_PACKAGES = ("requests", "urllib3", "pandas", "numpy", "pydantic")


@dataclass
class Measurement:
    """One quantity, measured once per run.

    Parameters
    ----------
    key : str
        A short stable name, used in the JSON (``s1.cold_seconds``).
    label : str
        What the table says.
    unit : str
        ``s``, ``ms``, ``µs``, ``calls/s``, ``requests``, ``MiB``, ``x`` (a ratio), ...
    values : list of float
        One value per run.
    """

    key: str
    label: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median over the runs (NaN when there is none)."""
        return statistics.median(self.values) if self.values else float("nan")


@dataclass(frozen=True)
class Target:
    """A bound on a measured value: PASS when ``value`` is on the right side of ``bound``."""

    key: str
    label: str
    value: float
    bound: float
    at_least: bool
    """True: the value must be >= bound; False: <= bound."""
    unit: str = "x"

    @property
    def passed(self) -> bool:
        """Whether the value meets the bound."""
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    @property
    def verdict(self) -> str:
        """``PASS`` or ``MISS``."""
        return "PASS" if self.passed else "MISS"


@dataclass
class ScenarioResult:
    """What a scenario measured, the targets it judged, and its correctness checks."""

    number: int
    title: str
    setup: str
    """The sizes and settings, in one line."""
    measurements: list[Measurement] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    """Correctness checks (same frame as the plain loop, no request when warm, ...)."""
    notes: list[str] = field(default_factory=list)
    """Anything the reader must know to trust the numbers (a skipped part and why)."""
    seconds: float = 0.0
    """Wall time of the whole scenario, setup included."""

    def add(self, key: str, label: str, unit: str, values: Iterable[float]) -> Measurement:
        """Record a measurement and return it."""
        measurement = Measurement(f"s{self.number}.{key}", label, unit, list(values))
        self.measurements.append(measurement)
        return measurement

    def judge(
        self, key: str, label: str, value: float, bound: float, *, at_least: bool, unit: str = "x"
    ) -> Target:
        """Record a target and return it."""
        target = Target(f"s{self.number}.{key}", label, value, bound, at_least, unit)
        self.targets.append(target)
        return target


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call of ``function``, and its result."""
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def machine_info() -> dict[str, Any]:
    """The machine and software the numbers come from."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    versions = {}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "nproc": usable,
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
    }


def source_info() -> dict[str, Any]:
    """The commit measured, and the library files changed since (read-only git calls)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "metrics_toolkit").splitlines()
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown", "changed": changed}


def _number(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if unit in ("requests", "calls"):
        return f"{value:.0f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _spread(measurement: Measurement) -> str:
    values = measurement.values
    if len(values) < 2:
        return ""
    unit = measurement.unit
    return f"{_number(min(values), unit)} .. {_number(max(values), unit)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table with columns padded to line up in a terminal."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [
        line(row) for row in rows
    ]


def format_report(results: list[ScenarioResult]) -> str:
    """The measurements table, then the targets table, then any failed check."""
    rows = []
    for result in results:
        for measurement in result.measurements:
            rows.append(
                [
                    str(result.number),
                    measurement.label,
                    _number(measurement.median, measurement.unit),
                    measurement.unit,
                    str(len(measurement.values)),
                    _spread(measurement),
                ]
            )
    lines = _table(["#", "measurement", "median", "unit", "samples", "min .. max"], rows)
    target_rows = []
    for result in results:
        for target in result.targets:
            sign = ">=" if target.at_least else "<="
            target_rows.append(
                [
                    str(result.number),
                    target.label,
                    f"{_number(target.value, target.unit)} {target.unit}".strip(),
                    f"{sign} {_number(target.bound, target.unit)} {target.unit}".strip(),
                    target.verdict,
                ]
            )
    lines += ["", *_table(["#", "target", "measured", "bound", "result"], target_rows)]
    notes = [f"note ({r.number}): {note}" for r in results for note in r.notes]
    if notes:
        lines += ["", *notes]
    failed = [f"{r.number}: {name}" for r in results for name, ok in r.checks.items() if not ok]
    checks = sum(len(r.checks) for r in results)
    lines += ["", f"correctness checks: {checks - len(failed)} of {checks} passed"]
    lines += [f"  FAILED {name}" for name in failed]
    return "\n".join(lines)


def write_json(
    path: Path,
    results: list[ScenarioResult],
    *,
    settings: dict[str, Any],
    seconds: float,
    source: dict[str, Any] | None = None,
) -> None:
    """Write the machine, the source, the settings, every measurement (all runs) and every target.

    ``source`` is :func:`source_info` taken when the run started (default: now).
    """
    payload = {
        "machine": machine_info(),
        "source": source if source is not None else source_info(),
        "settings": settings,
        "seconds": round(seconds, 3),
        "scenarios": [
            {
                "number": r.number,
                "title": r.title,
                "setup": r.setup,
                "seconds": round(r.seconds, 3),
                "measurements": [{**asdict(m), "median": m.median} for m in r.measurements],
                "targets": [{**asdict(t), "passed": t.passed} for t in r.targets],
                "checks": r.checks,
                "notes": r.notes,
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(_finite(payload), indent=2, ensure_ascii=False) + "\n")


def _finite(value: Any) -> Any:
    """The payload with NaN (a measurement that was not taken) as null, which JSON allows."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
