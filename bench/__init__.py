"""Benchmarks against the floor: ``python -m bench`` (``--quick`` for tiny sizes).

Speed is measured here, never asserted in tests. Each benchmark is compared with a *floor*
measured in the same run on the same machine (the least any implementation of the same shape
must spend), and reported as the median of several runs; see docs/performance.md.
"""
