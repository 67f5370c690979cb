"""One OAuth login to one streamable HTTP MCP server, driven through the mcp SDK's `OAuthClientProvider`.

Why drive the SDK provider instead of re-implementing it: it already does protected-resource and
authorization-server discovery (with issuer checks), dynamic client registration or a client
metadata document (CIMD), PKCE S256, `state` and RFC 9207 `iss` checks and RFC 8707 `resource`.
Its shape is a browser redirect inside one HTTP request, which does not fit a daemon that must
answer the login request with the URL and finish later; so the login runs as a background task
that sends one unauthenticated request to the server. The 401 starts the provider's flow; its
`redirect_handler` hands the authorization URL back to the starter (`task_status.started`), and
its `callback_handler` waits, bounded by the login timeout, for the loopback listener. The
provider's storage is a per-login adapter: it offers a stored registration for reuse (when made
for the redirect URI in use) but never stored tokens, so the login always authorizes afresh.

Scopes: the login's `scopes` > the server's configured `scopes` (even empty: no scope at all) >
the provider's discovered scopes. A chosen scope list is also what the client registers for: the
provider would register the discovered scopes, and a strict authorization server refuses to
authorize scopes a client was not registered for, so such a login registers the client itself
(with the SDK's request builder) before the provider runs; a stored registration is reused only
when it covers the chosen scopes. `oauth_resource`, when configured, is sent as a further RFC 8707
`resource` on the authorization URL, the token request and (stored with the tokens) every refresh.

A pre-registered client (`oauth = { client_id, client_secret }`) is offered to the provider as
the stored registration, so nothing is registered; it authenticates at the token endpoint with
the method the authorization server advertises. A failed login says why (issuer or resource
mismatch, registration refused with its HTTP status, callback timeout), never with a secret.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import anyio
import httpx2
from anyio.abc import TaskStatus
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.exceptions import OAuthFlowError, OAuthRegistrationError, OAuthTokenError
from mcp.client.auth.oauth2 import check_registration_usable
from mcp.client.auth.utils import (
    create_client_registration_request,
    handle_registration_response,
    should_use_client_metadata_url,
)
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from app_server.config.app_config import AppConfig
from app_server.config.servers import HttpServerConfig
from app_server.errors import InvalidParams, RequestFailed, quoted
from app_server.mcp.oauth.callback import CallbackResult, callback_endpoint, open_callback_listener
from app_server.mcp.oauth.credentials import CredentialStore, StoredCredentials, save_credentials
from app_server.mcp.oauth.discovery import (
    DISCOVERY_TIMEOUT_SECONDS,
    MCP_HEADERS,
    PING,
    OAuthDiscovery,
    discover_oauth,
)
from app_server.mcp.oauth.tokens import tokens_from_response

logger = logging.getLogger(__name__)

ClientRegistration = Literal["auto", "cimd", "dcr"]
DEFAULT_LOGIN_TIMEOUT_SECONDS = 300.0
CLIENT_NAME = "app-server"
SECRET_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
_HTTP_STATUS = re.compile(r"\b([1-5][0-9]{2})\b")
_ISSUERS = re.compile(r"issuer mismatch: (\S+) != (\S+)")


class LoginTimedOut(RequestFailed):
    """No callback arrived within the login's timeout."""

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(
            f"OAuth login for MCP server '{name}' failed: no authorization callback arrived within the "
            f"login's timeout of {timeout:g} s (callback timeout)"
        )


@dataclass(frozen=True)
class LoginSettings:
    """Daemon-wide settings of every login (from config.toml)."""

    callback_port: int | None = None
    callback_url: str | None = None
    client_metadata_url: str | None = None
    """The https URL of this client's metadata document, for servers that accept CIMD client ids."""

    @classmethod
    def from_config(cls, config: AppConfig) -> LoginSettings:
        return cls(
            callback_port=config.mcp_oauth_callback_port,
            callback_url=config.mcp_oauth_callback_url,
            client_metadata_url=config.mcp_oauth_client_metadata_url,
        )


