"""The login rules of the MCP authorization spec, through the OAuth service against the fixture
authorization server: discovery layouts, pre-registered clients, step-up, and why a login failed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.auth.exceptions import OAuthFlowError, OAuthRegistrationError, OAuthTokenError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthMetadata
from pydantic import AnyHttpUrl, SecretStr

from app_server.config.servers import HttpServerConfig, OAuthClientConfig
from app_server.errors import RequestFailed
from app_server.mcp.oauth.login import LoginSettings, failure_reason, token_auth_method
from app_server.mcp.oauth.service import OAuthService
from tests.app_server.mcp.oauth.harness import WAIT, call_whoami, free_port, log_in, running_service
from tests.fixtures.oauth.server import SUBJECT, FixtureAuthority, Layout, serve_oauth_server

pytestmark = pytest.mark.anyio


async def _call(service: OAuthService, config: HttpServerConfig, tool: str, **arguments: Any) -> bool:
    """Whether `tool` answered (False: the server refused the call over HTTP)."""
    with anyio.fail_after(WAIT):
        async with (
            httpx2.AsyncClient(auth=service.auth_for("docs", config)) as http,
            Client(streamable_http_client(config.url, http_client=http), mode="legacy") as client,
        ):
            try:
                await client.call_tool(tool, arguments)
            except Exception:
                return False
    return True


@pytest.mark.parametrize("layout", ["custom-resource-metadata", "root-metadata", "no-metadata"])
async def test_a_login_completes_in_every_discovery_layout(home: Path, layout: Layout) -> None:
    authority = FixtureAuthority(layout=layout)
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)

        assert (await call_whoami(harness.service, "docs", config))["subject"] == SUBJECT
    assert authority.registrations == 1


async def test_a_login_accepts_a_2025_03_26_issuer_under_the_servers_origin(home: Path) -> None:
    authority = FixtureAuthority(layout="root-metadata")
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        authority.issuer_override = f"{base}/oauth"
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config)

        assert (await call_whoami(harness.service, "docs", config))["subject"] == SUBJECT


@pytest.mark.parametrize(
    ("method", "secret"),
    [("client_secret_basic", "s3cret-basic"), ("client_secret_post", "s3cret-post"), ("none", None)],
)
async def test_a_pre_registered_client_logs_in_without_registering_using_the_advertised_auth_method(
    home: Path, caplog: pytest.LogCaptureFixture, method: str, secret: str | None
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    authority = FixtureAuthority(token_auth_methods=[method])
    async with (
        serve_oauth_server(authority) as base,
        running_service(home, LoginSettings(callback_port=port)) as harness,
    ):
        authority.pre_register("app-1", secret, method, f"http://127.0.0.1:{port}/callback")
        client = OAuthClientConfig(client_id="app-1", client_secret=SecretStr(secret) if secret else None)
        config = HttpServerConfig(url=f"{base}/mcp", oauth=client)
        started = await log_in(harness, "docs", config)

        assert (await call_whoami(harness.service, "docs", config))["subject"] == SUBJECT
    assert authority.registrations == 0
    assert "client_id=app-1" in started.authorization_url
    (token_request,) = authority.token_requests
    assert token_request.get("client_secret") == ([secret] if method == "client_secret_post" else None)
    assert secret is None or secret not in caplog.text + started.authorization_url


def _metadata(methods: list[str] | None) -> OAuthMetadata:
    return OAuthMetadata(
        issuer=AnyHttpUrl("https://as.example"),
        authorization_endpoint=AnyHttpUrl("https://as.example/authorize"),
        token_endpoint=AnyHttpUrl("https://as.example/token"),
        token_endpoint_auth_methods_supported=methods,
    )


@pytest.mark.parametrize(
    ("methods", "has_secret", "expected"),
    [
        (["client_secret_post", "client_secret_basic"], True, "client_secret_post"),
        (None, True, "client_secret_basic"),
        (["private_key_jwt", "none"], True, "none"),
        (["private_key_jwt"], True, "client_secret_basic"),
        (["client_secret_basic"], False, "none"),
    ],
)
def test_a_pre_registered_client_uses_the_first_advertised_method_it_can(
    methods: list[str] | None, has_secret: bool, expected: str
) -> None:
    assert token_auth_method(_metadata(methods), has_secret) == expected


async def test_after_a_403_insufficient_scope_the_next_login_asks_for_the_granted_and_required_scopes(
    home: Path,
) -> None:
    authority = FixtureAuthority()
    async with serve_oauth_server(authority) as base, running_service(home) as harness:
        config = HttpServerConfig(url=f"{base}/mcp")
        await log_in(harness, "docs", config, scopes=["read"])
        refused = not await _call(harness.service, config, "write_note", text="hi")
        status_after_refusal = harness.service.auth_status("docs", config)
        await log_in(harness, "docs", config)
        written = await _call(harness.service, config, "write_note", text="hi")

    assert refused and status_after_refusal == "notLoggedIn"
    assert [params.scopes for params in authority.authorize_requests] == [["read"], ["read", "write"]]
    assert written


@pytest.mark.parametrize("scopes", [None, ["read"]])
async def test_a_refused_registration_fails_the_login_with_its_http_status(
    home: Path, scopes: list[str] | None
) -> None:
    async with (
        serve_oauth_server(FixtureAuthority(refuse_registration=True)) as base,
        running_service(home) as harness,
    ):
        with pytest.raises(RequestFailed) as refused:
            await harness.service.start_login("docs", HttpServerConfig(url=f"{base}/mcp"), scopes=scopes)

    assert refused.value.message == (
        "OAuth login for MCP server 'docs' failed: the authorization server refused the client registration "
        "(HTTP 403)"
    )


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (
            OAuthFlowError("Authorization server metadata issuer mismatch: https://a/ != https://b/"),
            "the authorization server metadata names the issuer 'https://a/', not 'https://b/' "
            "(issuer mismatch)",
        ),
        (
            OAuthFlowError("Authorization response iss mismatch: https://a/ != https://b/"),
            "the authorization response came from another issuer (issuer mismatch)",
        ),
        (
            OAuthFlowError("Protected resource https://a/mcp does not match expected https://b/mcp"),
            "its protected resource metadata is for another server (resource mismatch)",
        ),
        (
            OAuthTokenError('Token exchange failed (400): {"error": "invalid_grant", "code": "c0de"}'),
            "the token endpoint refused the authorization code (HTTP 400)",
        ),
        (
            OAuthRegistrationError("Registration failed: 401 client secret s3cret rejected"),
            "the authorization server refused the client registration (HTTP 401)",
        ),
        (
            OAuthTokenError("Invalid token response: 1 validation error, input 123"),
            "the token endpoint answered with an invalid token response",
        ),
        (ValueError("s3cret"), "the authorization server refused the login"),
    ],
)
def test_a_failed_flow_says_why_without_the_servers_text(exc: Exception, reason: str) -> None:
    assert failure_reason(exc) == reason
