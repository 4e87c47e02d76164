"""The benchmarks of issues 6 and 13 (``python -m bench``); docs/performance.md has the results."""
