"""`mcpServer/oauth/login` through the real daemon, against the fixture OAuth-protected MCP server: the
login itself, the discovery layouts, pre-registered clients, step-up, failure reasons and the auth
status of the first listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_server.mcp.oauth.credentials import FileCredentialStore
from protocol import errors as codes
from tests.app_server.handlers.servers import startup_until
from tests.app_server.mcp.oauth.harness import follow_authorization, free_port
from tests.fixtures.oauth.server import (
    SUBJECT,
    FixtureAuthority,
    Layout,
    serve_oauth_server,
    token_fingerprint,
)
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
    port = free_port()
    config = running.home / "config.toml"
    config.write_text(f"mcp_oauth_callback_port = {port}\n" + config.read_text())
    assert await running.daemon.call("config/mcpServer/reload", None) == {}

    started = await running.daemon.call("mcpServer/oauth/login", {"name": "protected"})

    redirect = parse_qs(urlsplit(started["authorizationUrl"]).query)["redirect_uri"]
    assert redirect == [f"http://127.0.0.1:{port}/callback"]


@asynccontextmanager
async def protected_daemon(
    home: Path, authority: FixtureAuthority, **table: Any
) -> AsyncIterator[tuple[Daemon, str]]:
    """A daemon with the fixture server as `protected` (more keys of its table in `table`), started
    and initialized, the server's startup settled; yields it and the server's URL."""
    async with serve_oauth_server(authority) as base_url:
        url = f"{base_url}/mcp"
        write_config(
            home,
            {"protected": {"url": url, **table}},
            mcp_oauth_credentials_store="file",
            features={"apps": False},
        )
        async with Daemon.start(home, max_wait=30) as daemon:
            await daemon.initialize()
            yield daemon, url


async def log_in(daemon: Daemon) -> dict[str, Any]:
    """A whole login of `protected` (the browser included); the completion's params."""
    started = await daemon.call("mcpServer/oauth/login", {"name": "protected"})
    await follow_authorization(started["authorizationUrl"])
    completed = await daemon.next_notification(LOGIN_COMPLETED)
    return dict(completed["params"])


async def test_the_first_status_list_knows_the_auth_status_without_probing_the_server(tmp_path: Path) -> None:
    authority = FixtureAuthority()
    async with protected_daemon(tmp_path, authority) as (daemon, _url):
        first = await status_of(daemon, "protected")

    assert (first["runtimeStatus"], first["authStatus"]) == ("authenticationRequired", "notLoggedIn")
    assert [request for request in authority.requests if "well-known" in request] == []


@pytest.mark.parametrize("layout", ["custom-resource-metadata", "root-metadata", "no-metadata"])
async def test_a_login_brings_the_server_up_in_every_discovery_layout(tmp_path: Path, layout: Layout) -> None:
    async with protected_daemon(tmp_path, FixtureAuthority(layout=layout)) as (daemon, _url):
        await startup_until(daemon, {"protected": "failed"})
        completed = await log_in(daemon)
        await startup_until(daemon, {"protected": "ready"})
        after = await status_of(daemon, "protected")

    assert completed["success"] is True, completed
    assert (after["runtimeStatus"], after["authStatus"]) == ("connected", "oAuth")


async def test_a_pre_registered_client_logs_in_without_registering_and_its_secret_shows_nowhere(
    tmp_path: Path,
) -> None:
    port, secret = free_port(), "s3cret-of-the-client"
    authority = FixtureAuthority(token_auth_methods=["client_secret_post"])
    oauth = {"client_id": "app-1", "client_secret": secret}
    async with serve_oauth_server(authority) as base_url:
        authority.pre_register("app-1", secret, "client_secret_post", f"http://127.0.0.1:{port}/callback")
        write_config(
            tmp_path,
            {"protected": {"url": f"{base_url}/mcp", "oauth": oauth}},
            mcp_oauth_credentials_store="file",
            mcp_oauth_callback_port=port,
            features={"apps": False},
        )
        async with Daemon.start(tmp_path, max_wait=30) as daemon:
            await daemon.initialize()
            before = await status_of(daemon, "protected")
            completed = await log_in(daemon)
            await startup_until(daemon, {"protected": "ready"})
            views = await daemon.call("mcpServer/views/read", {})
            log = daemon.stderr_text

    assert before["authStatus"] == "notLoggedIn"
    assert completed["success"] is True, completed
    assert authority.registrations == 0
    assert [request["client_secret"] for request in authority.token_requests] == [[secret]]
    assert "<redacted>" in str(views)
    assert secret not in str(views) + log


async def test_a_403_insufficient_scope_names_the_scope_and_the_next_login_asks_for_more_on_a_new_connection(
    tmp_path: Path,
) -> None:
    authority = FixtureAuthority()
    call = {"server": "protected", "tool": "write_note", "arguments": {"text": "hi"}}
    async with protected_daemon(tmp_path, authority, scopes=["read"]) as (daemon, _url):
        await startup_until(daemon, {"protected": "failed"})
        await log_in(daemon)
        await startup_until(daemon, {"protected": "ready"})
        refused = await daemon.request("mcpServer/tool/call", call)
        after_refusal = await status_of(daemon, "protected")
        initializes = authority.requests.count("POST /mcp initialize")
        completed = await log_in(daemon)
        await startup_until(daemon, {"protected": "ready"})
        written = await daemon.call("mcpServer/tool/call", call)
        renewed = authority.requests.count("POST /mcp initialize") - initializes

    assert refused["error"]["message"] == (
        "MCP server `protected` refused tool `write_note`: it requires the OAuth scope `read write` "
        "(insufficient_scope); log in again (mcpServer/oauth/login) to grant it"
    )
    assert (after_refusal["runtimeStatus"], after_refusal["authStatus"]) == ("connected", "notLoggedIn")
    assert completed["success"] is True
    assert [params.scopes for params in authority.authorize_requests] == [["read"], ["read", "write"]]
    assert renewed == 1
    assert written["content"] == [{"type": "text", "text": "noted: hi"}]


async def test_a_failed_login_says_why_in_the_error_and_in_the_completion(tmp_path: Path) -> None:
    authority = FixtureAuthority(refuse_registration=True)
    async with protected_daemon(tmp_path, authority) as (daemon, _url):
        refused = await daemon.request("mcpServer/oauth/login", {"name": "protected"})
        authority.refuse_registration = False
        started = await daemon.call("mcpServer/oauth/login", {"name": "protected", "timeoutSecs": 1})
        completed = await daemon.next_notification(LOGIN_COMPLETED)

    assert refused["error"]["code"] == codes.REQUEST_FAILED
    assert refused["error"]["message"] == (
        "OAuth login for MCP server 'protected' failed: the authorization server refused the client "
        "registration (HTTP 403)"
    )
    assert completed["params"]["loginId"] == started["loginId"]
    assert completed["params"]["error"] == (
        "OAuth login for MCP server 'protected' failed: no authorization callback arrived within the "
        "login's timeout of 1 s (callback timeout)"
    )
