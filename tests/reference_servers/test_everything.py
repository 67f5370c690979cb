"""server-everything (npm: the MCP reference server that exercises every protocol feature) through the
real daemon, as a front-end uses it: every tool called once with arguments built from its input
schema, every resource read, its elicitation tools answered and its progress tool reporting
progress, in a direct call and in a turn.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import turn_daemon
from tests.support.config import APPROVE, write_config
from tests.support.daemon import Daemon
from tests.support.frontend import (
    accept_with_examples,
    call_tool,
    example_arguments,
    server_status,
    wait_settled,
)
from tests.support.tools import Tools

pytestmark = pytest.mark.anyio

SERVER = "everything"
WAIT = 30.0
"""Bound on each test's exchange with the daemon (a loaded 2-core box starts Node servers slowly)."""

ARGUMENTS: dict[str, dict[str, Any]] = {
    # Where an example built from the schema will not do.
    "gzip-file-as-resource": {"data": "data:text/plain;base64,aGVsbG8="},  # its default fetches a URL
    "trigger-long-running-operation": {"duration": 0.4, "steps": 2},  # its default takes 10 s
    "simulate-research-query": {"topic": "python", "ambiguous": True},  # its task asks to clarify
}
ASKING = {"trigger-elicitation-request", "trigger-url-elicitation", "simulate-research-query"}
"""Tools that ask the user (elicitation/create, form and URL mode) before they answer."""
ROOTS_TOOL = "get-roots-list"
"""Listed only to a client that advertises the roots capability."""
TOOLS = [
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
    "trigger-elicitation-request",
    "trigger-url-elicitation",
    "simulate-research-query",
    ROOTS_TOOL,
]
"""Every tool of the pinned server-everything."""

PENDING = {
    # TEMPORARY: each goes when its feature of issue 17 lands.
}