@dataclass(frozen=True)
class LoginRequest:
    """One `mcpServer/oauth/login`, with the server already resolved."""

    name: str
    config: HttpServerConfig
    scopes: tuple[str, ...] | None = None
    timeout: float = DEFAULT_LOGIN_TIMEOUT_SECONDS
    client_registration: ClientRegistration = "auto"

    @property
    def chosen_scopes(self) -> tuple[str, ...] | None:
        """The login's scopes, else the server's configured ones; None leaves them to discovery."""
        return self.scopes if self.scopes is not None else self.config.scopes


def request_headers(config: HttpServerConfig) -> dict[str, str]:
    """The configured static and environment headers, as the connection itself sends them."""
    headers = dict(config.http_headers)
    for header, variable in config.env_http_headers.items():
        if value := os.environ.get(variable):
            headers[header] = value
    return headers


async def discover_for_login(request: LoginRequest, settings: LoginSettings) -> OAuthDiscovery:
    """The server's OAuth metadata, checked against the requested registration strategy.

    Raises:
        RequestFailed: The server is unreachable, advertises no OAuth, or cannot serve the strategy.
    """
    name = request.name
    try:
        async with httpx2.AsyncClient(
            headers=request_headers(request.config), timeout=DISCOVERY_TIMEOUT_SECONDS
        ) as client:
            discovery = await discover_oauth(client, name, request.config.url)
    except httpx2.TransportError as exc:
        raise RequestFailed(f"MCP server '{name}' could not be reached for OAuth discovery") from exc
    if discovery is None:
        raise RequestFailed(f"MCP server '{name}' does not advertise OAuth support (no OAuth metadata found)")
    metadata = discovery.authorization_server
    cimd_possible = bool(metadata.client_id_metadata_document_supported) and settings.client_metadata_url
    if request.client_registration == "cimd" and (not cimd_possible or request.config.oauth is not None):
        raise RequestFailed(
            f"client metadata document registration is not possible for MCP server '{name}': "
            "the authorization server does not support it, no client metadata URL is configured "
            "or the server has a pre-registered client (`oauth`)"
        )
    return discovery


def token_auth_method(metadata: OAuthMetadata, has_secret: bool) -> str:
    """How a pre-registered client authenticates at the token endpoint: the first method the server
    advertises that the client can use (RFC 8414's default when it advertises none:
    `client_secret_basic`); a client without a secret uses `none`."""
    advertised = metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    usable = (*SECRET_AUTH_METHODS, "none") if has_secret else ("none",)
    return next((method for method in advertised if method in usable), usable[0])


def pre_registered_client(
    config: HttpServerConfig, metadata: OAuthMetadata, redirect_uri: str
) -> OAuthClientInformationFull | None:
    """The configured `oauth` client as the provider's registration, or None when none is configured."""
    if config.oauth is None:
        return None
    secret = config.oauth.client_secret.get_secret_value() if config.oauth.client_secret else None
    return OAuthClientInformationFull(
        client_id=config.oauth.client_id,
        client_secret=secret,
        token_endpoint_auth_method=token_auth_method(metadata, secret is not None),
        redirect_uris=[AnyUrl(redirect_uri)],
        grant_types=["authorization_code", "refresh_token"],
    )


