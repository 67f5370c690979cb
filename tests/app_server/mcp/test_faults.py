"""Faulty servers are reported (startup event, status, error reply) and the daemon and other servers go on."""

from __future__ import annotations

import logging
import sys

import anyio
import pytest

from app_server.config.servers import StdioServerConfig
from app_server.errors import RequestFailed
from app_server.mcp.client import RuntimeContext
from tests.app_server.mcp.conftest import Running, stdio_config, wire_status
from tests.support.processes import wait_gone

pytestmark = pytest.mark.anyio

CONTEXT = RuntimeContext()
SAYS_BYE_ON_SIGTERM = """
import signal, sys, time
def bye(*_):
    sys.stderr.write("bye\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
sys.stderr.write("waiting\\n")
sys.stderr.flush()
time.sleep(60)
"""
"""A server that never answers `initialize` and writes `bye` to stderr on its way out after SIGTERM."""


async def start_one(running: Running, config: StdioServerConfig) -> tuple[str, str | None]:
    """Start `bad` next to a healthy `good`; returns bad's final state and error once both settled."""
    cell = running.manager.open_cell({"bad": config, "good": stdio_config("good")}, CONTEXT)
    with anyio.fail_after(30):
        await cell.current.wait_started()
        bad = cell.current.connection("bad")
        await bad.closed.wait()
        assert (await cell.current.call_tool("good", "echo", {"text": "ok"}))["content"]
    assert running.events.statuses("good") == ["starting", "ready"]
    assert running.events.statuses("bad")[0] == "starting"
    return bad.state, bad.error


async def test_a_missing_command_fails_startup(running: Running) -> None:
    config = StdioServerConfig(command="/nonexistent/mcp-server-binary")
    assert await start_one(running, config) == (
        "failed",
        "MCP server `bad` could not be launched: command not found",
    )


async def test_a_server_exiting_at_start_fails_startup(running: Running) -> None:
    state, error = await start_one(running, stdio_config("x", "--fault", "exit-at-start"))
    assert (state, error) == ("failed", "MCP server `bad` exited during startup")


async def test_a_failure_is_logged_with_the_last_lines_the_server_wrote_to_stderr(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="app_server.mcp.client"):
        await start_one(running, stdio_config("x", "--fault", "exit-at-start"))
    assert [record.getMessage() for record in caplog.records] == [
        "MCP server `bad` exited during startup; the last lines it wrote:\n"
        "    fatal: fixture refuses to start"
    ]


async def test_a_server_cut_short_at_startup_is_logged_with_what_it_wrote_on_its_way_out(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    config = StdioServerConfig(
        command=sys.executable, args=("-c", SAYS_BYE_ON_SIGTERM), startup_timeout_sec=0.5
    )
    with caplog.at_level(logging.WARNING, logger="app_server.mcp.client"):
        await start_one(running, config)
    assert [record.getMessage() for record in caplog.records] == [
        "MCP client for `bad` timed out after 0.5 seconds. Add or adjust `startup_timeout_sec` in your "
        "config.toml for `[mcp_servers.bad]`.; the last lines it wrote:\n    waiting\n    bye"
    ]


async def test_a_server_hanging_at_start_times_out_and_is_killed(running: Running) -> None:
    cell = running.manager.open_cell(
        {"bad": stdio_config("x", "--fault", "hang-at-start", startup_timeout_sec=1.5)}, CONTEXT
    )
    bad = cell.current.connection("bad")
    with anyio.fail_after(30):
        await bad.closed.wait()
    assert bad.error == (
        "MCP client for `bad` timed out after 1.5 seconds. Add or adjust `startup_timeout_sec` "
        "in your config.toml for `[mcp_servers.bad]`."
    )
    assert running.events.statuses("bad") == ["starting", "failed"]
    assert running.manager.registry is not None and running.manager.registry.pids() == []


async def test_garbage_on_stdout_fails_startup_at_once(running: Running) -> None:
    state, error = await start_one(running, stdio_config("x", "--fault", "garbage-stdout"))
    assert (state, error) == ("failed", "MCP server `bad` wrote output to stdout that is not JSON-RPC")


async def test_a_repeated_cursor_ends_the_listing_with_an_error(running: Running) -> None:
    state, error = await start_one(running, stdio_config("x", "--page-size", "2", "--fault", "repeat-cursor"))
    assert (state, error) == ("failed", "MCP server `bad` repeated the tools cursor '2'; listing stopped")


async def test_a_stderr_flood_is_kept_bounded_and_the_server_works(running: Running) -> None:
    cell = running.manager.open_cell({"noisy": stdio_config("n", "--fault", "stderr-flood")}, CONTEXT)
    with anyio.fail_after(30), cell.lease() as runtime:
        result = await runtime.call_tool("noisy", "echo", {"text": "still here"})
        assert result["structuredContent"] == {"result": "still here"}
        lines = runtime.connection("noisy").log.lines()
    assert 0 < len(lines) <= 500
    assert all(len(line) <= 2000 for line in lines)


async def test_a_server_dying_mid_call_fails_the_call_and_is_reported(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    with anyio.fail_after(30), cell.lease() as runtime:
        with pytest.raises(RequestFailed, match="MCP server `a` closed the connection during tool `crash`"):
            await runtime.call_tool("a", "crash")
        connection = runtime.connection("a")
        await connection.closed.wait()
        assert (connection.state, connection.error) == ("failed", "MCP server `a` exited")
        with pytest.raises(RequestFailed, match="MCP server `a` is not connected: MCP server `a` exited"):
            await runtime.call_tool("a", "echo", {"text": "x"})
        entries, _ = await wire_status(running.manager, cell)
    assert (entries[0]["runtimeStatus"], entries[0]["toolsError"]) == ("failed", "MCP server `a` exited")


async def test_a_call_hanging_past_the_tool_timeout_fails(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a", tool_timeout_sec=0.5)}, CONTEXT)
    with anyio.fail_after(30), cell.lease() as runtime:
        with pytest.raises(RequestFailed) as caught:
            await runtime.call_tool("a", "block", {"key": "never"})
        assert caught.value.message == (
            "MCP server `a` timed out calling tool `block` after 0.5 seconds. "
            "Add or adjust `tool_timeout_sec` in your config.toml for `[mcp_servers.a]`."
        )
        result = await runtime.call_tool("a", "echo", {"text": "after"})
    assert result["structuredContent"] == {"result": "after"}


async def test_a_huge_result_is_refused_and_the_connection_goes_on(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    with anyio.fail_after(30), cell.lease() as runtime:
        with pytest.raises(RequestFailed, match="MCP server `a` answered with more than 1 MiB"):
            await runtime.call_tool("a", "huge", {"megabytes": 3})
        result = await runtime.call_tool("a", "huge", {"megabytes": 0.25})
    assert len(result["content"][0]["text"]) == 256 * 1024


async def test_stopping_a_generation_reaps_every_child(running: Running) -> None:
    servers = {name: stdio_config(name) for name in ("a", "b")}
    servers["hang"] = StdioServerConfig(command=sys.executable, args=("-c", "import time; time.sleep(60)"))
    cell = running.manager.open_cell(servers, CONTEXT)
    with anyio.fail_after(30):
        await cell.current.connection("a").settled.wait()
        pids = {c.pid for c in cell.current.connections() if c.pid} | set(running.manager.registry.pids())  # type: ignore[union-attr]
        running.manager.close_cell(cell)
        for connection in cell.current.connections():
            await connection.closed.wait()
        await wait_gone(pids)
    assert running.events.statuses("hang") == ["starting", "cancelled"]
