"""Where a server's question goes, and SEP-1034 defaults: an accepted form answer is completed from
its requested schema's defaults."""

from __future__ import annotations

from typing import Any, cast

import anyio
import mcp_types as types
import pytest

from app_server.mcp.elicitation import CallBudget, ElicitationRouter, Elicitor, with_defaults
from app_server.mcp.server_log import ServerLog
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, http_server, turn_daemon
from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.elicit_server import ORDER_SCHEMA, build_server
from tests.fixtures.mcp_servers.eras import http_app

ELICITATION = "mcpServer/elicitation/request"

FORM = types.ElicitRequestFormParams(message="Your order?", requested_schema=ORDER_SCHEMA)
NO_CONTEXT = cast(Any, None)
"""The SDK's request context, which routing does not read."""


def asker(label: str, asked: list[str]) -> Elicitor:
    async def elicit(_question: dict[str, Any]) -> Any:
        asked.append(label)
        return {"action": "accept", "content": {"name": label}}

    return elicit


@pytest.mark.anyio
async def test_a_question_from_a_task_no_call_sent_goes_to_the_latest_call_that_can_ask() -> None:
    router, asked = ElicitationRouter(ServerLog()), []
    reader_may_ask, reader_done = anyio.Event(), anyio.Event()

    async def stdio_reader() -> None:
        await reader_may_ask.wait()
        await router.answer(NO_CONTEXT, FORM)
        reader_done.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(stdio_reader)
            older, newer = asker("older", asked), asker("newer", asked)
            with router.routed_to(older, CallBudget(10)), router.routed_to(newer, CallBudget(10)):
                reader_may_ask.set()
                await reader_done.wait()

    assert asked == ["newer"]


@pytest.mark.anyio
async def test_a_question_on_the_stream_of_a_call_that_cannot_ask_is_declined() -> None:
    router, asked = ElicitationRouter(ServerLog()), []
    with router.routed_to(asker("other", asked), CallBudget(10)), router.routed_to(None, CallBudget(10)):
        answer = await router.answer(NO_CONTEXT, FORM)

    assert answer.action == "decline"
    assert asked == []


def answered(action: str, content: dict[str, Any] | None) -> types.ElicitResult:
    return with_defaults(FORM, types.ElicitResult.model_validate({"action": action, "content": content}))


def test_an_accepted_answer_gets_the_default_of_each_field_left_out() -> None:
    assert answered("accept", {"name": "Ada"}).content == {"name": "Ada", "size": "medium", "count": 1}


def test_a_field_the_user_gave_keeps_the_users_value() -> None:
    given = {"name": "Ada", "size": "large", "count": 3}
    assert answered("accept", given).content == given


def test_an_accepted_answer_with_no_content_gets_every_default() -> None:
    assert answered("accept", None).content == {"size": "medium", "count": 1}


@pytest.mark.parametrize("action", ["decline", "cancel"])
def test_an_answer_that_does_not_accept_is_left_alone(action: str) -> None:
    assert answered(action, None).content is None


def test_a_url_mode_answer_is_left_alone() -> None:
    url = types.ElicitRequestURLParams(
        message="Sign in", url="https://auth.example.test", elicitation_id="e1"
    )
    assert with_defaults(url, types.ElicitResult(action="accept")).content is None


@pytest.mark.anyio
async def test_over_http_each_question_reaches_the_call_whose_stream_it_came_on(tmp_path: Any) -> None:
    """Two calls on one shared HTTP connection ask at the same time: the app level's question and the
    thread's each go to their own call (the latest-call rule of stdio would send both to one)."""
    app = http_app(build_server(), "legacy")
    async with (
        serve_asgi(lambda _base_url: app) as base_url,
        turn_daemon(tmp_path, [], {"el": http_server(f"{base_url}/mcp")}) as turns,
    ):
        thread_id = await turns.start_thread()
        daemon = turns.daemon
        meet = {"tool": "meet_then_ask", "arguments": {"group": "both", "expect": 2, "patience": 20}}
        results: dict[str, Any] = {}

        async def call(label: str, params: dict[str, Any]) -> None:
            results[label] = await daemon.request("mcpServer/tool/call", {"server": "el", **meet, **params})

        with anyio.fail_after(DEFAULT_WAIT):
            async with anyio.create_task_group() as group:
                group.start_soon(call, "thread", {"threadId": thread_id})
                group.start_soon(call, "app", {})
                for _ in range(2):
                    question = await daemon.next_server_request(ELICITATION)
                    asker = "thread" if question["params"].get("threadId") == thread_id else "app"
                    answer = {"action": "accept", "content": {"name": asker}, "_meta": None}
                    await daemon.respond(question["id"], answer)

        for label in ("thread", "app"):
            assert results[label]["result"]["structuredContent"] == {"action": "accept", "name": label}
