"""`roots/list`: a server learns the workspace it serves, its scope's working directory.

A connection's context (the cwd of the thread, or the daemon's at the app level) is part of its
identity in the pool, so its roots never change while it runs: `list_changed` is never sent.
"""

from __future__ import annotations

from pathlib import Path

import mcp_types as types
from mcp.client.session import ClientRequestContext, ListRootsFnT


def roots_answer(cwd: Path) -> ListRootsFnT:
    """The `list_roots_callback` of a connection whose scope works in `cwd`."""
    root = types.Root(uri=cwd.resolve().as_uri(), name=cwd.name or str(cwd))

    async def list_roots(context: ClientRequestContext) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[root])

    return list_roots
