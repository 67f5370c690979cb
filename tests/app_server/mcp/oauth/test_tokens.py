"""Stored tokens in use: refreshed ahead of expiry and once on a 401, cleared on invalid_grant."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest

from app_server.config.servers import HttpServerConfig
from tests.app_server.mcp.oauth.harness import WAIT, call_whoami, expiring_in, log_in, running_service
from tests.fixtures.oauth.server import FixtureAuthority, serve_oauth_server, token_fingerprint

pytestmark = pytest.mark.anyio

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def _refreshes(authority: FixtureAuthority) -> list[dict[str, list[str]]]:
    return [form for form in authority.token_requests if form.get("grant_type") == ["refresh_token"]]


async def test_a_token_expiring_within_30_seconds_is_refreshed_before_use_keeping_the_resource(
    home: Path,
) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)
        first = harness.store.update("docs", config.url, expiring_in(20))
        whoami = await call_whoami(harness.service, "docs", config)
        stored = harness.store.load("docs", config.url)

    assert first is not None and first.tokens is not None
    assert stored is not None and stored.tokens is not None
    assert stored.tokens.access_token != first.tokens.access_token
    assert whoami["token"] == token_fingerprint(stored.tokens.access_token.get_secret_value())
    refreshes = _refreshes(authority)
    assert len(refreshes) == 1
    assert refreshes[0]["resource"] == [f"{base}/mcp"]


async def test_a_401_refreshes_once_and_retries_with_the_new_token(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)
        await call_whoami(harness.service, "docs", config)
        authority.expire_access_tokens()
        whoami = await call_whoami(harness.service, "docs", config)
        stored = harness.store.load("docs", config.url)

    assert stored is not None and stored.tokens is not None
    assert whoami["token"] == token_fingerprint(stored.tokens.access_token.get_secret_value())
    assert len(_refreshes(authority)) == 1


async def test_concurrent_requests_share_one_refresh(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)
        harness.store.update("docs", config.url, expiring_in(20))
        answers: list[int] = []

        async def ping() -> None:
            async with httpx2.AsyncClient(auth=harness.service.auth_for("docs", config)) as http:
                response = await http.post(
                    config.url, json=PING, headers={"Accept": "application/json, text/event-stream"}
                )
                answers.append(response.status_code)

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as tg:
                for _ in range(4):
                    tg.start_soon(ping)

    assert 401 not in answers
    assert len(_refreshes(authority)) == 1


async def test_a_refresh_refused_with_invalid_grant_clears_the_tokens_and_reads_not_logged_in(
    home: Path,
) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)
        authority.refuse_refresh = True
        authority.expire_access_tokens()
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=harness.service.auth_for("docs", config)) as http:
                refused = await http.post(config.url, json=PING)
        status = harness.service.auth_status("docs", config)
        stored = harness.store.load("docs", config.url)

    assert refused.status_code == 401
    assert status == "notLoggedIn"
    assert stored is not None and stored.tokens is None
    assert stored.client["client_id"]


async def test_a_server_using_a_bearer_env_var_gets_no_oauth_auth(home: Path) -> None:
    async with running_service(home) as harness:
        config = HttpServerConfig(url="http://127.0.0.1:9/mcp", bearer_token_env_var="TOKEN")
        assert harness.service.auth_for("docs", config) is None
