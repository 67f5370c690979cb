"""Threads: the durable thread store (JSON-lines journals under `<home>/threads/`) and its live threads."""
