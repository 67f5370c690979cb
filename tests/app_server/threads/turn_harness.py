"""Harness for daemon turn tests: a scripted model, config.toml with MCP servers, the real stdio daemon.

    script = [{"tool_calls": [{"name": "mcp__fix__whoami"}]}, {"text": "done"}]
    async with turn_daemon(home, script, {"fix": fixture_server("A")}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        item = await turns.item_completed("call_0_0")
        assert answered_by(item).label == "A"
        await turns.turn_completed(turn_id)

The scripted model's calls get ids `call_<step>_<index>`. Servers are `[mcp_servers.*]` tables as
dicts (see tests/support/config.py); the ones built here, `fixture_server` (the mcp SDK fixture,
all its tools), `cheap_server` (stdlib-only, starts in milliseconds, `whoami` only),
`elicit_server` and `http_server`, approve every tool, so no approval prompt interferes unless a
test asks for one. Thread servers start in `turns.workdir` (the app-level ones in the
daemon's home), which is how `server_pids` tells a thread's processes from the app cell's.
`http_fixture` serves the fixture server over streamable HTTP in the test's own event loop, so a
test can `release` a `block(key)` call on exactly that server, whatever the daemon's config says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from tests.fixtures.asgi import serve_asgi
from tests.fixtures.mcp_servers.eras import http_app
from tests.fixtures.mcp_servers.fixture_server import build_server
from tests.support import config, processes
from tests.support.config import APPROVE, MODEL_KEY_ENV, ServerTables, write_config
from tests.support.daemon import Daemon

DEFAULT_WAIT = 30.0
"""Seconds any one wait may take: generous, since a loaded 2-core box spawns SDK servers slowly."""


def fixture_server(label: str, *args: str, **options: Any) -> dict[str, Any]:
    """A stdio `[mcp_servers.X]` table running the fixture server named `label`, tools pre-approved."""
    return config.fixture_server(label, *args, **APPROVE, **options)


def cheap_server(label: str, *args: str, **options: Any) -> dict[str, Any]:
    """A stdio table running the stdlib-only server (starts in milliseconds unless `--start-delay`;
    one tool, `whoami`, answering its pid as text), tools pre-approved. `label` only names the
    process for `server_pids`."""
    return config.cheap_server(label, *args, **APPROVE, **options)


def elicit_server(**options: Any) -> dict[str, Any]:
    """The elicit fixture server (asks questions, counts cancellations), tools pre-approved."""
    return config.elicit_server(**APPROVE, **options)


def content_server(*args: str, **options: Any) -> dict[str, Any]:
    """The server whose tools return each kind of MCP content (`--extra-tools N`: N more tools),
    tools pre-approved."""
    return config.content_server(*args, **APPROVE, **options)


def http_server(url: str, **options: Any) -> dict[str, Any]:
    """A streamable HTTP `[mcp_servers.X]` table for `url`, tools pre-approved."""
    return {"url": url, **APPROVE, **options}


class Identity(NamedTuple):
    """Who answered a `whoami` call: the fixture server's label and its process id."""

    label: str
    pid: int


def answered_by(item: Mapping[str, Any]) -> Identity:
    """The identity in a completed fixture-server `whoami` mcpToolCall item (notification or thread/read)."""
    assert item["status"] == "completed", item
    structured = item["result"]["structuredContent"]
    return Identity(structured["label"], structured["pid"])


def answering_pid(item: Mapping[str, Any]) -> int:
    """The pid in a completed `whoami` mcpToolCall item of either fixture server."""
    assert item["status"] == "completed", item
    structured = item["result"].get("structuredContent")
    return int(structured["pid"] if structured else item["result"]["content"][0]["text"])


