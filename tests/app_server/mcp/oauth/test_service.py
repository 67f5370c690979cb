"""The OAuth service end to end against a real authorization server + protected MCP server on 127.0.0.1."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest

from app_server.config.servers import HttpServerConfig, OAuthClientConfig, StdioServerConfig
from app_server.errors import InvalidParams, RequestFailed
from app_server.mcp.oauth.callback import SUCCESS_PAGE
from app_server.mcp.oauth.login import LoginSettings
from app_server.mcp.oauth.tokens import TokenKeeper
from tests.app_server.mcp.oauth.harness import (
    WAIT,
    call_whoami,
    expiring_in,
    follow_authorization,
    free_port,
    log_in,
    running_service,
)
from tests.fixtures.oauth.server import (
    FixtureAuthority,
    serve_oauth_server,
    serve_plain_server,
    token_fingerprint,
)

pytestmark = pytest.mark.anyio


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def test_login_completes_stores_tokens_and_the_tool_call_carries_the_bearer(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")

        started = await harness.service.start_login("docs", config, thread_id="thr_1")
        query = _query(started.authorization_url)
        assert query["code_challenge_method"] == ["S256"]
        assert query["resource"] == [f"{base}/mcp"]
        page = await follow_authorization(started.authorization_url)
        completion = await harness.next_completion()

        assert page.status_code == 200
        assert page.text == SUCCESS_PAGE
        assert completion == {
            "name": "docs",
            "threadId": "thr_1",
            "loginId": started.login_id,
            "success": True,
        }
        assert harness.refreshed == ["docs"]
        assert harness.service.auth_status("docs", config) == "oAuth"
        stored = harness.store.load("docs", config.url)
        assert stored is not None and stored.tokens is not None
        assert stored.resources == (f"{base}/mcp",)
        whoami = await call_whoami(harness.service, "docs", config)
        assert whoami == {
            "subject": "fixture-user",
            "token": token_fingerprint(stored.tokens.access_token.get_secret_value()),
        }


async def test_a_second_login_reuses_the_stored_client_registration(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        for _ in range(2):
            await log_in(harness, "docs", config)

    assert authority.registrations == 1
    assert len({params.redirect_uri for params in authority.authorize_requests}) == 1


async def test_a_login_without_a_callback_times_out(home: Path) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        started = await harness.service.start_login("docs", config, timeout_secs=0.5)
        completion = await harness.next_completion()

        assert completion["loginId"] == started.login_id
        assert completion["success"] is False
        assert completion["error"] == (
            "OAuth login for MCP server 'docs' failed: no authorization callback arrived within the login's "
            "timeout of 0.5 s (callback timeout)"
        )
        assert harness.service.auth_status("docs", config) == "notLoggedIn"  # its discovery met a 401


async def test_callbacks_with_a_bad_state_or_wrong_path_are_rejected_and_the_login_keeps_waiting(
    home: Path,
) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        started = await harness.service.start_login("docs", config, timeout_secs=WAIT)
        redirect_uri = _query(started.authorization_url)["redirect_uri"][0]
        callback = urlsplit(redirect_uri)
        async with httpx2.AsyncClient() as browser:
            forged = await browser.get(redirect_uri, params={"code": "stolen", "state": "forged"})
            wrong_path = await browser.get(
                f"{callback.scheme}://{callback.netloc}/elsewhere",
                params={"code": "c", "state": _query(started.authorization_url)["state"][0]},
            )
        page = await follow_authorization(started.authorization_url)
        completion = await harness.next_completion()

        assert forged.status_code == 400
        assert wrong_path.status_code == 404
        assert page.status_code == 200
        assert completion["success"] is True


async def test_a_configured_callback_port_is_the_redirect_port(home: Path) -> None:
    port = free_port()
    async with (
        serve_oauth_server(FixtureAuthority()) as base,
        running_service(home, LoginSettings(callback_port=port)) as harness,
    ):
        started = await harness.service.start_login("docs", HttpServerConfig(url=f"{base}/mcp"))
        await follow_authorization(started.authorization_url)

        assert _query(started.authorization_url)["redirect_uri"] == [f"http://127.0.0.1:{port}/callback"]
        assert (await harness.next_completion())["success"] is True


async def test_a_configured_callback_url_is_the_exact_redirect_uri_and_its_path_is_served(home: Path) -> None:
    callback_url = f"http://127.0.0.1:{free_port()}/oauth/return"
    async with (
        serve_oauth_server(FixtureAuthority()) as base,
        running_service(home, LoginSettings(callback_url=callback_url)) as harness,
    ):
        started = await harness.service.start_login("docs", HttpServerConfig(url=f"{base}/mcp"))
        page = await follow_authorization(started.authorization_url)

        assert _query(started.authorization_url)["redirect_uri"] == [callback_url]
        assert page.text == SUCCESS_PAGE
        assert (await harness.next_completion())["success"] is True


async def test_scopes_prefer_the_request_then_the_server_config_even_when_empty(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        configured = HttpServerConfig(url=f"{base}/mcp", scopes=("read",))
        unscoped = HttpServerConfig(url=f"{base}/mcp", scopes=())
        discovered = HttpServerConfig(url=f"{base}/mcp")

        by_request = await harness.service.start_login("docs", configured, scopes=["read", "write"])
        by_config = await harness.service.start_login("docs", configured)
        empty = await harness.service.start_login("docs", unscoped)
        by_discovery = await harness.service.start_login("docs", discovered)

    assert _query(by_request.authorization_url)["scope"] == ["read write"]
    assert _query(by_config.authorization_url)["scope"] == ["read"]
    assert "scope" not in _query(empty.authorization_url)
    assert _query(by_discovery.authorization_url)["scope"] == ["read"]


async def test_a_new_login_for_the_same_server_supersedes_the_pending_one(home: Path) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        first = await harness.service.start_login("docs", config)
        second = await harness.service.start_login("docs", config)
        superseded = await harness.next_completion()
        await follow_authorization(second.authorization_url)
        completed = await harness.next_completion()

    assert superseded["loginId"] == first.login_id
    assert superseded["success"] is False
    assert completed == {"name": "docs", "threadId": None, "loginId": second.login_id, "success": True}


async def test_cimd_registration_is_refused_when_the_server_or_config_cannot_serve_it(home: Path) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        with pytest.raises(RequestFailed, match="client metadata document registration is not possible"):
            await harness.service.start_login(
                "docs", HttpServerConfig(url=f"{base}/mcp"), client_registration="cimd"
            )


async def test_oauth_resource_is_sent_on_the_authorization_token_and_refresh_requests(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp", oauth_resource="https://api.example/")
        started = await log_in(harness, "docs", config)
        harness.store.update("docs", config.url, expiring_in(0))
        with anyio.fail_after(WAIT):
            await TokenKeeper(harness.store, "docs", config.url).bearer()

    both = [f"{base}/mcp", "https://api.example/"]
    assert _query(started.authorization_url)["resource"] == both
    exchange, refresh = authority.token_requests
    assert exchange["grant_type"] == ["authorization_code"] and exchange["resource"] == both
    assert refresh["grant_type"] == ["refresh_token"] and refresh["resource"] == both


async def test_chosen_scopes_are_registered_for_and_a_registration_is_reused_only_when_it_covers_them(
    home: Path,
) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        for scopes in (["read"], ["read", "write"], ["write"]):
            await log_in(harness, "docs", config, scopes=scopes)

    assert [client.scope for client in authority.registered] == ["read", "read write"]
    asked = [params.scopes for params in authority.authorize_requests]
    assert asked == [["read"], ["read", "write"], ["write"]]


async def test_a_server_that_resolves_client_metadata_documents_gets_the_configured_url_as_client_id(
    home: Path,
) -> None:
    document = "https://app.example/oauth/client.json"
    port = free_port()
    authority = FixtureAuthority(metadata_documents={document: [f"http://127.0.0.1:{port}/callback"]})
    settings = LoginSettings(callback_port=port, client_metadata_url=document)
    async with serve_oauth_server(authority) as base, running_service(home, settings) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        started = await log_in(harness, "docs", config)
        stored = harness.store.load("docs", config.url)
        by_dcr = await harness.service.start_login("docs", config, client_registration="dcr")

    assert _query(started.authorization_url)["client_id"] == [document]
    assert stored is not None and stored.client["client_id"] == document
    assert authority.token_requests[0]["client_id"] == [document]
    assert authority.registrations == 1
    assert _query(by_dcr.authorization_url)["client_id"] != [document]


async def test_login_refuses_unknown_stdio_plain_and_unreachable_servers(home: Path) -> None:
    async with serve_plain_server() as plain, running_service(home) as harness:
        service = harness.service
        with pytest.raises(InvalidParams, match=r"No MCP server named 'ghost' found\."):
            await service.start_login("ghost", None)
        with pytest.raises(InvalidParams, match="only supported for streamable HTTP servers"):
            await service.start_login("local", StdioServerConfig(command="true"))
        with pytest.raises(RequestFailed, match="'plain' does not advertise OAuth"):
            await service.start_login("plain", HttpServerConfig(url=f"{plain}/mcp"))
        with pytest.raises(RequestFailed, match="'gone' could not be reached"):
            await service.start_login("gone", HttpServerConfig(url=f"http://127.0.0.1:{free_port()}/mcp"))


async def test_auth_status_comes_from_config_and_the_store_without_any_request(home: Path) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        status = harness.service.auth_status
        url = f"{base}/mcp"
        pre_registered = HttpServerConfig(url=url, oauth=OAuthClientConfig(client_id="known"))

        assert status("local", StdioServerConfig(command="true")) == "unsupported"
        assert status("plain", HttpServerConfig(url=url)) == "unsupported"
        assert status("env", HttpServerConfig(url=url, bearer_token_env_var="TOKEN")) == "bearerToken"
        assert status("known", pre_registered) == "notLoggedIn"
        assert authority.requests == []
        (home / ".credentials.json").write_text("not json")
        assert status("plain", HttpServerConfig(url=url)) == "unknown"


async def test_logout_deletes_the_stored_credentials(home: Path) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        started = await harness.service.start_login("docs", config)
        await follow_authorization(started.authorization_url)
        await harness.next_completion()

        assert await harness.service.logout("docs", config) is True
        assert await harness.service.logout("docs", config) is False
        assert harness.service.auth_status("docs", config) == "unsupported"  # nothing seen since


async def test_no_token_text_reaches_any_log_line_or_error(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    authority = FixtureAuthority(access_token_ttl=1)
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        started = await harness.service.start_login("docs", config)
        await follow_authorization(started.authorization_url)
        await harness.next_completion()
        await call_whoami(harness.service, "docs", config)
        authority.refuse_refresh = True
        authority.expire_access_tokens()
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=harness.service.auth_for("docs", config)) as http:
                refused = await http.post(config.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        timed_out = await harness.service.start_login("docs", config, timeout_secs=0.2)
        errors = [await harness.next_completion()]

    assert refused.status_code == 401
    assert len(authority.issued) >= 4
    text = caplog.text + repr(errors) + repr(timed_out)
    assert "docs" in text
    assert not [token for token in authority.issued if token in text]


async def test_a_refused_request_reads_not_logged_in_and_a_login_makes_it_oauth(home: Path) -> None:
    async with serve_oauth_server(FixtureAuthority()) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient(auth=harness.service.auth_for("docs", config)) as http:
                refused = await http.post(config.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        after_refusal = harness.service.auth_status("docs", config)
        await log_in(harness, "docs", config)

        assert refused.status_code == 401
        assert after_refusal == "notLoggedIn"
        assert harness.service.auth_status("docs", config) == "oAuth"