class _LoginStorage:
    """The provider's `TokenStorage` for one login: reuses a fitting registration, never old tokens."""

    def __init__(
        self,
        store: CredentialStore,
        request: LoginRequest,
        redirect_uri: str,
        *,
        metadata_url: str | None,
        uses_metadata_document: bool,
        pre_registered: OAuthClientInformationFull | None = None,
    ) -> None:
        self._store = store
        self._pre_registered = pre_registered
        self._name = request.name
        self._url = request.config.url
        self._scopes = request.chosen_scopes
        self._redirect_uri = redirect_uri
        self._metadata_url = metadata_url
        self._uses_metadata_document = uses_metadata_document
        self.client_info: OAuthClientInformationFull | None = None
        self.tokens: OAuthToken | None = None
        self.tokens_received_at = 0.0

    async def get_tokens(self) -> OAuthToken | None:
        return None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.tokens_received_at = time.time()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        if self._pre_registered is not None:
            return self._pre_registered
        stored = await anyio.to_thread.run_sync(self._store.load, self._name, self._url)
        if stored is None or not stored.client:
            return None
        info = OAuthClientInformationFull.model_validate(stored.client)
        registered = [str(uri) for uri in info.redirect_uris or []]
        fits = (
            self._redirect_uri in registered
            and self._covers_scopes(info)
            and (info.client_id == self._metadata_url) == self._uses_metadata_document
        )
        return info if fits else None

    def _covers_scopes(self, info: OAuthClientInformationFull) -> bool:
        """Whether the registration may ask for the chosen scopes (unknown when it names none)."""
        if not self._scopes or info.scope is None:
            return True
        return set(self._scopes) <= set(info.scope.split())

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info
        client = client_info.model_dump(mode="json", exclude_none=True)

        def keep_registration(current: StoredCredentials | None) -> StoredCredentials:
            base = current or StoredCredentials(server_name=self._name, server_url=self._url)
            return base.model_copy(update={"client": client})

        await anyio.to_thread.run_sync(self._store.update, self._name, self._url, keep_registration)


class _LoginProvider(OAuthClientProvider):
    """The SDK provider with our scope choice and our extra `resource` applied to what it sends, and
    the issuer discovery accepted on the 2025-03-26 path (the SDK would insist on the bare origin)."""

    scope_override: tuple[str, ...] | None = None
    extra_resource: str | None = None
    legacy_issuer: str | None = None

    def _expected_issuer(self) -> str:
        if self.context.auth_server_url is None and self.legacy_issuer is not None:
            return self.legacy_issuer
        return super()._expected_issuer()

    async def _perform_authorization_code_grant(self) -> tuple[str, str]:
        if self.scope_override is not None:
            self.context.client_metadata.scope = " ".join(self.scope_override) or None
        return await super()._perform_authorization_code_grant()

    async def _exchange_token_authorization_code(self, auth_code: str, code_verifier: str) -> httpx2.Request:
        request = await super()._exchange_token_authorization_code(auth_code, code_verifier)
        return _with_form_resource(request, self.extra_resource)


def preferred_callback_port(store: CredentialStore, name: str, url: str) -> int | None:
    """The loopback port the stored registration was made for, so it can be reused."""
    stored = store.load(name, url)
    for uri in (stored.client.get("redirect_uris") or []) if stored is not None else []:
        parts = urlsplit(str(uri))
        if parts.hostname == "127.0.0.1" and parts.port:
            return parts.port
    return None


def _with_extra_resource(url: str, resource: str | None) -> str:
    if not resource or resource in parse_qs(urlsplit(url).query).get("resource", []):
        return url
    return f"{url}&{urlencode({'resource': resource})}"


def _with_form_resource(request: httpx2.Request, resource: str | None) -> httpx2.Request:
    """`request` (a form POST) with one more `resource` field, unless it already carries it."""
    fields = parse_qsl(request.content.decode(), keep_blank_values=True)
    if not resource or ("resource", resource) in fields:
        return request
    headers = {key: value for key, value in request.headers.items() if key.lower() != "content-length"}
    body = urlencode([*fields, ("resource", resource)])
    return httpx2.Request(request.method, request.url, content=body, headers=headers)


