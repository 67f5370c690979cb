"""Connection contract over the in-memory transport: concurrency, server requests, notifications, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import ClientRequestError, InvalidParams
from app_server.handlers import method_table
from app_server.rpc.connection import Connection
from app_server.rpc.dispatcher import MethodTable, RequestContext
from app_server.server import ServerOptions, Services, build_services
from app_server.transport.memory import MemoryStream, memory_pair
from protocol import errors as codes
from protocol.base import WireModel

INIT = {"clientInfo": {"name": "tests", "version": "1"}}


class Client:
    def __init__(self, stream: MemoryStream) -> None:
        self.stream = stream

    async def send(self, message: Any) -> None:
        await self.stream.send(json.dumps(message))

    async def receive(self) -> Any:
        with anyio.fail_after(5):
            return json.loads(await self.stream.receive())

    async def initialize(self, capabilities: dict[str, Any] | None = None) -> None:
        await self.send(
            {"id": "init", "method": "initialize", "params": {**INIT, "capabilities": capabilities}}
        )
        assert "result" in await self.receive()


@asynccontextmanager
async def serving(
    table: MethodTable, *, buffer_size: float = float("inf"), max_outbound_messages: int = 64
) -> AsyncIterator[tuple[Client, Connection, Services]]:
    server_end, client_end = memory_pair(buffer_size)
    services = build_services(ServerOptions())
    connection = Connection(
        server_end, methods=table, services=services, max_outbound_messages=max_outbound_messages
    )
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(connection.run)
            yield Client(client_end), connection, services
            task_group.cancel_scope.cancel()
    finally:
        await client_end.aclose()


def table_with(*extra: tuple[str, Any, Any]) -> MethodTable:
    table = method_table()
    for method, handler, params in extra:
        table.add(method, handler, params=params)
    return table


@pytest.mark.anyio
async def test_a_slow_request_does_not_hold_up_a_fast_one(home: Path) -> None:
    release = anyio.Event()

    async def slow(_ctx: RequestContext, _params: None) -> str:
        await release.wait()
        return "slow"

    async def fast(_ctx: RequestContext, _params: None) -> str:
        return "fast"

    async with serving(table_with(("slow", slow, None), ("fast", fast, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "slow"})
        await client.send({"id": 2, "method": "fast"})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 2, "result": "fast"}
        release.set()
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": "slow"}


async def ask_client(ctx: RequestContext, _params: None) -> Any:
    return await ctx.connection.request("item/tool/requestUserInput", {"question": "ok?"}, timeout=5)


@pytest.mark.anyio
async def test_a_server_request_returns_the_clients_result_to_the_waiting_handler(home: Path) -> None:
    async with serving(table_with(("ask", ask_client, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        server_request = await client.receive()
        assert server_request["method"] == "item/tool/requestUserInput"
        assert server_request["params"] == {"question": "ok?"}
        await client.send({"jsonrpc": "2.0", "id": server_request["id"], "result": {"answer": "yes"}})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": {"answer": "yes"}}


@pytest.mark.anyio
async def test_a_server_request_answered_with_an_error_raises_client_request_error(home: Path) -> None:
    caught: list[ClientRequestError] = []

    async def ask(ctx: RequestContext, _params: None) -> None:
        try:
            await ctx.connection.request("item/tool/requestUserInput", None, timeout=5)
        except ClientRequestError as exc:
            caught.append(exc)

    async with serving(table_with(("ask", ask, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        server_request = await client.receive()
        await client.send({"id": server_request["id"], "error": {"code": -1, "message": "declined"}})
        assert (await client.receive())["id"] == 1
    assert caught[0].client_code == -1
    assert caught[0].client_message == "declined"


@pytest.mark.anyio
async def test_an_unanswered_server_request_times_out_with_a_request_failed_error(home: Path) -> None:
    async def ask(ctx: RequestContext, _params: None) -> Any:
        return await ctx.connection.request("item/tool/requestUserInput", None, timeout=0.05)

    async with serving(table_with(("ask", ask, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        await client.receive()  # the server request, left unanswered
        answer = await client.receive()
    assert answer["error"]["code"] == codes.REQUEST_FAILED
    assert "item/tool/requestUserInput" in answer["error"]["message"]


@pytest.mark.anyio
async def test_notifications_carry_emitted_at_and_honour_opt_outs(home: Path) -> None:
    async with serving(method_table()) as (client, _, services):
        services.events.publish("thread/started", {"early": True})  # before initialize: not sent
        await client.initialize({"optOutNotificationMethods": ["thread/started"]})
        services.events.publish("thread/started", {"n": 1})
        services.events.publish("warning", {"message": "hi"})
        note = await client.receive()
    assert note["method"] == "warning"
    assert note["params"]["message"] == "hi"
    assert isinstance(note["params"]["emittedAtMs"], int)


@pytest.mark.anyio
async def test_a_full_outbound_queue_rejects_new_requests_as_overloaded(home: Path) -> None:
    async with serving(method_table(), buffer_size=0, max_outbound_messages=2) as (
        client,
        connection,
        services,
    ):
        await client.initialize()
        services.events.publish("warning", {"n": 0})
        await anyio.wait_all_tasks_blocked()  # the writer now holds n=0, blocked on the unread client
        for n in range(1, 6):
            services.events.publish("warning", {"n": n})  # 1 and 2 fill the queue; 3, 4, 5 are dropped
        await client.send({"id": 7, "method": "no/such"})
        # Unbuffered: this second send completes only once the reader has finished with request 7.
        await client.send({"method": "sync"})
        received = [await client.receive()]
        while "id" not in received[-1]:
            received.append(await client.receive())
    assert [message["params"]["n"] for message in received[:-1]] == [0, 1, 2]
    assert connection.dropped_notifications == 3
    assert received[-1] == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": codes.SERVER_OVERLOADED, "message": "Server overloaded; retry later."},
    }


@pytest.mark.anyio
async def test_an_internal_error_is_answered_generically_and_logged(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_ctx: RequestContext, _params: None) -> None:
        raise RuntimeError("token=sk-secret at /srv/private")

    async with serving(table_with(("broken", broken, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "broken"})
        answer = await client.receive()
    assert answer["error"] == {"code": codes.INTERNAL_ERROR, "message": "Internal error"}
    assert "sk-secret" in caplog.text


@pytest.mark.anyio
async def test_domain_errors_go_on_the_wire_with_their_code_and_message(home: Path) -> None:
    async def picky(_ctx: RequestContext, _params: None) -> None:
        raise InvalidParams("unknown server `x`", data={"server": "x"})

    async with serving(table_with(("picky", picky, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "picky"})
        answer = await client.receive()
    assert answer["error"] == {
        "code": codes.INVALID_PARAMS,
        "message": "unknown server `x`",
        "data": {"server": "x"},
    }


class Inner(WireModel):
    count: int


class Outer(WireModel):
    inner: Inner


@pytest.mark.anyio
async def test_pydantic_params_errors_name_the_field_path_without_the_input(home: Path) -> None:
    async def takes(_ctx: RequestContext, params: Outer) -> int:
        return params.inner.count

    async with serving(table_with(("takes", takes, Outer))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "takes", "params": {"inner": {"count": "not-a-number"}}})
        answer = await client.receive()
        await client.send({"id": 2, "method": "takes", "params": {"inner": {"count": 3}}})
        assert (await client.receive())["result"] == 3
    assert answer["error"]["code"] == codes.INVALID_PARAMS
    assert "inner.count" in answer["error"]["message"]
    assert "not-a-number" not in answer["error"]["message"]


@pytest.mark.anyio
async def test_a_method_without_params_accepts_null_or_empty_and_rejects_others(home: Path) -> None:
    async def bare(_ctx: RequestContext, params: None) -> bool:
        return params is None

    async with serving(table_with(("bare", bare, None))) as (client, _, _):
        await client.initialize()
        await client.send({"id": 1, "method": "bare", "params": None})
        await client.send({"id": 2, "method": "bare", "params": {}})
        await client.send({"id": 3, "method": "bare", "params": {"x": 1}})
        answers = {answer["id"]: answer for answer in [await client.receive() for _ in range(3)]}
    assert answers[1]["result"] is True
    assert answers[2]["result"] is True
    assert answers[3]["error"]["code"] == codes.INVALID_PARAMS


@pytest.mark.anyio
async def test_a_cancelled_request_is_never_answered(home: Path) -> None:
    started = anyio.Event()

    async def forever(_ctx: RequestContext, _params: None) -> None:
        started.set()
        await anyio.sleep_forever()

    async with serving(table_with(("forever", forever, None))) as (client, connection, _):
        await client.initialize()
        await client.send({"id": 1, "method": "forever"})
        with anyio.fail_after(5):
            await started.wait()
        assert connection.cancel_request(1)
        await client.send({"id": 2, "method": "no/such"})
        assert (await client.receive())["id"] == 2


@pytest.mark.anyio
async def test_a_failed_initialize_can_be_retried(home: Path) -> None:
    async with serving(method_table()) as (client, _, _):
        await client.send({"id": 1, "method": "initialize", "params": {}})
        assert (await client.receive())["error"]["code"] == codes.INVALID_PARAMS
        await client.initialize()
        await client.send({"id": 2, "method": "initialize", "params": INIT})
        assert (await client.receive())["error"] == {
            "code": codes.NOT_INITIALIZED,
            "message": "Already initialized",
        }


@pytest.mark.anyio
async def test_requests_pipelined_behind_initialize_see_it_completed(home: Path) -> None:
    async def fast(_ctx: RequestContext, _params: None) -> str:
        return "fast"

    async with serving(table_with(("fast", fast, None))) as (client, _, _):
        await client.send({"id": 1, "method": "initialize", "params": INIT})
        await client.send({"id": 2, "method": "fast"})
        first, second = await client.receive(), await client.receive()
    assert "result" in first
    assert second["result"] == "fast"
