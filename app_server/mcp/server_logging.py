"""A server's log messages (`notifications/message`) and the threshold it is asked to log at.

Each message goes to the server's own bounded log (what `mcpServer/views/read` and failure reports
show) and to the daemon's stderr at its level, under the `app_server.mcp.servers` logger, which
passes every level through: what a server sends is governed by its `log_level` key (sent as
`logging/setLevel` when the server has the logging capability), not dropped here.
"""

from __future__ import annotations

import json
import logging
import warnings

import mcp_types as types
from mcp.client import Client
from mcp.client.session import LoggingFnT
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from app_server.config.servers import McpLogLevel
from app_server.mcp.server_log import ServerLog, cut

server_logger = logging.getLogger("app_server.mcp.servers")
server_logger.setLevel(logging.DEBUG)

PYTHON_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}
MAX_MESSAGE_CHARS = 2000


def log_receiver(name: str, log: ServerLog) -> LoggingFnT:
    """The `logging_callback` of server `name`'s connection."""

    async def receive(params: types.LoggingMessageNotificationParams) -> None:
        data = params.data if isinstance(params.data, str) else json.dumps(params.data, default=str)
        source = f"{name}/{params.logger}" if params.logger else name
        log.append(f"[{params.level}] {data}")
        text = cut(data, MAX_MESSAGE_CHARS)
        server_logger.log(PYTHON_LEVELS.get(params.level, logging.INFO), "MCP server %s: %s", source, text)

    return receive


async def request_level(client: Client, level: McpLogLevel | None, log: ServerLog) -> None:
    """Ask the server to log at `level` (none: the server's own default). A server without the
    logging capability, or one that refuses, is noted in its log and keeps running."""
    if level is None or client.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return  # in the 2026 era the level rides on every request (the Client's `log_level`)
    if client.server_capabilities.logging is None:
        log.append(f"[app-server] log_level = {level!r} not sent: the server has no logging capability")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)  # deprecated in the 2026 era only
            await client.set_logging_level(level)
    except MCPError as exc:
        log.append(f"[app-server] the server refused log_level = {level!r}: {exc.error.message[:200]}")
