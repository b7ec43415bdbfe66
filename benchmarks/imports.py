"""Scenario 7, import time: ``import metrics_toolkit`` minus ``import pandas``.

Each import is timed inside a fresh Python (``time.perf_counter`` around the ``import``
statement alone, so the interpreter's start is not counted), the two alternating so that a
busy moment of the machine falls on both; the difference of the medians is what the toolkit
adds to a notebook that already uses pandas. With ``Sizes.bytecode_cache`` the children keep
their bytecode (:func:`benchmarks.probe.child_env`) and one discarded import of each module
comes first, so that no timed import compiles source: what a user's second kernel start sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .common import Sizes
from .harness import ScenarioResult
from .probe import child_env
from .server_process import REPOSITORY

__all__ = ["IMPORTED", "Imported", "import_scenario", "import_seconds"]

#: The modules timed, in the order of each round.
IMPORTED = ("pandas", "metrics_toolkit")
PROGRAM = (
    "import json, sys, time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "seconds = time.perf_counter() - started\n"
    "print(json.dumps({{'seconds': seconds, 'pandas': 'pandas' in sys.modules,\n"
    "                  'file': {module}.__file__}}))\n"
)


@dataclass(frozen=True)
class Imported:
    """One timed import in a new Python."""

    seconds: float
    """Wall seconds of the ``import`` statement alone."""
    brings_pandas: bool
    """Whether pandas was imported with it."""
    file: Path
    """Where the module was imported from."""


def import_seconds(module: str, *, bytecode_cache: bool = False) -> Imported:
    """Time ``import module`` in a new Python.

    ``bytecode_cache``: see :func:`benchmarks.probe.child_env`.
    """
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(module=module)],
        cwd=REPOSITORY,
        env=child_env(bytecode_cache),
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    return Imported(float(report["seconds"]), bool(report["pandas"]), Path(report["file"]))


def import_scenario(sizes: Sizes) -> ScenarioResult:
    """Scenario 7: ``sizes.import_runs`` fresh interpreters per module.

    Returns
    -------
    ScenarioResult
        Seconds of each import (median of the runs) and the target on their difference.
    """
    started = time.perf_counter()
    result = ScenarioResult(
        7,
        "import time",
        f"{sizes.import_runs} fresh interpreters per module, alternating; "
        "time.perf_counter around the import statement alone; bytecode "
        + (
            "cached outside the tree, after one discarded import"
            if sizes.bytecode_cache
            else "as the environment has it"
        ),
    )
    times: dict[str, list[float]] = {module: [] for module in IMPORTED}
    toolkit_runs: list[Imported] = []
    if sizes.bytecode_cache:
        for module in IMPORTED:
            import_seconds(module, bytecode_cache=True)
    for _ in range(sizes.import_runs):
        for module in IMPORTED:
            imported = import_seconds(module, bytecode_cache=sizes.bytecode_cache)
            times[module].append(imported.seconds)
            if module == "metrics_toolkit":
                toolkit_runs.append(imported)
    result.checks["metrics_toolkit imported from this tree"] = all(
        imported.file.is_relative_to(REPOSITORY / "metrics_toolkit") for imported in toolkit_runs
    )
    brings_pandas = all(imported.brings_pandas for imported in toolkit_runs)
    pandas = result.add("pandas_seconds", "import pandas", "s", times["pandas"])
    toolkit = result.add(
        "toolkit_seconds",
        "import metrics_toolkit" + (" (pandas included)" if brings_pandas else ""),
        "s",
        times["metrics_toolkit"],
    )
    if not brings_pandas:
        result.notes.append(
            "import metrics_toolkit no longer imports pandas: the target is its import time alone"
        )
    result.judge(
        "toolkit_minus_pandas",
        "import metrics_toolkit - import pandas",
        toolkit.median - (pandas.median if brings_pandas else 0.0),
        0.1,
        at_least=False,
        unit="s",
    )
    result.seconds = time.perf_counter() - started
    return result
