"""The daemon-wide connection pool: one live connection per server identity, shared by every generation.

Two processes are interchangeable when they run the same exact server config in the same context:
the scope's workspace (the working directory a stdio server without its own `cwd` starts in, and
the root `roots/list` tells every server, HTTP ones and those with their own `cwd` included), the
credentials it uses, and for a server isolated per scope (`isolation = "thread"`) the scope itself.
The approval settings (`tools`, `default_tools_approval_mode`) and the model's cap on its results
(`tool_output_max_chars`) are not part of it: the host reads them, the server never sees them, so
approving a tool "always" (a config edit and a reload) keeps the process. Every generation of every
cell (the app level, each thread) that needs a server with that identity holds the pool's one
connection (`McpConnection.holders` counts them); the connection stops when the last one lets go,
and a failed or stopping one is never handed out again, so the next plan starts a fresh process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app_server.mcp.client import McpConnection, RuntimeContext, ServerConfig

HOST_ONLY_KEYS = frozenset({"tools", "default_tools_approval_mode", "tool_output_max_chars"})
"""Server settings only the host acts on: changing them needs no new process."""
CredentialsProvider = Callable[[str, ServerConfig], str]
"""(server name, config) -> a token that changes whenever the server's credentials change."""


@dataclass(frozen=True, slots=True)
class ConnectionKey:
    """What makes two connections interchangeable (see the module docstring)."""

    name: str
    config: str
    """The exact config but its approval settings, as canonical JSON (configs hold dicts, so they
    are not hashable)."""
    workspace: Path | None
    """The scope's working directory: where a stdio server starts unless it sets its own `cwd`, and
    the root every server is told."""
    credentials: str
    """Changes when the server's credentials change (a login or logout), so a new connection uses them."""
    scope: str | None
    """The thread id (None: the app level) for a server isolated per scope; None when shared."""


def connection_key(
    name: str, config: ServerConfig, context: RuntimeContext, thread_id: str | None, credentials: str = ""
) -> ConnectionKey:
    scope = thread_id if config.isolation == "thread" else None
    identity = config.model_dump_json(exclude=set(HOST_ONLY_KEYS))
    return ConnectionKey(name, identity, context.cwd, credentials, scope)


class ConnectionPool:
    """The live connections by identity."""

    def __init__(self) -> None:
        self._live: dict[ConnectionKey, McpConnection] = {}

    def find(self, key: ConnectionKey) -> McpConnection | None:
        """The connection that can serve `key`: one starting or ready and not asked to stop."""
        connection = self._live.get(key)
        if connection is None or connection.stopping or connection.state not in ("starting", "ready"):
            return None
        return connection

    def add(self, key: ConnectionKey, connection: McpConnection) -> None:
        """Make `connection` the one for `key` (replacing a failed or stopping one)."""
        self._live[key] = connection

    def discard(self, key: ConnectionKey, connection: McpConnection) -> None:
        """Forget `connection` (it has closed); a newer one for the same key stays."""
        if self._live.get(key) is connection:
            del self._live[key]

    def __iter__(self) -> Iterator[McpConnection]:
        return iter(list(self._live.values()))

    def __len__(self) -> int:
        return len(self._live)
