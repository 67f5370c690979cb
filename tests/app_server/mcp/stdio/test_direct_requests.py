"""Direct requests: ids apart from the SDK's, answers and progress claimed, withdrawal, closing."""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from app_server.mcp.stdio.direct_requests import DirectRequests

pytestmark = pytest.mark.anyio


class Wire:
    """What the requests wrote, as parsed lines; `written` is set on each write."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.written = anyio.Event()

    async def write(self, line: bytes) -> None:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        self.lines.append(json.loads(line))
        self.written.set()
        self.written = anyio.Event()

    async def line(self, index: int) -> dict[str, Any]:
        """The line written `index`-th, once it is."""
        while len(self.lines) <= index:
            await self.written.wait()
        return self.lines[index]


def answer(request_id: Any, result: dict[str, Any]) -> types.JSONRPCMessage:
    return types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result=result)


def progress_report(token: Any, progress: float, **fields: Any) -> types.JSONRPCMessage:
    params = {"progressToken": token, "progress": progress, **fields}
    return types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params=params)


async def test_an_answer_goes_to_its_request_and_sdk_traffic_is_left_alone() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    results: list[dict[str, Any]] = []

    async def call() -> None:
        results.append(await requests.request("tools/call", {"name": "echo"}))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            sent = await wire.line(0)
            assert sent == {
                "jsonrpc": "2.0",
                "id": "app-server-1",
                "method": "tools/call",
                "params": {"name": "echo"},
            }
            assert not requests.claim(answer(1, {"sdk": True}))
            assert not requests.claim(answer("other-1", {"sdk": True}))
            assert not requests.claim(progress_report(1, 1))
            assert requests.claim(answer("app-server-1", {"content": []}))
    assert results == [{"content": []}]


async def test_progress_reaches_the_callback_before_the_answer() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    seen: list[Any] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async def call() -> None:
        seen.append(
            await requests.request("tools/call", {"name": "p", "_meta": {"k": "v"}}, on_progress=on_progress)
        )

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            sent = await wire.line(0)
            assert sent["params"]["_meta"] == {"k": "v", "progressToken": sent["id"]}
            for progress in (1, 2):
                report = progress_report(sent["id"], progress, total=2, message=f"step {progress}")
                assert requests.claim(report)
            assert requests.claim(answer(sent["id"], {"done": True}))
    assert seen == [(1, 2, "step 1"), (2, 2, "step 2"), {"done": True}]


async def test_an_error_answer_raises_with_its_code_message_and_data() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def answer_with_error() -> None:
                sent = await wire.line(0)
                error = types.ErrorData(code=-32042, message="refused", data={"why": "test"})
                requests.claim(types.JSONRPCError(jsonrpc="2.0", id=sent["id"], error=error))

            tg.start_soon(answer_with_error)
            with pytest.raises(MCPError) as caught:
                await requests.request("tools/call", {"name": "x"})
    assert (caught.value.code, caught.value.message, caught.value.data) == (
        -32042,
        "refused",
        {"why": "test"},
    )


async def test_a_request_whose_caller_stops_waiting_is_withdrawn_and_its_late_answer_dropped() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(requests.request, "tools/call", {"name": "slow"})
            sent = await wire.line(0)
            tg.cancel_scope.cancel()
    assert wire.lines[-1] == {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": sent["id"], "reason": "the client no longer waits for this request"},
    }
    assert requests.claim(answer(sent["id"], {"late": True}))


async def test_closing_fails_the_waiting_requests_and_refuses_new_ones() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    failures: list[MCPError] = []

    async def call() -> None:
        with pytest.raises(MCPError) as caught:
            await requests.request("tools/call", {"name": "x"})
        failures.append(caught.value)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await wire.line(0)
            requests.close()
        with pytest.raises(MCPError) as refused:
            await requests.request("tools/call", {"name": "y"})
    assert [(error.code, error.message) for error in [*failures, refused.value]] == [
        (types.CONNECTION_CLOSED, "Connection closed")
    ] * 2
    assert len(wire.lines) == 1


async def test_a_request_the_closed_pipe_cannot_take_fails_as_a_closed_connection() -> None:
    async def closed_pipe(line: bytes) -> None:
        raise anyio.ClosedResourceError

    requests = DirectRequests(closed_pipe)
    with anyio.fail_after(5), pytest.raises(MCPError) as caught:
        await requests.request("tools/call", {"name": "x"})
    assert (caught.value.code, caught.value.message) == (types.CONNECTION_CLOSED, "Connection closed")


async def test_a_failing_progress_callback_does_not_cost_the_call_its_answer() -> None:
    wire = Wire()
    requests = DirectRequests(wire.write)
    results: list[dict[str, Any]] = []

    async def broken(progress: float, total: float | None, message: str | None) -> None:
        raise RuntimeError("progress sink broke")

    async def call() -> None:
        results.append(await requests.request("tools/call", {"name": "p"}, on_progress=broken))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            sent = await wire.line(0)
            assert requests.claim(progress_report(sent["id"], 1))
            assert requests.claim(answer(sent["id"], {"done": True}))
    assert results == [{"done": True}]
