"""Where the daemon keeps its state: `$APP_SERVER_HOME`, default `~/.app-server`."""

from __future__ import annotations

import os
from pathlib import Path


def home_dir() -> Path:
    """The server's home directory (config.toml, threads/, plugins/, credentials); not created here."""
    configured = os.environ.get("APP_SERVER_HOME", "").strip()
    return Path(configured).expanduser().resolve() if configured else Path.home() / ".app-server"
