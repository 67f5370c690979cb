"""`mcpServer/oauth/login` through the real daemon, against the fixture OAuth-protected MCP server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_server.mcp.oauth.credentials import FileCredentialStore
from protocol import errors as codes
from tests.app_server.handlers.servers import startup_until
from tests.app_server.mcp.oauth.harness import follow_authorization
from tests.fixtures.oauth.server import SUBJECT, FixtureAuthority, serve_oauth_server, token_fingerprint
from tests.support.config import cheap_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

LOGIN_COMPLETED = "mcpServer/oauthLogin/completed"


@dataclass
class Running:
    daemon: Daemon
    home: Path
    url: str


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """A daemon configured with the protected HTTP server (not logged in) and a stdio server."""
    home = tmp_path_factory.mktemp("home")
    async with serve_oauth_server(FixtureAuthority()) as base_url:
        url = f"{base_url}/mcp"
        write_config(
            home,
            {"protected": {"url": url}, "local": cheap_server("local")},
            mcp_oauth_credentials_store="file",
            features={"apps": False},
        )
        async with Daemon.start(home, max_wait=30) as daemon:
            await daemon.initialize()
            await daemon.call("mcpServerStatus/list", {})
            await startup_until(daemon, {"protected": "failed", "local": "ready"})
            yield Running(daemon, home, url)


async def status_of(daemon: Daemon, name: str) -> dict[str, Any]:
    result = await daemon.call("mcpServerStatus/list", {})
    (entry,) = [entry for entry in result["data"] if entry["name"] == name]
    return dict(entry)


async def test_a_completed_login_brings_the_server_up_with_its_tools_and_the_users_bearer(
    running: Running,
) -> None:
    daemon = running.daemon
    before = await status_of(daemon, "protected")
    assert before["runtimeStatus"] == "authenticationRequired"
    assert before["tools"] == {}

    started = await daemon.call("mcpServer/oauth/login", {"name": "protected"})
    assert started["authorizationUrl"].startswith(running.url.removesuffix("/mcp") + "/authorize?")
    callback = await follow_authorization(started["authorizationUrl"])
    assert callback.status_code == 200
    completed = await daemon.next_notification(LOGIN_COMPLETED)
    params = completed["params"]
    assert (params["name"], params["loginId"], params["success"]) == ("protected", started["loginId"], True)
    assert "error" not in params

    await startup_until(daemon, {"protected": "ready"})  # the login refreshed the servers by itself
    after = await status_of(daemon, "protected")
    assert (after["runtimeStatus"], after["authStatus"]) == ("connected", "oAuth")
    assert sorted(after["tools"]) == ["whoami", "write_note"]
    stored = FileCredentialStore(running.home / ".credentials.json").load("protected", running.url)
    assert stored is not None and stored.tokens is not None
    call = {"server": "protected", "tool": "whoami", "arguments": {}}
    called = await daemon.call("mcpServer/tool/call", call)
    assert called["structuredContent"] == {
        "subject": SUBJECT,
        "token": token_fingerprint(stored.tokens.access_token.get_secret_value()),
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("local", "OAuth login is only supported for streamable HTTP servers."),
        ("nope", "No MCP server named 'nope' found."),
    ],
)
async def test_login_is_refused_for_a_stdio_or_unknown_server(
    running: Running, name: str, message: str
) -> None:
    response = await running.daemon.request("mcpServer/oauth/login", {"name": name})

    assert response["error"]["code"] == codes.INVALID_PARAMS
    assert response["error"]["message"] == message


async def test_login_settings_follow_a_config_reload(running: Running) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = running.home / "config.toml"
    config.write_text(f"mcp_oauth_callback_port = {port}\n" + config.read_text())
    assert await running.daemon.call("config/mcpServer/reload", None) == {}

    started = await running.daemon.call("mcpServer/oauth/login", {"name": "protected"})

    redirect = parse_qs(urlsplit(started["authorizationUrl"]).query)["redirect_uri"]
    assert redirect == [f"http://127.0.0.1:{port}/callback"]
