"""Test and benchmark helpers, kept out of the installed package (pyproject.toml builds
only ``syncer``): a scratch git repository, a fake GitHub on loopback, a uvicorn thread, the
database comparison. The tests and bench/ import them from a checkout."""
