"""OAuth discovery of an HTTP MCP server, before a login: its challenge, protected-resource and
authorization-server metadata, checked as the SDK's `OAuthClientProvider` checks them.

Run when a login starts, so a login that cannot work is refused at once with the reason (issuer
mismatch, resource mismatch, no OAuth at all) rather than after the browser opened. The order is
the MCP authorization spec's: one unauthenticated request whose 401 may name the protected
resource metadata (`resource_metadata`, tried before the RFC 9728 well-known paths), then the
metadata of the authorization server it names; without protected resource metadata the
2025-03-26 rules apply: authorization server metadata at the server's root, whose issuer must be
on the server's own origin (the root itself, or a path under it, as servers of that era publish),
and when there is none either, the default `/authorize`, `/token` and `/register`
endpoints at the root. It never registers a client and never sends credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    handle_auth_metadata_response,
    handle_protected_resource_response,
    issuers_match,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url
from mcp_types import LATEST_PROTOCOL_VERSION
from pydantic import AnyHttpUrl

from app_server.errors import RequestFailed, quoted
from app_server.mcp.oauth.challenge import Challenge, parse_challenge

DISCOVERY_TIMEOUT_SECONDS = 10.0
PING = {"jsonrpc": "2.0", "id": 0, "method": "ping"}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION,
}
"""What an MCP client sends on every POST; a login's requests look like a connection's."""


@dataclass(frozen=True)
class OAuthDiscovery:
    """What a server advertises; `authorization_server` is what makes it an OAuth server."""

    authorization_server: OAuthMetadata
    protected_resource: ProtectedResourceMetadata | None
    challenge: Challenge | None
    """The server's answer to an unauthenticated request, when it refused it."""
    default_endpoints: bool = False
    """No metadata anywhere: `authorization_server` holds the 2025-03-26 default endpoints."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def default_metadata(server_url: str) -> OAuthMetadata:
    """The 2025-03-26 fallback: the authorization server is the server's origin, at its default paths."""
    root = origin(server_url)
    return OAuthMetadata(
        issuer=AnyHttpUrl(root),
        authorization_endpoint=AnyHttpUrl(f"{root}/authorize"),
        token_endpoint=AnyHttpUrl(f"{root}/token"),
        registration_endpoint=AnyHttpUrl(f"{root}/register"),
    )


async def discover_oauth(client: httpx2.AsyncClient, name: str, server_url: str) -> OAuthDiscovery | None:
    """The server's OAuth metadata, or None when it neither refuses an anonymous request nor advertises any.

    Raises:
        httpx2.TransportError: The server (or its authorization server) cannot be reached.
        RequestFailed: The metadata contradicts itself: its resource is another server's, or the
            authorization server's metadata names another issuer.
    """
    async with client.stream("POST", server_url, json=PING, headers=MCP_HEADERS) as answer:
        challenge = parse_challenge(answer)  # the headers are enough: a body is never read
    hinted = challenge.resource_metadata if challenge is not None else None
    protected_resource: ProtectedResourceMetadata | None = None
    for url in build_protected_resource_metadata_discovery_urls(hinted, server_url):
        protected_resource = await handle_protected_resource_response(
            await client.send(create_oauth_metadata_request(url))
        )
        if protected_resource is not None:
            _check_resource(name, server_url, protected_resource)
            break
    auth_server_url = str(protected_resource.authorization_servers[0]) if protected_resource else None
    expected_issuer = auth_server_url or origin(server_url)
    for url in build_oauth_authorization_server_metadata_discovery_urls(auth_server_url, server_url):
        found, metadata = await handle_auth_metadata_response(
            await client.send(create_oauth_metadata_request(url))
        )
        if not found:
            break
        if metadata is not None:
            if not _issuer_accepted(str(metadata.issuer), expected_issuer, legacy=auth_server_url is None):
                raise RequestFailed(
                    f"OAuth login for MCP server '{name}' failed: the authorization server metadata names "
                    f"the issuer '{quoted(str(metadata.issuer))}', not '{quoted(expected_issuer)}' "
                    "(issuer mismatch)"
                )
            return OAuthDiscovery(metadata, protected_resource, challenge)
    if protected_resource is None and challenge is not None and challenge.status == 401:
        return OAuthDiscovery(default_metadata(server_url), None, challenge, default_endpoints=True)
    return None


def _issuer_accepted(issuer: str, expected: str, *, legacy: bool) -> bool:
    """RFC 8414 §3.3: the issuer the metadata was looked up for; on the 2025-03-26 path (no protected
    resource metadata) any issuer on the server's origin, where that era's servers put it."""
    return issuers_match(issuer, expected) or (legacy and origin(issuer) == expected)


def _check_resource(name: str, server_url: str, metadata: ProtectedResourceMetadata) -> None:
    """RFC 8707 / RFC 9728 §3.3: the metadata must be this server's (or a parent of its URL)."""
    expected = resource_url_from_server_url(server_url)
    advertised = str(metadata.resource)
    if not check_resource_allowed(requested_resource=expected, configured_resource=advertised):
        raise RequestFailed(
            f"OAuth login for MCP server '{name}' failed: its protected resource metadata is for "
            f"'{quoted(advertised)}', not '{quoted(expected)}' (resource mismatch)"
        )
