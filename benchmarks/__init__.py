"""Benchmarks of metrics_toolkit against the demo server: ``python -m benchmarks``.

Four scenarios (see :mod:`benchmarks.scenarios`): a year of daily buckets at 50 ms per call
(sequential loop, cold cache, warm cache), a 2,600-call breakdown at 0 ms (the machinery's
throughput and CPU per call), 10,000 answers into frames, and one aggregation of the simulator.
Each measurement is the median of a few runs; the table is printed and written as JSON to
``benchmarks/results.json``. ``--quick`` runs tiny sizes once (the test suite does that).
"""
