"""Server log messages through the real daemon: `log_level` is asked of the server at connect, and
what it logs reaches the daemon's stderr with its level and the server's name."""

from __future__ import annotations

import logging
from pathlib import Path

import mcp_types as types
import pytest

from app_server.mcp.server_log import ServerLog
from app_server.mcp.server_logging import MAX_MESSAGE_CHARS, log_receiver
from tests.support.config import workspace_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio


async def test_the_configured_log_level_is_sent_and_messages_below_info_still_reach_stderr(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, {"ws": workspace_server(log_level="debug")}, features={"apps": False})
    async with Daemon.start(tmp_path, max_wait=30) as daemon:
        await daemon.initialize()

        level = await daemon.call("mcpServer/tool/call", {"server": "ws", "tool": "log_level"})
        debug = {"level": "debug", "text": "deep"}
        await daemon.call("mcpServer/tool/call", {"server": "ws", "tool": "log", "arguments": debug})
        # Bounded by the daemon's max_wait: it fails unless the line is written.
        await daemon.wait_for_stderr(r"DEBUG app_server\.mcp\.servers: MCP server ws/workspace: deep")

    assert level["content"][0]["text"] == "debug"


async def test_without_a_log_level_the_server_is_asked_nothing(tmp_path: Path) -> None:
    write_config(tmp_path, {"ws": workspace_server()}, features={"apps": False})
    async with Daemon.start(tmp_path, max_wait=30) as daemon:
        await daemon.initialize()

        level = await daemon.call("mcpServer/tool/call", {"server": "ws", "tool": "log_level"})

    assert level["content"][0]["text"] == "unset"


async def test_a_message_goes_to_the_server_log_and_to_stderr_at_its_level_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = ServerLog()
    receive = log_receiver("s", log)

    with caplog.at_level(logging.DEBUG, logger="app_server.mcp.servers"):
        await receive(types.LoggingMessageNotificationParams(level="alert", data={"k": "v" * 5000}))

    data = '{"k": "' + "v" * 5000 + '"}'
    (line,) = log.lines()
    assert line == f"[alert] {data}"[:2000] + f"… [cut: {len(data) + 8 - 2000} more chars]"
    (record,) = caplog.records
    assert record.levelno == logging.CRITICAL
    cut_off = len(data) - MAX_MESSAGE_CHARS
    assert record.getMessage() == f"MCP server s: {data[:MAX_MESSAGE_CHARS]}… [cut: {cut_off} more chars]"
