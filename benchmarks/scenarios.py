"""The nine benchmark scenarios, each a function from sizes to a :class:`ScenarioResult`.

1. **Latency** (:mod:`.latency`): a year of daily buckets from a server that waits 50 ms per
   call: a sequential loop, a thread pool of sessions, the toolkit cold, warm, reopened, and
   warm in a new process.
2. **Breakdown** (:mod:`.breakdown`): 200 users x 13 weekly buckets (2,600 calls) at 0 ms: the
   client's machinery, calls per second and CPU per call, cache off and on.
3. **Frames** (:mod:`.in_process`): 10,000 answers into the wide frame and the long frame.
4. **Simulator** (:mod:`.in_process`): one aggregation over the whole demo log, and its memory.
5. **Breakdown by org** (:mod:`.orgs`): 20 orgs x 52 weekly buckets at 20 ms per call.
6. **Memory** (:mod:`.memory`): the memory kept after 36,500 calls.
7. **Import time** (:mod:`.imports`): ``import metrics_toolkit`` minus ``import pandas``.
8. **The common table** (:mod:`.overview`): ``overview`` by org, 5 orgs x 52 weeks x 4
   endpoints at 50 ms per call.
9. **The store at scale** (:mod:`.store_scale`): ``mt.sync`` by user of 500 users x 365 days
   at 0 ms, its next day's re-sync, the thread pool, peak memory at 100 and 500 users.

Every HTTP scenario talks to a lean loopback server in a child process (:mod:`.server_process`,
:mod:`.loopback_server`), independent of the toolkit's HTTP stack and answering with the demo's
numbers, so the server's CPU is neither in the client's GIL nor in its ``time.process_time``.
The enterprise is generated with a fixed end (a Monday, 00:00 UTC), which is also "now" for the
simulator and for the client, so every bucket is complete and cacheable and every run sees the
same data.
"""

from __future__ import annotations

from collections.abc import Callable

from metrics_toolkit.demo import DemoAPI

from .breakdown import breakdown_scenario
from .common import (
    END,
    FULL,
    QUICK,
    SEED,
    Sizes,
    breakdown_ids,
    expected_frame,
    frames_equal,
    plain_loop,
    thread_pool_frame,
    thread_pool_loop,
)
from .harness import ScenarioResult
from .imports import import_scenario
from .in_process import answer_rows, frames_scenario, simulator_scenario, simulator_variants
from .latency import latency_scenario
from .memory import memory_scenario
from .orgs import orgs_scenario
from .overview import overview_scenario
from .store_scale import store_scale_scenario

__all__ = [
    "END",
    "FULL",
    "QUICK",
    "RUNNERS",
    "SEED",
    "Sizes",
    "answer_rows",
    "breakdown_ids",
    "breakdown_scenario",
    "expected_frame",
    "frames_equal",
    "frames_scenario",
    "import_scenario",
    "latency_scenario",
    "memory_scenario",
    "orgs_scenario",
    "overview_scenario",
    "plain_loop",
    "simulator_scenario",
    "simulator_variants",
    "store_scale_scenario",
    "thread_pool_frame",
    "thread_pool_loop",
]

#: Each scenario's number and how to run it, given the sizes and the simulator of the enterprise.
RUNNERS: dict[int, Callable[[Sizes, DemoAPI], ScenarioResult]] = {
    1: lambda sizes, api: latency_scenario(sizes),
    2: lambda sizes, api: breakdown_scenario(sizes, api.enterprise),
    3: frames_scenario,
    4: simulator_scenario,
    5: lambda sizes, api: orgs_scenario(sizes, api.enterprise),
    6: memory_scenario,
    7: lambda sizes, api: import_scenario(sizes),
    8: lambda sizes, api: overview_scenario(sizes, api.enterprise),
    9: store_scale_scenario,
}
