"""Where SQL lives: the only package that opens SQLite connections or writes SQL."""
