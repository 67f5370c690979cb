"""OAuth discovery before a login, against the fixture authorization server in each discovery layout."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from app_server.errors import RequestFailed
from app_server.mcp.oauth.discovery import OAuthDiscovery, discover_oauth
from tests.app_server.mcp.oauth.harness import WAIT
from tests.fixtures.oauth.server import (
    CUSTOM_RESOURCE_METADATA,
    FixtureAuthority,
    serve_oauth_server,
    serve_plain_server,
)

pytestmark = pytest.mark.anyio


async def _discover(authority: FixtureAuthority) -> tuple[str, OAuthDiscovery | None]:
    """Discovery of the fixture's `/mcp`; a refusal is raised once the fixture server has stopped."""
    refusal: RequestFailed | None = None
    async with serve_oauth_server(authority) as base:
        with anyio.fail_after(WAIT):
            async with httpx2.AsyncClient() as client:
                try:
                    discovery = await discover_oauth(client, "docs", f"{base}/mcp")
                except RequestFailed as exc:
                    refusal = exc
    if refusal is not None:
        raise refusal
    return base, discovery


async def test_the_resource_metadata_named_by_the_401_is_tried_before_the_well_known_paths() -> None:
    authority = FixtureAuthority(layout="custom-resource-metadata")
    base, discovery = await _discover(authority)

    assert discovery is not None and discovery.protected_resource is not None
    assert str(discovery.protected_resource.resource) == f"{base}/mcp"
    assert discovery.challenge is not None
    assert discovery.challenge.resource_metadata == f"{base}{CUSTOM_RESOURCE_METADATA}"
    assert authority.requests[:2] == ["POST /mcp ping", f"GET {CUSTOM_RESOURCE_METADATA}"]
    assert str(discovery.authorization_server.token_endpoint) == f"{base}/token"


async def test_without_resource_metadata_the_root_metadata_and_its_origin_issuer_are_used() -> None:
    base, discovery = await _discover(FixtureAuthority(layout="root-metadata"))

    assert discovery is not None and discovery.protected_resource is None
    assert not discovery.default_endpoints
    assert str(discovery.authorization_server.issuer).rstrip("/") == base


async def test_on_the_2025_03_26_path_an_issuer_under_the_servers_origin_is_accepted() -> None:
    authority = FixtureAuthority(layout="root-metadata")
    async with serve_oauth_server(authority) as base:
        authority.issuer_override = f"{base}/oauth"
        async with httpx2.AsyncClient() as client:
            discovery = await discover_oauth(client, "docs", f"{base}/mcp")
    assert discovery is not None and str(discovery.authorization_server.issuer) == f"{base}/oauth"


async def test_without_any_metadata_the_default_endpoints_at_the_root_are_used() -> None:
    base, discovery = await _discover(FixtureAuthority(layout="no-metadata"))

    assert discovery is not None and discovery.default_endpoints
    metadata = discovery.authorization_server
    assert [
        str(metadata.authorization_endpoint),
        str(metadata.token_endpoint),
        str(metadata.registration_endpoint),
    ] == [
        f"{base}/authorize",
        f"{base}/token",
        f"{base}/register",
    ]


async def test_a_server_that_neither_refuses_nor_advertises_has_no_oauth() -> None:
    async with serve_plain_server() as base, httpx2.AsyncClient() as client:
        assert await discover_oauth(client, "plain", f"{base}/mcp") is None


@pytest.mark.parametrize("layout", ["standard", "root-metadata"])
async def test_metadata_naming_another_issuer_is_an_issuer_mismatch(layout: str) -> None:
    authority = FixtureAuthority(layout=layout, issuer_override="https://elsewhere.example/")  # type: ignore[arg-type]
    with pytest.raises(
        RequestFailed, match=r"names the issuer 'https://elsewhere.example/'.*\(issuer mismatch\)$"
    ):
        await _discover(authority)


async def test_resource_metadata_for_another_server_is_a_resource_mismatch() -> None:
    authority = FixtureAuthority(resource_override="https://elsewhere.example/mcp")
    with pytest.raises(
        RequestFailed,
        match=r"is for 'https://elsewhere.example/mcp', not 'http://127.0.0.1:\d+/mcp' \(resource mismatch\)",
    ):
        await _discover(authority)
