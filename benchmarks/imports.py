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

from .common import Sizes
from .harness import ScenarioResult
from .probe import child_env
from .server_process import REPOSITORY

__all__ = ["IMPORTED", "import_scenario", "import_seconds"]

#: The modules timed, in the order of each round.
IMPORTED = ("pandas", "metrics_toolkit")
PROGRAM = (
    "import json, sys, time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "seconds = time.perf_counter() - started\n"
    "print(json.dumps({{'seconds': seconds, 'pandas': 'pandas' in sys.modules}}))\n"
)


def import_seconds(module: str, *, bytecode_cache: bool = False) -> tuple[float, bool]:
    """Seconds to ``import module`` in a new Python, and whether pandas came with it.

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
    return float(report["seconds"]), bool(report["pandas"])


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
    brings_pandas = True
    if sizes.bytecode_cache:
        for module in IMPORTED:
            import_seconds(module, bytecode_cache=True)
    for _ in range(sizes.import_runs):
        for module in IMPORTED:
            seconds, pandas_loaded = import_seconds(module, bytecode_cache=sizes.bytecode_cache)
            times[module].append(seconds)
            brings_pandas = brings_pandas and pandas_loaded
    result.checks["import metrics_toolkit loads pandas (so the difference is the toolkit's)"] = (
        brings_pandas
    )
    pandas = result.add("pandas_seconds", "import pandas", "s", times["pandas"])
    toolkit = result.add(
        "toolkit_seconds", "import metrics_toolkit (pandas included)", "s", times["metrics_toolkit"]
    )
    result.judge(
        "toolkit_minus_pandas",
        "import metrics_toolkit - import pandas",
        toolkit.median - pandas.median,
        0.1,
        at_least=False,
        unit="s",
    )
    result.seconds = time.perf_counter() - started
    return result
