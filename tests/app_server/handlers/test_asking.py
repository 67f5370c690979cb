"""A server's questions during a direct `mcpServer/tool/call` reach the connection that made the call
(real daemon over stdio, the elicit fixture server), form and URL mode, with and without a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import TurnDaemon, elicit_server, turn_daemon

pytestmark = pytest.mark.anyio

ELICITATION = "mcpServer/elicitation/request"


@pytest.fixture(scope="module")
async def turns(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TurnDaemon]:
    async with turn_daemon(tmp_path_factory.mktemp("home"), [], {"el": elicit_server()}) as running:
        yield running


async def call_answering(
    turns: TurnDaemon, params: dict[str, Any], answer: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make the direct call, answer the one question it asks with `answer`: (question, call result)."""
    daemon = turns.daemon
    response: dict[str, Any] = {}

    async def call() -> None:
        response.update(await daemon.request("mcpServer/tool/call", {"server": "el", **params}))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(call)
            question: dict[str, Any] = await daemon.next_server_request(ELICITATION)
            await daemon.respond(question["id"], answer)
    assert "result" in response, response
    return question, response["result"]


async def test_an_app_level_calls_question_reaches_its_client_without_a_thread(turns: TurnDaemon) -> None:
    accepted = {"action": "accept", "content": {"name": "Ada"}, "_meta": None}
    question, result = await call_answering(turns, {"tool": "ask_name"}, accepted)

    params = question["params"]
    assert "threadId" not in params
    assert params["turnId"] is None
    assert params["serverName"] == "el"
    assert params["mode"] == "form"
    assert params["message"] == "What is your name?"
    assert params["requestedSchema"]["properties"]["name"]["type"] == "string"
    assert result["structuredContent"] == {"action": "accept", "name": "Ada"}


async def test_a_thread_calls_question_carries_its_thread_and_is_resolved(turns: TurnDaemon) -> None:
    thread_id = await turns.start_thread()
    declined = {"action": "decline", "content": None, "_meta": None}
    question, result = await call_answering(turns, {"tool": "ask_name", "threadId": thread_id}, declined)

    assert question["params"]["threadId"] == thread_id
    assert question["params"]["turnId"] is None
    assert result["structuredContent"] == {"action": "decline", "name": None}
    resolved = await turns.daemon.next_notification("serverRequest/resolved")
    assert resolved["params"] == {"threadId": thread_id, "requestId": question["id"]}


async def test_a_url_mode_question_reaches_the_client_with_its_url(turns: TurnDaemon) -> None:
    accepted = {"action": "accept", "content": None, "_meta": None}
    question, result = await call_answering(turns, {"tool": "ask_url"}, accepted)

    params = question["params"]
    assert params["mode"] == "url"
    assert params["url"] == "https://auth.example.test/start"
    assert params["elicitationId"] == "sign-in-1"
    assert params["message"] == "Sign in to continue"
    assert result["structuredContent"] == {"result": "accept"}


@pytest.mark.parametrize(
    ("content", "told_server"),
    [
        ({"name": "Ada"}, {"name": "Ada", "size": "medium", "count": 1}),
        ({"name": "Ada", "size": "large"}, {"name": "Ada", "size": "large", "count": 1}),
    ],
)
async def test_an_accepted_form_reaches_the_server_with_the_schemas_defaults_filled_in(
    turns: TurnDaemon, content: dict[str, Any], told_server: dict[str, Any]
) -> None:
    accepted = {"action": "accept", "content": content, "_meta": None}
    question, result = await call_answering(turns, {"tool": "ask_order"}, accepted)

    assert question["params"]["requestedSchema"]["properties"]["size"]["default"] == "medium"
    assert result["structuredContent"] == {"action": "accept", "content": told_server}
