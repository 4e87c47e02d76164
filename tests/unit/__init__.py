"""Pure code: no database, no socket, no subprocess."""