@dataclass
class LoginAttempt:
    """Runs one login; `run` reports the authorization URL through `task_status`, then completes."""

    request: LoginRequest
    settings: LoginSettings
    store: CredentialStore
    discovery: OAuthDiscovery

    async def run(self, *, task_status: TaskStatus[str]) -> StoredCredentials:
        """Log in and store the credentials; started (with the authorization URL) once the URL is known.

        Raises:
            LoginTimedOut: No callback arrived within the timeout.
            RequestFailed: The flow failed; the message names the server and never carries tokens.
        """
        name, url = self.request.name, self.request.config.url
        preferred = await anyio.to_thread.run_sync(preferred_callback_port, self.store, name, url)
        endpoint = callback_endpoint(self.settings.callback_port, self.settings.callback_url, preferred)
        async with open_callback_listener(endpoint) as listener:
            uses_cimd = self._uses_cimd()
            storage = _LoginStorage(
                self.store,
                self.request,
                listener.redirect_uri,
                metadata_url=self.settings.client_metadata_url,
                uses_metadata_document=uses_cimd,
                pre_registered=pre_registered_client(
                    self.request.config, self.discovery.authorization_server, listener.redirect_uri
                ),
            )
            scopes = self.request.chosen_scopes
            if scopes and not uses_cimd and await storage.get_client_info() is None:
                await self._register(storage, listener.redirect_uri, scopes)
            started = False

            async def hand_out_url(authorization_url: str) -> None:
                nonlocal started
                state = parse_qs(urlsplit(authorization_url).query).get("state", [""])[0]
                listener.expect_state(state)
                started = True
                task_status.started(
                    _with_extra_resource(authorization_url, self.request.config.oauth_resource)
                )

            async def await_callback() -> AuthorizationCodeResult:
                try:
                    with anyio.fail_after(self.request.timeout):
                        result = await listener.wait()
                except TimeoutError:
                    raise LoginTimedOut(name, self.request.timeout) from None
                return _code_or_refusal(name, result)

            provider = _LoginProvider(
                server_url=url,
                client_metadata=self._client_metadata(listener.redirect_uri),
                storage=storage,
                redirect_handler=hand_out_url,
                callback_handler=await_callback,
                client_metadata_url=self._client_metadata_url(),
            )
            provider.scope_override = scopes
            provider.extra_resource = self.request.config.oauth_resource
            if self.discovery.protected_resource is None and not self.discovery.default_endpoints:
                provider.legacy_issuer = str(self.discovery.authorization_server.issuer)
            await self._trigger(provider, started_already=lambda: started)
            return await self._store_login(provider, storage)

    def _client_metadata(self, redirect_uri: str) -> OAuthClientMetadata:
        return OAuthClientMetadata(
            redirect_uris=[AnyUrl(redirect_uri)],
            client_name=CLIENT_NAME,
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        )

    def _client_metadata_url(self) -> str | None:
        if self.request.client_registration == "dcr" or self.request.config.oauth is not None:
            return None
        return self.settings.client_metadata_url

    def _uses_cimd(self) -> bool:
        return should_use_client_metadata_url(
            self.discovery.authorization_server, self._client_metadata_url()
        )

    async def _register(self, storage: _LoginStorage, redirect_uri: str, scopes: tuple[str, ...]) -> None:
        """Register the client for `scopes` (RFC 7591), bound to the issuer it registered with."""
        name = self.request.name
        metadata = self._client_metadata(redirect_uri)
        metadata.scope = " ".join(scopes) or None
        authorization_server = self.discovery.authorization_server
        server = urlsplit(self.request.config.url)
        registration = create_client_registration_request(
            authorization_server, metadata, f"{server.scheme}://{server.netloc}"
        )
        try:
            async with httpx2.AsyncClient(timeout=DISCOVERY_TIMEOUT_SECONDS) as client:
                info = await handle_registration_response(await client.send(registration))
            check_registration_usable(info)
        except httpx2.TransportError as exc:
            raise RequestFailed(
                f"OAuth login for MCP server '{name}' failed: the authorization server could not be reached"
            ) from exc
        except OAuthRegistrationError as exc:
            raise RequestFailed(f"OAuth login for MCP server '{name}' failed: {failure_reason(exc)}") from exc
        if authorization_server.registration_endpoint is not None:
            info.issuer = str(authorization_server.issuer)
        await storage.set_client_info(info)

    async def _trigger(self, provider: _LoginProvider, started_already: Callable[[], bool]) -> None:
        """Send the unauthenticated request whose 401 makes the provider run the whole flow."""
        name = self.request.name
        headers = {**request_headers(self.request.config), **MCP_HEADERS}
        try:
            async with httpx2.AsyncClient(timeout=DISCOVERY_TIMEOUT_SECONDS) as client:
                await client.post(self.request.config.url, json=PING, headers=headers, auth=provider)
        except RequestFailed:
            raise
        except httpx2.TransportError as exc:
            raise RequestFailed(
                f"OAuth login for MCP server '{name}' failed: a server could not be reached"
            ) from exc
        except Exception as exc:
            logger.info("OAuth login for MCP server `%s` failed: %s", name, type(exc).__name__)
            raise RequestFailed(f"OAuth login for MCP server '{name}' failed: {failure_reason(exc)}") from exc
        if not started_already():
            raise RequestFailed(f"MCP server '{name}' did not ask for authorization; no login is needed")

    async def _store_login(self, provider: _LoginProvider, storage: _LoginStorage) -> StoredCredentials:
        name = self.request.name
        context = provider.context
        if storage.tokens is None or context.client_info is None:
            raise RequestFailed(f"OAuth login for MCP server '{name}' failed: no tokens were issued")
        metadata = context.oauth_metadata or self.discovery.authorization_server
        own = (
            context.get_resource_url()
            if context.should_include_resource_param(context.protocol_version)
            else None
        )
        resources = tuple(dict.fromkeys(r for r in (own, self.request.config.oauth_resource) if r))
        credentials = StoredCredentials(
            server_name=name,
            server_url=self.request.config.url,
            client=context.client_info.model_dump(mode="json", exclude_none=True),
            token_endpoint=str(metadata.token_endpoint),
            resources=resources,
            tokens=tokens_from_response(storage.tokens, received_at=storage.tokens_received_at, prior=None),
        )
        await anyio.to_thread.run_sync(save_credentials, self.store, credentials)
        return credentials


