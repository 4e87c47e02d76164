"""Keeping the database in step: the engine (one run), the coordinator (runs in turn),
the nightly reconciliation."""
