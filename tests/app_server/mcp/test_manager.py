"""McpManager over real stdio fixture servers: carry-over, refresh, calls, reads, required servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import InvalidParams, McpServerError, RequestFailed
from app_server.mcp.client import RuntimeContext
from app_server.mcp.manager import McpManager
from tests.app_server.mcp.conftest import Running, stdio_config
from tests.support.processes import wait_gone

pytestmark = pytest.mark.anyio

CONTEXT = RuntimeContext()


async def whoami(manager: McpManager, runtime: Any, server: str) -> dict[str, Any]:
    result = await runtime.call_tool(server, "whoami")
    structured: dict[str, Any] = result["structuredContent"]
    return structured


async def test_all_servers_start_and_each_announces_starting_then_ready(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a"), "b": stdio_config("b")}, CONTEXT)
    with anyio.fail_after(20):
        await cell.current.wait_started()
    assert running.events.statuses("a") == ["starting", "ready"]
    assert running.events.statuses("b") == ["starting", "ready"]
    with cell.lease() as runtime:
        assert (await whoami(manager, runtime, "a"))["label"] == "a"
        assert (await whoami(manager, runtime, "b"))["label"] == "b"


async def test_unchanged_servers_are_carried_and_changed_ones_restarted(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"same": stdio_config("same"), "changed": stdio_config("v1")}, CONTEXT)
    with anyio.fail_after(20):
        await cell.current.wait_started()
        with cell.lease() as old:
            same_pid = (await whoami(manager, old, "same"))["pid"]
            old_changed_pid = (await whoami(manager, old, "changed"))["pid"]
        plan = manager.plan(cell, {"same": stdio_config("same"), "changed": stdio_config("v2")}, CONTEXT)
        assert plan.to_start == ["changed"]
        manager.publish(plan)
        await cell.current.wait_started()
        with cell.lease() as new:
            assert (await whoami(manager, new, "same"))["pid"] == same_pid
            assert (await whoami(manager, new, "changed"))["label"] == "v2"
        await wait_gone({old_changed_pid})


async def test_a_changed_context_restarts_every_server(running: Running, tmp_path: Path) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    plan = manager.plan(cell, {"a": stdio_config("a")}, RuntimeContext(cwd=tmp_path))
    assert plan.to_start == ["a"]


async def test_failed_servers_are_restarted_by_the_next_generation(running: Running) -> None:
    manager = running.manager
    servers = {"broken": stdio_config("x", "--fault", "exit-at-start")}
    cell = manager.open_cell(servers, CONTEXT)
    with anyio.fail_after(20):
        await cell.current.wait_started()
    assert manager.plan(cell, servers, CONTEXT).to_start == ["broken"]


async def test_a_failing_plan_publishes_nothing(running: Running, tmp_path: Path) -> None:
    manager = running.manager
    app = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    thread = manager.open_cell({"a": stdio_config("a")}, CONTEXT, thread_id="t1")
    before = (app.current, thread.current)
    with pytest.raises(InvalidParams, match="working directory of MCP server 'a' does not exist"):
        manager.refresh(
            [
                manager.plan(app, {"a": stdio_config("a2")}, CONTEXT),
                manager.plan(thread, {"a": stdio_config("a2")}, RuntimeContext(cwd=tmp_path / "missing")),
            ]
        )
    assert (app.current, thread.current) == before


async def test_startup_events_of_a_thread_cell_carry_its_thread_id(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a")}, CONTEXT, thread_id="thread-1")
    with anyio.fail_after(20):
        await cell.current.wait_started()
    assert [event.get("threadId") for event in running.events.received] == ["thread-1", "thread-1"]


async def test_tool_results_pass_through_as_the_server_sent_them(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT, thread_id="t9")
    with anyio.fail_after(20), cell.lease() as runtime:
        result = await runtime.call_tool("a", "echo", {"text": "hi"}, meta={"trace": "x"})
    assert result == {
        "content": [{"type": "text", "text": "hi"}],
        "structuredContent": {"result": "hi"},
        "isError": False,
    }


async def test_the_host_sets_the_calls_meta_over_the_callers(running: Running) -> None:
    cell = running.manager.open_cell({"a": stdio_config("a")}, CONTEXT, thread_id="t9")
    spoofed = {"threadId": "spoof", "progressToken": "spoof", "x-codex-turn-metadata": "spoof", "trace": "x"}
    with anyio.fail_after(20), cell.lease() as runtime:
        result = await runtime.call_tool("a", "request_meta", {}, meta=spoofed, turn_id="turn-1")
    seen = result["structuredContent"]["meta"]  # the SDK server names the token `progress_token`
    assert (seen["threadId"], seen["trace"]) == ("t9", "x")
    assert seen["progress_token"] not in (None, "spoof")
    assert seen["x-codex-turn-metadata"] == {"session_id": "t9", "thread_id": "t9", "turn_id": "turn-1"}


async def test_progress_notifications_reach_the_callback(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    with anyio.fail_after(20), cell.lease() as runtime:
        await runtime.call_tool("a", "progress", {"steps": 2}, progress=on_progress)
    assert seen == [(1, 2, "step 1"), (2, 2, "step 2")]


async def test_errors_of_the_server_are_forwarded_with_code_message_and_data(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    with anyio.fail_after(20), cell.lease() as runtime, pytest.raises(McpServerError) as caught:
        await runtime.call_tool("a", "fail")
    assert (caught.value.code, caught.value.message, caught.value.data) == (
        -32042,
        "fixture refused",
        {"reason": "asked to fail"},
    )


async def test_unknown_servers_and_disabled_tools_are_refused(running: Running) -> None:
    manager = running.manager
    servers = {"a": stdio_config("a", disabled_tools=("echo",)), "off": stdio_config("off", enabled=False)}
    cell = manager.open_cell(servers, CONTEXT)
    with anyio.fail_after(20), cell.lease() as runtime:
        with pytest.raises(InvalidParams, match="unknown MCP server 'nope'"):
            await runtime.call_tool("nope", "echo")
        with pytest.raises(InvalidParams, match="tool 'echo' is disabled for MCP server 'a'"):
            await runtime.call_tool("a", "echo", {"text": "x"})
        with pytest.raises(RequestFailed, match="MCP server 'off' is disabled"):
            await runtime.call_tool("off", "echo")
    assert running.events.statuses("off") == []


async def test_resources_are_read_from_the_leased_generation(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    with anyio.fail_after(20), cell.lease() as runtime:
        result = await runtime.read_resource("a", "fixture://items/7")
    assert result == {
        "contents": [{"uri": "fixture://items/7", "mimeType": "text/plain", "text": "item 7 of a"}],
        "originCallId": None,
    }


async def test_list_changed_relists_and_publishes_a_new_generation(running: Running) -> None:
    manager = running.manager
    cell = manager.open_cell({"a": stdio_config("a")}, CONTEXT)
    with anyio.fail_after(20):
        with cell.lease() as first:
            await first.wait_started()
            assert "mcp__a__whoami" in first.tool_index()
            await first.call_tool("a", "add_tool", {"name": "fresh"})
            while cell.current is first:
                await cell.changed.wait()
            assert "mcp__a__fresh" not in first.tool_index()
    assert cell.current.tool_index()["mcp__a__fresh"].tool == "fresh"


async def test_a_thread_cannot_start_while_a_required_server_failed(running: Running) -> None:
    servers = {
        "ok": stdio_config("ok"),
        "must": stdio_config("must", "--fault", "exit-at-start", required=True),
    }
    cell = running.manager.open_cell(servers, CONTEXT)
    with anyio.fail_after(20), pytest.raises(RequestFailed) as caught:
        await cell.current.check_required()
    assert (
        caught.value.message
        == "required MCP servers failed to initialize: must: MCP server `must` exited during startup"
    )


async def test_a_ready_required_server_is_not_held_up_by_a_slow_optional_one(running: Running) -> None:
    servers = {
        "must": stdio_config("must", required=True),
        "slow": stdio_config("slow", "--fault", "hang-at-start", startup_timeout_sec=600),
    }
    cell = running.manager.open_cell(servers, CONTEXT)
    with anyio.fail_after(20):
        await cell.current.check_required()
    assert cell.current.connection("slow").state == "starting"


async def test_a_thread_replanned_off_a_connection_no_longer_hears_it(running: Running) -> None:
    """The app level keeps the old process, and the thread's old generation is still leased."""
    manager = running.manager
    app = manager.open_cell({"x": stdio_config("x")}, CONTEXT)
    thread = manager.open_cell({"x": stdio_config("x")}, CONTEXT, thread_id="t1")
    old = app.current.connection("x")
    assert thread.current.connection("x") is old
    with anyio.fail_after(20), thread.lease():
        await old.wait_settled()
        manager.publish(manager.plan(thread, {"x": stdio_config("x2")}, CONTEXT))
        with app.lease() as runtime, pytest.raises(RequestFailed):
            await runtime.call_tool("x", "crash")
        await old.closed.wait()
    heard = [(event["status"], event.get("threadId")) for event in running.events.received]
    assert ("failed", None) in heard
    assert heard.count(("failed", "t1")) == 0, "the thread heard the connection it no longer holds"