def failure_reason(exc: Exception) -> str:
    """Why the SDK's flow failed, in words fit for the user: never its text beyond a status or an issuer."""
    text = str(exc)
    status = _HTTP_STATUS.search(text)
    http = f" (HTTP {status.group(1)})" if status else ""
    if isinstance(exc, OAuthRegistrationError):
        if text.startswith("Registration failed"):
            return f"the authorization server refused the client registration{http}"
        return "the authorization server registered the client in a way this client cannot use"
    if isinstance(exc, OAuthTokenError):
        if text.startswith("Token exchange failed"):
            return f"the token endpoint refused the authorization code{http}"
        return "the token endpoint answered with an invalid token response"
    if isinstance(exc, OAuthFlowError):
        if issuers := _ISSUERS.search(text):
            return (
                f"the authorization server metadata names the issuer '{quoted(issuers.group(1))}', "
                f"not '{quoted(issuers.group(2))}' (issuer mismatch)"
            )
        if "iss mismatch" in text or "missing iss" in text:
            return "the authorization response came from another issuer (issuer mismatch)"
        if text.startswith("Protected resource") and "does not match" in text:
            return "its protected resource metadata is for another server (resource mismatch)"
        if text.startswith("Protected resource metadata request failed"):
            return f"its protected resource metadata could not be read{http}"
    return "the authorization server refused the login"


def _code_or_refusal(name: str, result: CallbackResult) -> AuthorizationCodeResult:
    if result.code is None:
        raise RequestFailed(f"OAuth login for MCP server '{name}' failed: {result.describe_error()}")
    return AuthorizationCodeResult(code=result.code, state=result.state, iss=result.iss)


def validate_login_target(name: str, config: Any) -> HttpServerConfig:
    """The HTTP config of the server a login names.

    Raises:
        InvalidParams: No such server, or it is not a streamable HTTP server.
    """
    if config is None:
        raise InvalidParams(f"No MCP server named '{quoted(name)}' found.")
    if not isinstance(config, HttpServerConfig):
        raise InvalidParams("OAuth login is only supported for streamable HTTP servers.")
    return config