@dataclass
class Running:
    daemon: Daemon
    thread_id: str
    workdir: Path
    status: dict[str, Any]
    asked: list[dict[str, Any]] = field(default_factory=list)

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A direct call in the thread, recording each question asked and accepting it."""

        async def answer(params: dict[str, Any]) -> dict[str, Any]:
            self.asked.append(params)
            return await accept_with_examples(params)

        with anyio.fail_after(WAIT):
            return await call_tool(
                self.daemon, SERVER, tool, arguments, answer=answer, thread_id=self.thread_id
            )


@pytest.fixture(scope="module")
async def everything(third_party: Tools, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """A daemon with server-everything and one thread whose workspace is a fresh directory."""
    home = tmp_path_factory.mktemp("home")
    workdir = tmp_path_factory.mktemp("workspace")
    write_config(home, {SERVER: third_party.node_server("mcp-server-everything")}, features={"apps": False})
    async with Daemon.start(home, max_wait=WAIT) as daemon:
        await daemon.initialize()
        started = await daemon.call("thread/start", {"cwd": str(workdir)})
        thread_id = started["thread"]["id"]
        settled = await wait_settled(daemon, SERVER, thread_id)
        assert settled["status"] == "ready", settled
        yield Running(daemon, thread_id, workdir, await server_status(daemon, SERVER, thread_id))


def texts(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


async def test_every_tool_the_server_lists_is_one_called_here(everything: Running) -> None:
    assert set(everything.status["tools"]) - {ROOTS_TOOL} == set(TOOLS) - {ROOTS_TOOL}


@pytest.mark.parametrize(
    "tool",
    [
        pytest.param(
            tool, marks=[pytest.mark.xfail(strict=True, reason=PENDING[tool])] if tool in PENDING else []
        )
        for tool in TOOLS
    ],
)
async def test_the_tool_answers_a_direct_call(everything: Running, tool: str) -> None:
    assert tool in everything.status["tools"], sorted(everything.status["tools"])
    schema = everything.status["tools"][tool]["inputSchema"]
    everything.asked.clear()

    response = await everything.call(tool, example_arguments(schema, ARGUMENTS.get(tool)))

    assert "result" in response, response
    result = response["result"]
    assert not result.get("isError"), result
    if tool in ASKING:
        assert len(everything.asked) == 1, everything.asked
    if tool in ASKING - {"simulate-research-query"}:
        assert "✅" in texts(result), result
    if tool == "simulate-research-query":
        # It requires task-augmented execution: it ran as a task, whose question was answered.
        assert "# Research Report: python (" in texts(result), result
        assert "After receiving clarification" in texts(result), result
        statuses = [
            message["params"]["message"]
            for message in everything.daemon.untaken()
            if message.get("method") == "mcpServer/toolCall/progress" and message["params"]["tool"] == tool
        ]
        assert statuses and all(status.endswith("...") for status in statuses), statuses
    if tool == "trigger-elicitation-request":
        # Only the required field was filled in; the daemon added the schema's defaults (SEP-1034).
        assert "- Favorite Integer: 42" in texts(result), result
    if tool == ROOTS_TOOL:
        assert str(everything.workdir.resolve()) in texts(result), result


async def test_every_resource_and_template_reads(everything: Running) -> None:
    uris = [resource["uri"] for resource in everything.status["resources"]]
    uris += [
        template["uriTemplate"].replace("{resourceId}", "1")
        for template in everything.status["resourceTemplates"]
    ]
    assert len(uris) >= 9, uris

    with anyio.fail_after(WAIT):
        for uri in uris:
            read = await everything.daemon.call(
                "mcpServer/resource/read", {"server": SERVER, "uri": uri, "threadId": everything.thread_id}
            )
            (content,) = read["contents"]
            assert content["uri"] == uri
            assert content.get("text") or content.get("blob"), content


async def test_progress_of_a_direct_call_reaches_the_caller(everything: Running) -> None:
    before = len(everything.daemon.untaken())

    response = await everything.call("trigger-long-running-operation", {"duration": 0.4, "steps": 2})

    assert "result" in response, response
    arrived = [
        message
        for message in everything.daemon.untaken()[before:]
        if message.get("method") == "mcpServer/toolCall/progress"
    ]
    assert len(arrived) == 2, arrived


# ---- in a turn ---------------------------------------------------------------------------------


def model_calls(tool: str, **arguments: Any) -> list[dict[str, Any]]:
    """A script whose first step calls server-everything's `tool` and whose second says "done"."""
    name = "mcp__everything__" + tool.replace("-", "_")
    return [{"tool_calls": [{"name": name, "arguments": arguments}]}, {"text": "done"}]


async def test_progress_in_a_turn_reaches_the_front_end_as_item_progress(
    third_party: Tools, home: Path
) -> None:
    script = model_calls("trigger-long-running-operation", duration=0.4, steps=2)
    servers = {SERVER: third_party.node_server("mcp-server-everything", **APPROVE)}
    async with turn_daemon(home, script, servers, max_wait=WAIT) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)

        first = await turns.daemon.next_notification("item/mcpToolCall/progress")
        second = await turns.daemon.next_notification("item/mcpToolCall/progress")
        item = await turns.item_completed("call_0_0")
        await turns.turn_completed(turn_id)

    assert [first["params"]["itemId"], second["params"]["itemId"]] == ["call_0_0", "call_0_0"]
    assert item["status"] == "completed", item
    assert "Steps: 2" in texts(item["result"])


async def test_elicitation_in_a_turn_is_answered_by_the_front_end(third_party: Tools, home: Path) -> None:
    script = model_calls("trigger-elicitation-request")
    servers = {SERVER: third_party.node_server("mcp-server-everything", **APPROVE)}
    async with turn_daemon(home, script, servers, max_wait=WAIT) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)

        request = await turns.daemon.next_server_request("mcpServer/elicitation/request")
        await turns.daemon.respond(request["id"], {"action": "accept", "content": {"name": "Ada"}})
        item = await turns.item_completed("call_0_0")
        await turns.turn_completed(turn_id)

    assert (request["params"]["threadId"], request["params"]["serverName"]) == (thread_id, SERVER)
    assert request["params"]["mode"] == "form"
    assert item["status"] == "completed", item
    answer = texts(item["result"])
    assert "✅" in answer and "- Name: Ada" in answer, json.dumps(item["result"])
