"""The inter-process lock every writer of config.toml holds from its read to its write.

The daemon's `config/value/write` / `config/batchWrite`, its "always approve" edits and the
`app-server mcp add|remove|import` commands may run at once in different processes; each holds
`<home>/.config.toml.lock` so no write is built on a read another one has made stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from app_server.errors import RequestFailed

LOCK_FILE_NAME = ".config.toml.lock"
_LOCK_TIMEOUT_SECONDS = 10.0


@contextmanager
def config_lock(home: Path) -> Iterator[None]:
    """Hold the lock of `home`'s config.toml (creating the folder, private, when missing).

    Raises RequestFailed when another writer keeps it past the timeout.
    """
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with FileLock(home / LOCK_FILE_NAME, timeout=_LOCK_TIMEOUT_SECONDS, mode=0o600):
            yield
    except Timeout:
        raise RequestFailed("config.toml is being written by another process; retry") from None
