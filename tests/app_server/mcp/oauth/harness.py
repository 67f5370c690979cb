"""Shared pieces of the OAuth tests: a running `OAuthService`, a scripted browser and an MCP tool call."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from anyio.streams.memory import MemoryObjectReceiveStream
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from app_server.config.servers import HttpServerConfig
from app_server.events import EventBus
from app_server.mcp.oauth.credentials import Change, FileCredentialStore, StoredCredentials
from app_server.mcp.oauth.login import LoginSettings
from app_server.mcp.oauth.service import LoginStarted, OAuthService
from tests.support.frontend import follow_authorization

WAIT = 15.0

LOGIN_COMPLETED = "mcpServer/oauthLogin/completed"


@dataclass
class Harness:
    service: OAuthService
    store: FileCredentialStore
    completions: MemoryObjectReceiveStream[dict[str, Any]]
    refreshed: list[str] = field(default_factory=list)

    async def next_completion(self) -> dict[str, Any]:
        with anyio.fail_after(WAIT):
            return await self.completions.receive()


@asynccontextmanager
async def running_service(home: Path, settings: LoginSettings | None = None) -> AsyncIterator[Harness]:
    """An `OAuthService` with a file store under `home`, its completions collected."""
    events = EventBus()
    send, receive = anyio.create_memory_object_stream[dict[str, Any]](100)
    events.subscribe(lambda method, params: send.send_nowait(params) if method == LOGIN_COMPLETED else None)
    store = FileCredentialStore(home / ".credentials.json")
    refreshed: list[str] = []

    async def on_login_success(name: str) -> None:
        refreshed.append(name)

    service = OAuthService(events, store, settings, on_login_success=on_login_success)
    async with send, receive, anyio.create_task_group() as tg:
        await tg.start(service.run)
        yield Harness(service, store, receive, refreshed)
        tg.cancel_scope.cancel()


async def call_whoami(service: OAuthService, name: str, config: HttpServerConfig) -> dict[str, Any]:
    """Call the fixture's `whoami` tool over a connection using the service's Auth."""
    with anyio.fail_after(WAIT):
        async with (
            httpx2.AsyncClient(auth=service.auth_for(name, config)) as http,
            Client(streamable_http_client(config.url, http_client=http), mode="legacy") as client,
        ):
            result = await client.call_tool("whoami", {})
    assert result.structured_content is not None
    return dict(result.structured_content)


async def log_in(
    harness: Harness, name: str, config: HttpServerConfig, *, scopes: list[str] | None = None
) -> LoginStarted:
    """Run a whole login for `config` and check that it succeeded; returns how it started."""
    started = await harness.service.start_login(name, config, scopes=scopes)
    await follow_authorization(started.authorization_url)
    completion = await harness.next_completion()
    assert completion["success"] is True, completion
    return started


def free_port() -> int:
    """A loopback port free right now (for a callback port a registration names in advance)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def expiring_in(seconds: float) -> Change:
    """A store change that makes the stored access token expire `seconds` from now."""

    def change(current: StoredCredentials | None) -> StoredCredentials | None:
        assert current is not None and current.tokens is not None
        tokens = current.tokens.model_copy(update={"expires_at": time.time() + seconds})
        return current.model_copy(update={"tokens": tokens})

    return change
