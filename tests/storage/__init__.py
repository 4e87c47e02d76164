"""A real SQLite file and a real git repository; no socket."""
