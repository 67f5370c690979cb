"""The connection contract over every transport: framing, concurrency, server requests, bad input.

Each test runs over memory, stdio (a real pipe pair) and WebSocket (a real loopback listener).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import ClientRequestError, InvalidParams
from app_server.handlers import method_table
from app_server.rpc.connection import Connection
from app_server.rpc.dispatcher import MethodTable, RequestContext
from protocol import errors as codes
from protocol.base import WireModel
from protocol.notifications import ConfigWarningNotification, WarningNotification
from tests.app_server.rpc.transports import (
    BYTE_TRANSPORTS,
    INIT,
    MAX_MESSAGE_BYTES,
    TRANSPORTS,
    Client,
    ContractServices,
    assert_well_formed,
    memory_serving,
    serving,
)

pytestmark = pytest.mark.anyio

Context = RequestContext[ContractServices]
Serve = Callable[[MethodTable[Any]], AbstractAsyncContextManager[tuple[Client, Connection[Any]]]]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def services(home: Path) -> ContractServices:
    return ContractServices(home)


@pytest.fixture
def serve(transport: str, services: ContractServices) -> Serve:
    """Serve a method table over the test's transport, with the test's services."""

    def serve(methods: MethodTable[Any]) -> AbstractAsyncContextManager[tuple[Client, Connection[Any]]]:
        return serving(transport, methods, services)

    return serve


def table_with(*extra: tuple[str, Any, Any]) -> MethodTable[Any]:
    """The daemon's own table (its `initialize` included) plus the test's methods."""
    table: MethodTable[Any] = method_table()
    for method, handler, params in extra:
        table.add(method, handler, params=params)
    return table


class Padded(WireModel):
    pad: str


async def echo(_ctx: Context, params: Padded) -> dict[str, str]:
    return {"pad": params.pad}


# -- framing ------------------------------------------------------------------------------------


async def test_a_message_larger_than_a_pipe_holds_arrives_whole_and_is_answered_whole(serve: Serve) -> None:
    big = "é" * 200_000  # 400 kB of UTF-8: several pipe buffers, under the limit
    async with serve(table_with(("echo", echo, Padded))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "echo", "params": {"pad": big}})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": {"pad": big}}


async def test_messages_sent_back_to_back_are_each_answered_once(serve: Serve) -> None:
    async with serve(table_with(("echo", echo, Padded))) as (client, _):
        await client.initialize()
        for n in range(20):
            await client.send({"id": n, "method": "echo", "params": {"pad": str(n)}})
        answers = [await client.receive() for _ in range(20)]
        assert await client.answers_until_probe() == []
    assert sorted(answer["id"] for answer in answers) == list(range(20))
    assert all(answer["result"] == {"pad": str(answer["id"])} for answer in answers)


# -- concurrency --------------------------------------------------------------------------------


async def test_a_slow_request_does_not_hold_up_a_fast_one(serve: Serve) -> None:
    release = anyio.Event()

    async def slow(_ctx: Context, _params: None) -> str:
        await release.wait()
        return "slow"

    async def fast(_ctx: Context, _params: None) -> str:
        return "fast"

    async with serve(table_with(("slow", slow, None), ("fast", fast, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "slow"})
        await client.send({"id": 2, "method": "fast"})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 2, "result": "fast"}
        release.set()
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": "slow"}


async def test_requests_pipelined_behind_initialize_see_it_completed(serve: Serve) -> None:
    async def fast(_ctx: Context, _params: None) -> str:
        return "fast"

    async with serve(table_with(("fast", fast, None))) as (client, _):
        await client.send({"id": 1, "method": "initialize", "params": INIT})
        await client.send({"id": 2, "method": "fast"})
        first, second = await client.receive(), await client.receive()
    assert "result" in first
    assert second["result"] == "fast"


async def test_a_cancelled_request_is_never_answered(serve: Serve) -> None:
    started = anyio.Event()

    async def forever(_ctx: Context, _params: None) -> None:
        started.set()
        await anyio.sleep_forever()

    async with serve(table_with(("forever", forever, None))) as (client, connection):
        await client.initialize()
        await client.send({"id": 1, "method": "forever"})
        with anyio.fail_after(5):
            await started.wait()
        assert connection.cancel_request(1)
        assert await client.answers_until_probe() == []


async def test_an_immediate_request_waits_for_the_host_to_be_built(transport: str, home: Path) -> None:
    services = ContractServices(home, built=False)

    def now(ctx: Context, _params: None) -> bool:
        return ctx.services.built

    async with serving(transport, table_with(("now", now, None)), services) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "now"})
        assert await client.answers_until_probe() == []  # waiting for the build
        services.build()
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": True}
        await client.send({"id": 2, "method": "now"})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 2, "result": True}


async def test_the_initialized_notification_warms_the_host_up_once_initialize_is_answered(
    serve: Serve, services: ContractServices
) -> None:
    async with serve(method_table()) as (client, _):
        await client.send({"method": "initialized"})
        await client.send({"id": "early", "method": "no/such"})
        assert await client.receive() == {
            "jsonrpc": "2.0",
            "id": "early",
            "error": {"code": codes.NOT_INITIALIZED, "message": "Not initialized"},
        }
        assert services.warm_ups == 0
        await client.initialize()
        await client.send({"method": "initialized"})
        assert await client.answers_until_probe() == []
        assert services.warm_ups == 1


# -- server->client requests --------------------------------------------------------------------


async def ask_client(ctx: Context, _params: None) -> Any:
    return await ctx.connection.request("item/tool/requestUserInput", {"question": "ok?"}, timeout=5)


async def test_a_server_request_returns_the_clients_result_to_the_waiting_handler(serve: Serve) -> None:
    async with serve(table_with(("ask", ask_client, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        server_request = await client.receive()
        assert server_request["method"] == "item/tool/requestUserInput"
        assert server_request["params"] == {"question": "ok?"}
        await client.send({"jsonrpc": "2.0", "id": server_request["id"], "result": {"answer": "yes"}})
        assert await client.receive() == {"jsonrpc": "2.0", "id": 1, "result": {"answer": "yes"}}


async def test_answers_to_concurrent_server_requests_reach_the_handler_that_asked(serve: Serve) -> None:
    async def ask(ctx: Context, params: Padded) -> Any:
        return await ctx.connection.request("item/tool/requestUserInput", {"question": params.pad}, timeout=5)

    async with serve(table_with(("ask", ask, Padded))) as (client, _):
        await client.initialize()
        await client.send({"id": "a", "method": "ask", "params": {"pad": "first"}})
        await client.send({"id": "b", "method": "ask", "params": {"pad": "second"}})
        asked = {
            message["params"]["question"]: message["id"] for message in [await client.receive() for _ in "ab"]
        }
        await client.send({"id": asked["second"], "result": "for second"})
        await client.send({"id": asked["first"], "result": "for first"})
        answers = {message["id"]: message["result"] for message in [await client.receive() for _ in "ab"]}
    assert answers == {"a": "for first", "b": "for second"}


async def test_a_server_request_answered_with_an_error_raises_client_request_error(serve: Serve) -> None:
    caught: list[ClientRequestError] = []

    async def ask(ctx: Context, _params: None) -> None:
        try:
            await ctx.connection.request("item/tool/requestUserInput", None, timeout=5)
        except ClientRequestError as exc:
            caught.append(exc)

    async with serve(table_with(("ask", ask, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        server_request = await client.receive()
        await client.send({"id": server_request["id"], "error": {"code": -1, "message": "declined"}})
        assert (await client.receive())["id"] == 1
    assert caught[0].client_code == -1
    assert caught[0].client_message == "declined"


async def test_an_unanswered_server_request_times_out_with_a_request_failed_error(serve: Serve) -> None:
    async def ask(ctx: Context, _params: None) -> Any:
        return await ctx.connection.request("item/tool/requestUserInput", None, timeout=0.05)

    async with serve(table_with(("ask", ask, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "ask"})
        await client.receive()  # the server request, left unanswered
        answer = await client.receive()
    assert answer["error"]["code"] == codes.REQUEST_FAILED
    assert "item/tool/requestUserInput" in answer["error"]["message"]


async def test_a_response_matching_no_pending_request_is_dropped_and_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send({"jsonrpc": "2.0", "id": 12345, "result": {}})
        assert await client.answers_until_probe() == []
    assert "matches no pending request" in caplog.text


# -- notifications ------------------------------------------------------------------------------


async def test_notifications_carry_emitted_at_and_honour_opt_outs(
    serve: Serve, services: ContractServices
) -> None:
    async with serve(method_table()) as (client, _):
        services.events.publish(ConfigWarningNotification(summary="early"))  # before initialize: not sent
        await client.initialize({"optOutNotificationMethods": ["configWarning"]})
        services.events.publish(ConfigWarningNotification(summary="opted out"))
        services.events.publish(WarningNotification(message="hi"))
        note = await client.receive()
        assert await client.answers_until_probe() == []
    assert note["method"] == "warning"
    assert note["params"]["message"] == "hi"
    assert isinstance(note["emittedAtMs"], int)  # in the envelope, beside method and params
    assert "emittedAtMs" not in note["params"]


# -- errors -------------------------------------------------------------------------------------


async def test_an_internal_error_is_answered_generically_and_logged(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_ctx: Context, _params: None) -> None:
        raise RuntimeError("token=sk-secret at /srv/private")

    async with serve(table_with(("broken", broken, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "broken"})
        answer = await client.receive()
    assert answer["error"] == {"code": codes.INTERNAL_ERROR, "message": "Internal error"}
    assert "sk-secret" in caplog.text


async def test_domain_errors_go_on_the_wire_with_their_code_and_message(serve: Serve) -> None:
    async def picky(_ctx: Context, _params: None) -> None:
        raise InvalidParams("unknown server `x`", data={"server": "x"})

    async with serve(table_with(("picky", picky, None))) as (client, _):
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


async def takes(_ctx: Context, params: Outer) -> int:
    return params.inner.count


async def test_pydantic_params_errors_name_the_field_path_without_the_input(serve: Serve) -> None:
    async with serve(table_with(("takes", takes, Outer))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "takes", "params": {"inner": {"count": "not-a-number"}}})
        answer = await client.receive()
        await client.send({"id": 2, "method": "takes", "params": {"inner": {"count": 3}}})
        assert (await client.receive())["result"] == 3
    assert answer["error"]["code"] == codes.INVALID_PARAMS
    assert "inner.count" in answer["error"]["message"]
    assert "not-a-number" not in answer["error"]["message"]


@pytest.mark.parametrize("params", [[1], "x", 5, True])
async def test_params_that_are_not_an_object_are_invalid_params(serve: Serve, params: Any) -> None:
    async with serve(table_with(("takes", takes, Outer))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "takes", "params": params})
        answer = await client.receive()
    assert answer["error"] == {
        "code": codes.INVALID_PARAMS,
        "message": "Invalid params: params must be an object",
    }


async def test_a_method_without_params_accepts_null_or_empty_and_rejects_others(serve: Serve) -> None:
    async def bare(_ctx: Context, params: None) -> bool:
        return params is None

    async with serve(table_with(("bare", bare, None))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "bare", "params": None})
        await client.send({"id": 2, "method": "bare", "params": {}})
        await client.send({"id": 3, "method": "bare", "params": {"x": 1}})
        answers = {answer["id"]: answer for answer in [await client.receive() for _ in range(3)]}
    assert answers[1]["result"] is True
    assert answers[2]["result"] is True
    assert answers[3]["error"]["code"] == codes.INVALID_PARAMS


async def test_a_failed_initialize_can_be_retried(serve: Serve) -> None:
    async with serve(method_table()) as (client, _):
        await client.send({"id": 1, "method": "initialize", "params": {}})
        assert (await client.receive())["error"]["code"] == codes.INVALID_PARAMS
        await client.initialize()
        await client.send({"id": 2, "method": "initialize", "params": INIT})
        assert (await client.receive())["error"] == {
            "code": codes.NOT_INITIALIZED,
            "message": "Already initialized",
        }


BAD_INPUT_AFTER_INITIALIZE = [
    ("malformed JSON", "{bad", codes.PARSE_ERROR, None),
    ("blank line", "", codes.PARSE_ERROR, None),
    ("two objects in one message", '{"id":1,"method":"a"}{"id":2,"method":"b"}', codes.PARSE_ERROR, None),
    ("a string", '"hello"', codes.INVALID_REQUEST, None),
    ("a number", "42", codes.INVALID_REQUEST, None),
    ("null", "null", codes.INVALID_REQUEST, None),
    ("missing method", '{"jsonrpc":"2.0","id":3}', codes.INVALID_REQUEST, 3),
    ("method not a string", '{"id":4,"method":7}', codes.INVALID_REQUEST, 4),
    ("float id", '{"id":1.5,"method":"initialize"}', codes.INVALID_REQUEST, None),
    ("object id", '{"id":{},"method":"initialize"}', codes.INVALID_REQUEST, None),
    ("bool id", '{"id":true,"method":"initialize"}', codes.INVALID_REQUEST, None),
    ("any jsonrpc value is ignored", '{"jsonrpc":"1.0","id":5,"method":"x"}', codes.METHOD_NOT_FOUND, 5),
    ("empty batch", "[]", codes.INVALID_REQUEST, None),
    ("unknown method", '{"jsonrpc":"2.0","id":6,"method":"no/such"}', codes.METHOD_NOT_FOUND, 6),
    ("no jsonrpc member", '{"id":7,"method":"no/such"}', codes.METHOD_NOT_FOUND, 7),
    ("trailing CR and spaces", '{"id":8,"method":"no/such"}  \r', codes.METHOD_NOT_FOUND, 8),
    ("lone surrogate escape in the id", '{"id":"\\ud800","method":"x"}', codes.METHOD_NOT_FOUND, "\ud800"),
    ("second initialize", '{"id":9,"method":"initialize","params":{}}', codes.NOT_INITIALIZED, 9),
]


@pytest.mark.parametrize(
    ("text", "code", "request_id"),
    [case[1:] for case in BAD_INPUT_AFTER_INITIALIZE],
    ids=[case[0] for case in BAD_INPUT_AFTER_INITIALIZE],
)
async def test_bad_input_is_answered_with_the_spec_error_and_the_connection_lives_on(
    serve: Serve, text: str, code: int, request_id: Any
) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send_text(text)
        answers = await client.answers_until_probe()
    assert len(answers) == 1, answers
    assert_well_formed(answers[0])
    assert answers[0]["error"]["code"] == code
    assert answers[0]["id"] == request_id


@pytest.mark.parametrize("transport", BYTE_TRANSPORTS, indirect=True)
async def test_a_message_that_is_not_utf8_is_a_parse_error_and_the_connection_lives_on(serve: Serve) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send_bytes(b'{"id":1,"method":"\xed\xa0\x80"}')  # an encoded lone surrogate
        answers = await client.answers_until_probe()
    assert answers == [
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": codes.PARSE_ERROR, "message": "Parse error: message is not valid UTF-8"},
        }
    ]


async def test_a_message_over_the_size_limit_is_refused_without_reaching_its_handler(serve: Serve) -> None:
    handled: list[str] = []

    async def record(_ctx: Context, params: Padded) -> None:
        handled.append(params.pad)

    async with serve(table_with(("record", record, Padded))) as (client, _):
        await client.initialize()
        await client.send({"id": 1, "method": "record", "params": {"pad": "x" * MAX_MESSAGE_BYTES}})
        if client.closes_on_oversized:  # a WebSocket frame cannot be skipped: the connection closes
            with pytest.raises(EOFError, match="closed with 1009"):
                await client.receive()
        else:
            assert await client.answers_until_probe() == [
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": codes.INVALID_REQUEST, "message": "Invalid request: message too large"},
                }
            ]
    assert handled == []


async def test_a_batch_is_answered_with_an_array_of_its_requests_answers(serve: Serve) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send_text(
            '[{"id":21,"method":"no/such"},{"method":"just/a/notification"},5,{"id":22,"method":"x"}]'
        )
        (answer,) = await client.answers_until_probe()
    assert_well_formed(answer)
    assert sorted((item["id"] or 0, item["error"]["code"]) for item in answer) == [
        (0, codes.INVALID_REQUEST),
        (21, codes.METHOD_NOT_FOUND),
        (22, codes.METHOD_NOT_FOUND),
    ]


async def test_a_batch_of_only_notifications_gets_no_answer(serve: Serve) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send_text('[{"method":"a"},{"method":"b"}]')
        assert await client.answers_until_probe() == []


async def test_duplicate_ids_are_both_answered(serve: Serve) -> None:
    async with serve(method_table()) as (client, _):
        await client.initialize()
        await client.send({"id": 30, "method": "no/such"})
        await client.send({"id": 30, "method": "other"})
        answers = await client.answers_until_probe()
    assert [answer["id"] for answer in answers] == [30, 30]


# -- overload (the connection's own policy: shown over memory, where the client's reading is held) --


async def test_a_full_outbound_queue_rejects_new_requests_as_overloaded(services: ContractServices) -> None:
    async with memory_serving(method_table(), services, buffer_size=0, max_outbound_messages=2) as (
        client,
        connection,
    ):
        await client.initialize()
        services.events.publish(WarningNotification(message="0"))
        await anyio.wait_all_tasks_blocked()  # the writer now holds n=0, blocked on the unread client
        for n in range(1, 6):
            services.events.publish(
                WarningNotification(message=str(n))
            )  # 1 and 2 fill the queue; 3-5 dropped
        await client.send({"id": 7, "method": "no/such"})
        # Unbuffered: this second send completes only once the reader has finished with request 7.
        await client.send({"method": "sync"})
        received = [await client.receive()]
        while "id" not in received[-1]:
            received.append(await client.receive())
    assert [message["params"]["message"] for message in received[:-1]] == ["0", "1", "2"]
    assert connection.dropped_notifications == 3
    assert received[-1] == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": codes.SERVER_OVERLOADED, "message": "Server overloaded; retry later."},
    }
