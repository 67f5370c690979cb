"""Asking the client: tool-call approvals (`needs_approval`, then via the daemon) and server elicitations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.config.servers import StdioServerConfig
from app_server.mcp.catalog import ToolRef
from app_server.threads.approvals import (
    NEVER_ASK_MESSAGE,
    ApprovalKey,
    approval_mode,
    approval_request,
    decision_of,
    needs_approval,
    remember_key,
)
from tests.app_server.threads.turn_harness import TurnDaemon, turn_daemon
from tests.support.config import elicit_server, example_server

ELICITATION = "mcpServer/elicitation/request"

READ_ONLY = {"readOnlyHint": True}
DESTRUCTIVE = {"readOnlyHint": False, "destructiveHint": True}
NOT_DESTRUCTIVE = {"readOnlyHint": False, "destructiveHint": False}


def config(default: str | None = None, per_tool: str | None = None) -> StdioServerConfig:
    tools = {"write_note": {"approval_mode": per_tool}} if per_tool else {}
    return StdioServerConfig.model_validate(
        {"command": "x", "default_tools_approval_mode": default, "tools": tools}
    )


# ---- needs_approval ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "annotations", "asks"),
    [
        ("approve", None, False),
        ("approve", DESTRUCTIVE, False),
        ("prompt", None, True),
        ("prompt", READ_ONLY, True),
        ("auto", None, True),
        ("auto", {}, True),
        ("auto", DESTRUCTIVE, True),
        ("auto", READ_ONLY, False),
        ("auto", {**DESTRUCTIVE, "readOnlyHint": True}, True),
        ("auto", NOT_DESTRUCTIVE, True),
        ("auto", {**NOT_DESTRUCTIVE, "openWorldHint": True}, True),
        ("auto", {**NOT_DESTRUCTIVE, "openWorldHint": False}, False),
        ("auto", {"openWorldHint": False}, True),
        ("writes", None, True),
        ("writes", DESTRUCTIVE, True),
        ("writes", NOT_DESTRUCTIVE, True),
        ("writes", READ_ONLY, False),
    ],
)
def test_approval_mode_and_annotations_decide_whether_a_call_asks(
    mode: str, annotations: dict[str, Any] | None, asks: bool
) -> None:
    assert needs_approval(approval_mode(config(default=mode), "write_note"), annotations) is asks


def test_without_any_mode_a_tool_is_judged_by_auto() -> None:
    assert approval_mode(config(), "write_note") == "auto"


def test_a_per_tool_mode_overrides_the_server_default_for_that_tool_only() -> None:
    server = config(default="prompt", per_tool="approve")
    assert approval_mode(server, "write_note") == "approve"
    assert approval_mode(server, "echo") == "prompt"
    assert approval_mode(config(default="approve", per_tool="prompt"), "write_note") == "prompt"


# ---- the request and the answer, as Codex builds and reads them --------------------------------


CALENDAR_TOOL = {
    "name": "create_event",
    "title": "Create Event",
    "description": "Create a calendar event.",
    "inputSchema": {"type": "object"},
    "_meta": {
        "connector_id": "calendar",
        "connector_name": "Calendar",
        "connector_description": "Manage events and schedules.",
    },
}


def test_an_app_tools_request_names_its_connector_in_codexs_keys_and_order() -> None:
    ref = ToolRef("codex_apps", "create_event", CALENDAR_TOOL)
    key = remember_key(ref, "auto")
    assert key is not None
    params = approval_request(
        thread_id="t", turn_id="u", ref=ref, arguments={"title": "Roadmap", "at": 1}, rememberable=True
    )
    assert params.message == 'Allow Calendar to run tool "create_event"?'
    assert list(params.to_wire()["_meta"].items()) == [
        ("codex_approval_kind", "mcp_tool_call"),
        ("persist", ["session", "always"]),
        ("tool_title", "Create Event"),
        ("tool_description", "Create a calendar event."),
        ("source", "connector"),
        ("connector_id", "calendar"),
        ("connector_name", "Calendar"),
        ("connector_description", "Manage events and schedules."),
        ("tool_params", {"title": "Roadmap", "at": 1}),
        (
            "tool_params_display",
            [
                {"name": "at", "value": 1, "display_name": "at"},
                {"name": "title", "value": "Roadmap", "display_name": "title"},
            ],
        ),
    ]


def test_a_choice_is_remembered_only_for_auto_tools_and_app_tools_of_a_connector() -> None:
    ref = ToolRef("demo", "write_note", {"name": "write_note"})
    assert remember_key(ref, "auto") == ApprovalKey("demo", None, "write_note")
    assert remember_key(ref, "writes") is None
    assert remember_key(ref, "prompt") is None
    assert remember_key(ToolRef("codex_apps", "create_event", {"name": "create_event"}), "auto") is None
    # Only codex_apps may name a connector (the catalog strips the keys of other servers' tools).
    assert (
        "source"
        not in (
            approval_request(
                thread_id="t",
                turn_id="u",
                ref=ToolRef("demo", "x", CALENDAR_TOOL),
                arguments={},
                rememberable=False,
            ).to_wire()["_meta"]
        )
    )


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ({"action": "accept"}, "accept"),
        ({"action": "accept", "content": {}, "_meta": {"persist": "session"}}, "session"),
        ({"action": "accept", "_meta": {"persist": "always"}}, "always"),
        ({"action": "accept", "_meta": {"persist": "forever"}}, "accept"),
        ({"action": "decline", "_meta": {"persist": "always"}}, "decline"),
        ({"action": "cancel"}, "cancel"),
        ({"action": "maybe"}, "decline"),
        (None, "decline"),
    ],
)
def test_the_clients_answer_says_whether_and_how_long_to_allow(answer: Any, decision: str) -> None:
    assert decision_of(answer) == decision


# ---- approvals through the daemon --------------------------------------------------------------


def write_note_step(**arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": "mcp__demo__write_note", "arguments": arguments}]}


async def elicitation_for(turns: TurnDaemon, thread_id: str) -> dict[str, Any]:
    request: dict[str, Any] = await turns.daemon.next_message(
        lambda m: m.get("method") == ELICITATION and "id" in m and m["params"]["threadId"] == thread_id
    )
    return request


async def answer(turns: TurnDaemon, request: dict[str, Any], result: dict[str, Any]) -> None:
    """Answer a server request, then see it announced as resolved under the same request id."""
    await turns.daemon.respond(request["id"], result)
    resolved = await turns.daemon.next_notification("serverRequest/resolved")
    assert resolved["params"]["requestId"] == request["id"]
    assert resolved["params"]["threadId"] == request["params"]["threadId"]


WRITE_NOTE_DESCRIPTION = (
    "Write the note `name`, replacing any note already there; it is readable as a resource."
)

ANSWERS = [
    ("accept", "completed", None),
    ("decline", "failed", {"message": "user rejected MCP tool call"}),
    ("cancel", "failed", {"message": "user cancelled MCP tool call"}),
]


@pytest.mark.anyio
async def test_a_destructive_tool_runs_only_as_the_client_answers_its_approval(home: Path) -> None:
    script: list[dict[str, Any]] = []
    for index in range(len(ANSWERS)):
        script += [write_note_step(text="hello", name=f"n{index}"), {"text": "done"}]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        thread_id = await turns.start_thread()
        for index, (action, status, error) in enumerate(ANSWERS):
            turn_id = await turns.start_turn(thread_id)

            request = await elicitation_for(turns, thread_id)
            params = request["params"]
            assert params["turnId"] == turn_id
            assert params["serverName"] == "demo"
            assert params["mode"] == "form"
            assert params["message"] == 'Allow the demo MCP server to run tool "write_note"?'
            assert list(params["_meta"].items()) == [
                ("codex_approval_kind", "mcp_tool_call"),
                ("persist", ["session", "always"]),
                ("tool_description", WRITE_NOTE_DESCRIPTION),
                ("tool_params", {"text": "hello", "name": f"n{index}"}),
                (
                    "tool_params_display",
                    [
                        {"name": "name", "value": f"n{index}", "display_name": "name"},
                        {"name": "text", "value": "hello", "display_name": "text"},
                    ],
                ),
            ]
            await answer(turns, request, {"action": action, "content": None})

            item = await turns.item_completed(f"call_{2 * index}_0")
            assert (item["status"], item["error"]) == (status, error), action
            if action == "accept":
                assert item["result"]["content"][0]["text"] == f"demo://notes/n{index}"
            else:
                assert item["result"] is None
            assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_policy_never_fails_a_call_that_needs_approval_without_asking(home: Path) -> None:
    # Had the daemon asked, the turn would wait for an answer this test never gives.
    script: list[dict[str, Any]] = [write_note_step(text="hello"), {"text": "done"}]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        thread_id = await turns.start_thread(approvalPolicy="never")
        turn_id = await turns.start_turn(thread_id)

        item = await turns.item_completed("call_0_0")
        assert item["status"] == "failed"
        assert item["error"] == {"message": NEVER_ASK_MESSAGE}
        assert NEVER_ASK_MESSAGE == "MCP tool call requires approval, but approval policy is never"
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_approval_policy_never_in_config_toml_is_the_thread_default_and_fails_such_a_call(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [write_note_step(text="hello"), {"text": "done"}]
    servers = {"demo": example_server()}
    async with turn_daemon(
        home, script, servers, approval_policy="never", sandbox_mode="workspace-write"
    ) as turns:
        started = await turns.daemon.call("thread/start", {"cwd": str(turns.workdir)})
        assert started["approvalPolicy"] == "never"
        assert started["sandbox"]["type"] == "workspaceWrite"
        turn_id = await turns.start_turn(started["thread"]["id"])
        item = await turns.item_completed("call_0_0")
        assert (item["status"], item["error"]) == ("failed", {"message": NEVER_ASK_MESSAGE})
        assert (await turns.turn_completed(turn_id))["status"] == "completed"
        warnings = turns.daemon.untaken()
        assert not [m for m in warnings if m.get("method") == "configWarning"], "the keys are known"


@pytest.mark.anyio
async def test_a_read_only_tool_runs_without_asking(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "mcp__demo__echo", "arguments": {"text": "hi"}}]},
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"demo": example_server()}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)

        item = await turns.item_completed("call_0_0")
        assert item["status"] == "completed", item
        assert item["result"]["content"][0]["text"] == "hi"
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_a_per_tool_mode_overrides_the_server_default_through_the_daemon(home: Path) -> None:
    # The server prompts for everything, even read-only echo; write_note alone is pre-approved.
    server = example_server(
        default_tools_approval_mode="prompt", tools={"write_note": {"approval_mode": "approve"}}
    )
    script: list[dict[str, Any]] = [
        {
            "tool_calls": [
                {"name": "mcp__demo__write_note", "arguments": {"text": "x"}},
                {"name": "mcp__demo__echo", "arguments": {"text": "hi"}},
            ]
        },
        {"text": "done"},
    ]
    async with turn_daemon(home, script, {"demo": server}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)

        request = await elicitation_for(turns, thread_id)
        assert request["params"]["message"] == 'Allow the demo MCP server to run tool "echo"?'
        assert "persist" not in request["params"]["_meta"], "a tool set to prompt asks every time"
        assert (await turns.item_completed("call_0_0"))["status"] == "completed"
        await answer(turns, request, {"action": "accept"})
        assert (await turns.item_completed("call_0_1"))["status"] == "completed"
        assert (await turns.turn_completed(turn_id))["status"] == "completed"


# ---- elicitations initiated by an MCP server ---------------------------------------------------


REPLIES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"action": "accept", "content": {"name": "Ada"}}, {"action": "accept", "name": "Ada"}),
    ({"action": "decline", "content": None}, {"action": "decline", "name": None}),
]


@pytest.mark.anyio
async def test_a_server_elicitation_reaches_the_turns_client_and_its_answer_goes_back(home: Path) -> None:
    script: list[dict[str, Any]] = [{"tool_calls": [{"name": "mcp__el__ask_name"}]}, {"text": "done"}] * len(
        REPLIES
    )
    async with turn_daemon(home, script, {"el": elicit_server()}) as turns:
        thread_id = await turns.start_thread()
        for index, (reply, told_server) in enumerate(REPLIES):
            turn_id = await turns.start_turn(thread_id)

            request = await elicitation_for(turns, thread_id)
            params = request["params"]
            assert params["turnId"] == turn_id
            assert params["serverName"] == "el"
            assert params["mode"] == "form"
            assert params["message"] == "What is your name?"
            assert params["requestedSchema"]["properties"]["name"]["type"] == "string"
            assert "codex_approval_kind" not in (params.get("_meta") or {})
            await answer(turns, request, reply)

            item = await turns.item_completed(f"call_{2 * index}_0")
            assert item["status"] == "completed", item
            assert item["result"]["structuredContent"] == told_server
            assert (await turns.turn_completed(turn_id))["status"] == "completed"


@pytest.mark.anyio
async def test_an_open_server_elicitation_is_withdrawn_when_its_turn_is_interrupted(home: Path) -> None:
    # The server keeps its question open after the call is cancelled: only the daemon can withdraw it.
    script: list[dict[str, Any]] = [{"tool_calls": [{"name": "mcp__el__ask_name_regardless"}]}]
    async with turn_daemon(home, script, {"el": elicit_server()}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        request = await elicitation_for(turns, thread_id)

        await turns.daemon.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
        resolved = await turns.daemon.next_notification("serverRequest/resolved")
        assert resolved["params"]["requestId"] == request["id"]
        assert (await turns.item_completed("call_0_0"))["error"] == {"message": "interrupted"}
        assert (await turns.turn_completed(turn_id))["status"] == "interrupted"
