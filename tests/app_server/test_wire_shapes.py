"""Every message the real daemon writes is exactly the wire form of its registry model.

A scripted session (thread start, a turn whose MCP call needs approval and reports progress, a
reload, an OAuth login, a direct tool call, status and the other reads, an account login) is
recorded whole; each response, notification and server request must validate against the model
`protocol.registry` names for its method and come back unchanged when that model writes it again.
A key the model has but the message lacks, or one the message has that the model does not know,
fails it.

Each message is also checked, recursively, against its Codex TS type (the generated key list,
tests/protocol/codex_wire_keys.json): every required key present, null only where allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from protocol.registry import NOTIFICATIONS, REQUESTS, SERVER_REQUESTS
from tests.app_server.mcp.oauth.harness import follow_authorization
from tests.fixtures.oauth.server import FixtureAuthority, serve_oauth_server
from tests.protocol.wire_keys import KeyList, key_list
from tests.support.config import MODEL_KEY_ENV, fixture_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

SCRIPT = [
    {
        "tool_calls": [
            {"name": "mcp__fix__whoami"},
            {"name": "mcp__fix__progress", "arguments": {"steps": 2}},
            {"name": "mcp__fix__widget"},
        ]
    },
    {"text": "done"},
]


class RecordingDaemon(Daemon):
    """A Daemon that keeps every message it received and the method of every request it sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[Any] = []
        self.sent_methods: dict[Any, str] = {}

    async def send(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message and "id" in message:
            self.sent_methods[message["id"]] = message["method"]
        await super().send(message)

    async def next_message(self, matches: Callable[[Any], bool] = lambda _m: True) -> Any:
        message = await super().next_message(matches)
        self.received.append(message)
        return message

    async def drain(self) -> None:
        """Close stdin and take every message still to come, until the daemon closes stdout."""
        await self.close_stdin()
        try:
            while True:
                await self.next_message()
        except EOFError:
            return


def shape_problems(message: Any, sent_methods: dict[Any, str]) -> list[str]:
    """Why `message` is not exactly its registry model's wire form (empty when it is)."""
    if not isinstance(message, dict):
        return [f"not an object: {message!r:.200}"]
    method = message.get("method")
    if method is not None and "id" in message:
        model, payload, what = SERVER_REQUESTS[method], message.get("params"), f"server request {method}"
        written = model.model_validate(payload).to_wire()
    elif method is not None:
        payload, what = message.get("params"), f"notification {method}"
        if not isinstance(message.get("emittedAtMs"), int):
            return [f"{what}: no emittedAtMs beside its params"]
        written = NOTIFICATIONS[method].model_validate(payload).to_wire()
    elif "error" in message:
        error = message["error"]
        ok = (
            isinstance(error, dict)
            and isinstance(error.get("code"), int)
            and isinstance(error.get("message"), str)
        )
        return [] if ok else [f"malformed error {error!r:.200}"]
    else:
        method = sent_methods[message["id"]]
        payload, what = message["result"], f"result of {method}"
        written = REQUESTS[method].parse_result(payload).to_wire()
    return [] if written == payload else [f"{what}: sent {payload!r:.600}\n  model writes {written!r:.600}"]


def binding_type(message: Any, sent_methods: dict[Any, str], keys: KeyList) -> tuple[str, str, Any] | None:
    """(what the message is, its TS type, the payload to check), or None for errors and our extensions."""
    method = message.get("method")
    if method is not None and "id" in message:
        return f"server request {method}", keys.data["serverRequests"][method]["params"], message["params"]
    if method is not None:
        payload = message.get("params")
        return f"notification {method}", keys.data["notifications"][method], payload
    if "error" in message:
        return None
    method = sent_methods[message["id"]]
    if method in keys.data["notInBindings"]:
        return None
    return f"result of {method}", keys.data["requests"][method]["result"], message["result"]


def key_problems(message: Any, sent_methods: dict[Any, str], keys: KeyList) -> list[str]:
    """Where `message` lacks a key its TS type requires (or holds a value the type refuses)."""
    found = binding_type(message, sent_methods, keys)
    if found is None:
        return []
    what, type_name, payload = found
    return [f"{what} ({type_name}): {problem}" for problem in keys.problems(payload, type_name)]


async def record_session(home: Path) -> RecordingDaemon:
    """The scripted session, run to the end; the daemon's every message is in `received`."""
    async with (
        serve_oauth_server(FixtureAuthority()) as oauth_base,
        ScriptedModelServer(Script.model_validate({"steps": SCRIPT})) as model,
    ):
        fix = fixture_server(
            "fix",
            default_tools_approval_mode="prompt",
            tools={"progress": {"approval_mode": "approve"}, "widget": {"approval_mode": "approve"}},
        )
        write_config(
            home,
            {"fix": fix, "protected": {"url": f"{oauth_base}/mcp"}},
            model_url=model.base_url,
            mcp_oauth_credentials_store="file",
            features={"apps": False},
        )
        async with RecordingDaemon.start(home, env={MODEL_KEY_ENV: "scripted"}, max_wait=30) as daemon:
            await daemon.initialize()
            started = await daemon.call("thread/start", {"cwd": str(home)})
            thread_id = started["thread"]["id"]
            turn = await daemon.call(
                "turn/start",
                {
                    "threadId": thread_id,
                    "input": [{"type": "text", "text": "go", "text_elements": []}],
                    "clientUserMessageId": "client-1",
                },
            )
            approval = await daemon.next_server_request("mcpServer/elicitation/request")
            await daemon.respond(approval["id"], {"action": "accept", "content": {}, "_meta": None})
            await daemon.next_message(
                lambda m: (
                    m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn["turn"]["id"]
                )
            )
            await daemon.call("config/mcpServer/reload")
            login = await daemon.call("mcpServer/oauth/login", {"name": "protected"})
            assert (await follow_authorization(login["authorizationUrl"])).status_code == 200
            await daemon.next_notification("mcpServer/oauthLogin/completed")
            await daemon.call(
                "mcpServer/tool/call", {"server": "fix", "tool": "echo", "arguments": {"text": "hi"}}
            )
            await daemon.call("mcpServer/resource/read", {"server": "fix", "uri": "fixture://info"})
            await daemon.call("mcpServerStatus/list", {})
            await daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
            await daemon.call("thread/list", {})
            await daemon.call("thread/resume", {"threadId": thread_id})
            await daemon.call("account/read", {})
            await daemon.call("account/login/start", {"type": "apiKey", "apiKey": "sk-wire-shapes"})
            await daemon.next_notification("account/login/completed")
            await daemon.call("mcpServer/views/read", {})
            await daemon.call("app/list", {})
            await daemon.drain()

    return daemon


async def test_every_message_of_a_full_session_is_its_registry_models_wire_form(home: Path) -> None:
    daemon = await record_session(home)

    methods = {m.get("method") for m in daemon.received if isinstance(m, dict)}
    assert {
        "item/mcpToolCall/progress",
        "serverRequest/resolved",
        "mcpServer/startupStatus/updated",
        "thread/status/changed",
        "thread/tokenUsage/updated",
        "account/login/completed",
    } <= methods
    problems = [
        problem for message in daemon.received for problem in shape_problems(message, daemon.sent_methods)
    ]
    assert problems == [], "\n".join(problems)


async def test_every_message_of_a_full_session_has_every_key_its_codex_type_requires(home: Path) -> None:
    daemon = await record_session(home)
    keys = key_list()

    checked = {
        found[1]
        for message in daemon.received
        if isinstance(message, dict) and (found := binding_type(message, daemon.sent_methods, keys))
    }
    problems = [
        problem for message in daemon.received for problem in key_problems(message, daemon.sent_methods, keys)
    ]

    assert {
        "ThreadStartResponse",
        "ItemCompletedNotification",
        "McpServerElicitationRequestParams",
        "ThreadStatusChangedNotification",
        "ThreadTokenUsageUpdatedNotification",
        "AccountLoginCompletedNotification",
    } <= checked
    assert problems == [], "\n".join(problems)
