"""Every message the real daemon writes is exactly the wire form of its registry model.

A scripted session (thread start, a turn whose MCP call needs approval and reports progress, a
reload, an OAuth login, a direct tool call, status and the other reads) is recorded whole; each
response, notification and server request must validate against the model `protocol.registry`
names for its method and come back unchanged when that model writes it again. A key the model
has but the message lacks, or one the message has that the model does not know, fails it.
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
from tests.support.config import MODEL_KEY_ENV, fixture_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

SCRIPT = [
    {"tool_calls": [{"name": "mcp__fix__whoami"}, {"name": "mcp__fix__progress", "arguments": {"steps": 2}}]},
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


async def test_every_message_of_a_full_session_is_its_registry_models_wire_form(home: Path) -> None:
    async with (
        serve_oauth_server(FixtureAuthority()) as oauth_base,
        ScriptedModelServer(Script.model_validate({"steps": SCRIPT})) as model,
    ):
        fix = fixture_server(
            "fix", default_tools_approval_mode="prompt", tools={"progress": {"approval_mode": "approve"}}
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
                {"threadId": thread_id, "input": [{"type": "text", "text": "go", "text_elements": []}]},
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
            await daemon.call("mcpServer/views/read", {})
            await daemon.call("app/list", {})
            await daemon.drain()

    methods = {m.get("method") for m in daemon.received if isinstance(m, dict)}
    assert {
        "item/mcpToolCall/progress",
        "serverRequest/resolved",
        "mcpServer/startupStatus/updated",
    } <= methods
    problems = [
        problem for message in daemon.received for problem in shape_problems(message, daemon.sent_methods)
    ]
    assert problems == [], "\n".join(problems)
