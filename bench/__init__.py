"""The benchmark of issue 6 (``python -m bench``); docs/performance.md has the results."""
