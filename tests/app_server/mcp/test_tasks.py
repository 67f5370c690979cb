"""Task-augmented tool calls through the real daemon: a tool that requires a task runs as one, in a
direct call and in a turn, and its caller gets the task's final result (or its failure); a call
that times out cancels its task; a tool whose task support is optional is called as usual."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import turn_daemon
from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.task_server import http_app
from tests.support.config import APPROVE, task_server, write_config
from tests.support.daemon import Daemon
from tests.support.frontend import call_tool

pytestmark = pytest.mark.anyio

WAIT = 30.0
SERVER = "tasks"


def text(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


async def direct(daemon: Daemon, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    with anyio.fail_after(WAIT):
        return await call_tool(daemon, SERVER, tool, arguments or {})


async def test_a_tool_that_requires_a_task_answers_a_direct_call_with_the_tasks_result(home: Path) -> None:
    write_config(home, {SERVER: task_server()}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        before = len(daemon.untaken())

        response = await direct(daemon, "research", {"topic": "tides"})

        progress = [
            message["params"]
            for message in daemon.untaken()[before:]
            if message.get("method") == "mcpServer/toolCall/progress"
        ]
    assert "result" in response, response
    assert not response["result"].get("isError"), response
    assert text(response["result"]) == "report on tides"
    assert [report["message"] for report in progress] == ["step 1", "step 2"], progress


async def test_a_task_of_a_streamable_http_server_answers_its_result_its_failure_or_is_cancelled(
    home: Path,
) -> None:
    async with serve_asgi(lambda _base_url: http_app()) as base_url:
        server = {"url": f"{base_url}/mcp", "tool_timeout_sec": 1.0}
        write_config(home, {SERVER: server}, features={"apps": False})
        async with Daemon.start(home, max_wait=WAIT) as daemon:
            await daemon.initialize()

            answered = await direct(daemon, "research", {"topic": "tides"})
            failed = await direct(daemon, "fail")
            timed_out = await direct(daemon, "hang")
            cancelled = await direct(daemon, "cancelled_tasks", {"at_least": 1, "patience": 0.5})

    assert text(answered["result"]) == "report on tides", answered
    assert "research failed: no sources" in failed["error"]["message"], failed
    assert "timed out" in timed_out["error"]["message"], timed_out
    assert text(cancelled["result"]) == "1", cancelled


async def test_a_tool_whose_task_support_is_optional_is_called_without_a_task(home: Path) -> None:
    write_config(home, {SERVER: task_server()}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()

        response = await direct(daemon, "quick", {"text": "hi"})

    assert text(response["result"]) == "quick: hi", response


async def test_a_tasks_question_is_asked_of_the_caller_and_its_answer_ends_the_task(home: Path) -> None:
    write_config(home, {SERVER: task_server()}, features={"apps": False})
    asked: list[dict[str, Any]] = []

    async def answer(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return {"action": "accept", "content": {"meaning": "snake"}}

    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        with anyio.fail_after(WAIT):
            response = await call_tool(daemon, SERVER, "clarify", {"topic": "python"}, answer=answer)

    assert [question["message"] for question in asked] == ["Which interpretation do you mean?"]
    assert text(response["result"]) == "clarified: snake", response


async def test_a_task_that_fails_fails_the_direct_call_with_the_servers_error(home: Path) -> None:
    write_config(home, {SERVER: task_server()}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()

        response = await direct(daemon, "fail")

    assert "research failed: no sources" in response["error"]["message"], response


async def test_a_required_task_tool_of_a_server_without_task_support_fails_naming_it(home: Path) -> None:
    write_config(home, {SERVER: task_server("--undeclared")}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()

        response = await direct(daemon, "research", {"topic": "tides"})

    assert response["error"]["message"] == (
        "tool `research` of MCP server `tasks` requires task-augmented execution, "
        "but the server does not declare task support for tools/call"
    ), response


async def test_a_task_whose_call_times_out_is_cancelled_having_reported_its_status(home: Path) -> None:
    write_config(home, {SERVER: task_server(tool_timeout_sec=0.5)}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()

        response = await direct(daemon, "hang")
        with anyio.fail_after(WAIT):
            status = await daemon.next_notification("mcpServer/toolCall/progress")
        cancelled = await direct(daemon, "cancelled_tasks", {"at_least": 1, "patience": 0.4})

    assert "timed out" in response["error"]["message"], response
    assert status["params"]["message"] == "waiting for tasks/cancel", status
    assert text(cancelled["result"]) == "1", cancelled


async def turn_call(home: Path, tool: str, **arguments: Any) -> dict[str, Any]:
    """The completed item of a turn whose model calls the task server's `tool` once."""
    script = [{"tool_calls": [{"name": f"mcp__{SERVER}__{tool}", "arguments": arguments}]}, {"text": "ok"}]
    async with turn_daemon(home, script, {SERVER: task_server(**APPROVE)}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)

        item = await turns.item_completed("call_0_0")
        await turns.turn_completed(turn_id)
    return item


async def test_a_turns_call_of_a_task_tool_completes_with_the_tasks_result(home: Path) -> None:
    item = await turn_call(home, "research", topic="tides")

    assert item["status"] == "completed", item
    assert text(item["result"]) == "report on tides"


async def test_a_turns_call_of_a_failing_task_is_a_failed_call(home: Path) -> None:
    item = await turn_call(home, "fail")

    assert item["status"] == "failed", item
    assert "research failed: no sources" in item["error"]["message"], item


async def test_interrupting_a_turn_cancels_the_task_of_its_call(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": f"mcp__{SERVER}__hang", "arguments": {}}]},
        {
            "tool_calls": [
                {"name": f"mcp__{SERVER}__cancelled_tasks", "arguments": {"at_least": 1, "patience": 5}}
            ]
        },
        {"text": "ok"},
    ]
    async with turn_daemon(home, script, {SERVER: task_server(**APPROVE)}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await turns.daemon.next_notification("item/mcpToolCall/progress")  # the task is running

        await turns.daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        interrupted = await turns.item_completed("call_0_0")
        await turns.turn_completed(turn_id)
        next_turn = await turns.start_turn(thread_id)
        counted = await turns.item_completed("call_1_0")
        await turns.turn_completed(next_turn)

    assert interrupted["status"] == "failed", interrupted
    assert text(counted["result"]) == "1", counted
