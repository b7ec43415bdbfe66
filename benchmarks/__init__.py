"""Benchmarks of metrics_toolkit against the demo server: ``python -m benchmarks``.

Eight scenarios (see :mod:`benchmarks.scenarios`): a year of daily buckets at 50 ms per call
against a hand-written thread pool and the floor (cold, warm, warm in a new process), a 2,600-call
breakdown at 0 ms (the machinery's throughput and CPU per call), 10,000 answers into frames, one
aggregation of the simulator, 20 orgs x 52 weeks at 20 ms, the memory kept after 36,500 calls,
the import time, and the common table (5 orgs x 52 weeks x 4 endpoints at 50 ms). Each
measurement is the median of a few runs; the table is printed and written as JSON to
``benchmarks/results.json``. ``--quick`` runs tiny sizes once (the test suite does that).
"""
