"""Read-only OAuth discovery of an HTTP MCP server: protected-resource then authorization-server metadata.

Used for `authStatus` and to refuse a login early with a clear reason. It never registers a
client and never sends credentials; the SDK's URL builders and parsers keep it in step with the
discovery `OAuthClientProvider` performs during the login itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    handle_auth_metadata_response,
    handle_protected_resource_response,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata

DISCOVERY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class OAuthDiscovery:
    """What a server advertises; `authorization_server` is what makes it an OAuth server."""

    authorization_server: OAuthMetadata
    protected_resource: ProtectedResourceMetadata | None


async def discover_oauth(client: httpx2.AsyncClient, server_url: str) -> OAuthDiscovery | None:
    """The server's OAuth metadata, or None when it advertises none.

    Raises:
        httpx2.TransportError: The server (or its authorization server) cannot be reached.
    """
    protected_resource: ProtectedResourceMetadata | None = None
    for url in build_protected_resource_metadata_discovery_urls(None, server_url):
        response = await client.send(create_oauth_metadata_request(url))
        protected_resource = await handle_protected_resource_response(response)
        if protected_resource is not None:
            break
    auth_server_url = (
        str(protected_resource.authorization_servers[0])
        if protected_resource is not None and protected_resource.authorization_servers
        else None
    )
    for url in build_oauth_authorization_server_metadata_discovery_urls(auth_server_url, server_url):
        response = await client.send(create_oauth_metadata_request(url))
        found, metadata = await handle_auth_metadata_response(response)
        if not found:
            break
        if metadata is not None:
            return OAuthDiscovery(authorization_server=metadata, protected_resource=protected_resource)
    return None