@dataclass
class TurnDaemon:
    """The running daemon, its scripted model and the paths the test configured."""

    daemon: Daemon
    model: ScriptedModelServer
    home: Path
    workdir: Path

    def configure(self, servers: ServerTables, **keys: Any) -> None:
        """Rewrite config.toml with these MCP servers and top-level `keys` (takes effect at the
        next `reload`)."""
        write_config(self.home, servers, model_url=self.model.base_url, **keys)

    async def reload(self) -> None:
        """`config/mcpServer/reload`, which answers `{}` once every cell has its new generation."""
        assert await self.daemon.call("config/mcpServer/reload", {}) == {}

    async def start_thread(self, **params: Any) -> str:
        """`thread/start` in `workdir`; returns the thread id."""
        result = await self.daemon.call("thread/start", {"cwd": str(self.workdir), **params})
        return str(result["thread"]["id"])

    async def start_turn(self, thread_id: str, text: str = "go") -> str:
        """`turn/start` with one text input; returns the turn id."""
        result = await self.daemon.call(
            "turn/start",
            {"threadId": thread_id, "input": [{"type": "text", "text": text, "text_elements": []}]},
        )
        return str(result["turn"]["id"])

    async def item_started(self, item_id: str) -> dict[str, Any]:
        return await self._item("item/started", item_id)

    async def item_completed(self, item_id: str) -> dict[str, Any]:
        return await self._item("item/completed", item_id)

    async def _item(self, method: str, item_id: str) -> dict[str, Any]:
        message = await self.daemon.next_message(
            lambda m: m.get("method") == method and m["params"]["item"]["id"] == item_id
        )
        return dict(message["params"]["item"])

    async def turn_completed(self, turn_id: str) -> dict[str, Any]:
        """The finished turn as `turn/completed` reports it."""
        message = await self.daemon.next_message(
            lambda m: m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn_id
        )
        return dict(message["params"]["turn"])

    async def read_items(self, thread_id: str) -> dict[str, dict[str, Any]]:
        """Every recorded item of the thread by id, as `thread/read` returns them."""
        result = await self.daemon.call("thread/read", {"threadId": thread_id, "includeTurns": True})
        return {item["id"]: item for turn in result["thread"]["turns"] for item in turn["items"]}

    async def server_ready(self, name: str, thread_id: str | None) -> None:
        """Wait for `mcpServer/startupStatus/updated` saying the thread's server `name` is ready
        (`thread_id` None: the app level's)."""
        await self.daemon.next_message(
            lambda m: (
                m.get("method") == "mcpServer/startupStatus/updated"
                and (m["params"]["name"], m["params"]["status"], m["params"].get("threadId"))
                == (name, "ready", thread_id)
            )
        )

    def server_pids(self, label: str) -> set[int]:
        """Live fixture or cheap server processes named `label` that the daemon started for a thread."""
        return set(processes.server_pids(self.daemon.process.pid, cwd=self.workdir).get(label, []))


@asynccontextmanager
async def turn_daemon(
    home: Path,
    script: list[dict[str, Any]],
    servers: ServerTables,
    *,
    max_wait: float = DEFAULT_WAIT,
    env: Mapping[str, str] | None = None,
    in_workdir: bool = False,
    **keys: Any,
) -> AsyncIterator[TurnDaemon]:
    """A scripted model playing `script` (a list of steps, see app_server/model/script.py), config.toml
    with `servers` and top-level `keys`, and an initialized daemon (`env`: more of its environment;
    `in_workdir`: the daemon runs in `workdir`, so its app level shares the threads' workspace)."""
    workdir = home / "work"
    workdir.mkdir(exist_ok=True)
    async with ScriptedModelServer(Script.model_validate({"steps": script})) as model:
        write_config(home, servers, model_url=model.base_url, **keys)
        environment = {MODEL_KEY_ENV: "scripted", **(env or {})}
        cwd = workdir if in_workdir else None
        async with Daemon.start(home, env=environment, max_wait=max_wait, cwd=cwd) as daemon:
            await daemon.initialize()
            yield TurnDaemon(daemon=daemon, model=model, home=home, workdir=workdir)


@dataclass
class HttpFixture:
    """The fixture server over streamable HTTP at `url`, served by the test's event loop."""

    label: str
    url: str

    async def release(self, key: str) -> None:
        """Call the server's `release(key)`, letting its pending `block(key)` calls answer."""
        async with (
            httpx2.AsyncClient() as http,
            Client(streamable_http_client(self.url, http_client=http), mode="legacy") as client,
        ):
            result = await client.call_tool("release", {"key": key})
        assert not result.is_error, result


@asynccontextmanager
async def http_fixture(label: str) -> AsyncIterator[HttpFixture]:
    """Serve the fixture server named `label` on 127.0.0.1 until the block exits."""
    app = http_app(build_server(label), "legacy")
    async with serve_asgi(lambda _base_url: app) as base_url:
        yield HttpFixture(label, f"{base_url}/mcp")
