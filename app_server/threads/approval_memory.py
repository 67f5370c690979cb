"""A thread's remembered tool approvals: "allow for this session" in memory, "always" in config.toml.

As in Codex, a choice remembered for the session covers later calls of that tool in this thread only,
for as long as the daemon runs. "Always" writes `approval_mode = "approve"` for the tool into
config.toml and reloads it, so every thread's next step sees the tool approved; the choice is also
remembered for the session, which covers the rest of the step that asked (it runs on the generation
it leased, from before the reload) and, when the tool cannot be written (a server that config.toml
does not declare, a `codex_apps` tool, a file that does not edit cleanly), the thread from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio

from app_server.errors import AppServerError
from app_server.mcp.apps import CODEX_APPS

if TYPE_CHECKING:  # approvals imports the mcp SDK (through the catalog); threads load without it
    from app_server.threads.approvals import ApprovalKey

logger = logging.getLogger(__name__)

PersistApproval = Callable[[str, str], Awaitable[None]]
"""Writes "always approve" for (server, tool) into config.toml and applies it; raises AppServerError
when it cannot."""


class ApprovalMemory:
    """The approvals one thread remembers."""

    def __init__(self, persist: PersistApproval | None) -> None:
        self._persist = persist
        self._session: set[ApprovalKey] = set()

    def remembers(self, key: ApprovalKey) -> bool:
        return key in self._session

    def remember(self, key: ApprovalKey) -> None:
        """Approve later calls of the key's tool in this thread."""
        self._session.add(key)

    async def persist(self, key: ApprovalKey) -> None:
        """Approve the tool for good (every thread, later daemons too); see the module docstring."""
        self.remember(key)
        if self._persist is None or key.server == CODEX_APPS:
            return
        try:
            with anyio.CancelScope(shield=True):  # an interrupted turn does not leave half a reload
                await self._persist(key.server, key.tool)
        except AppServerError as exc:
            logger.warning(
                "could not save the approval of tool %s of MCP server %s; it holds for this thread: %s",
                key.tool,
                key.server,
                exc.message,
            )
