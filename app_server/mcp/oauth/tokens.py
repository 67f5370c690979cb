"""Stored OAuth tokens in use: the bearer attached to an MCP connection, refreshed before expiry or on a 401.

One `TokenKeeper` per server (shared by every connection to it in this process) holds the
current tokens and serializes refreshes, so two connections never spend the same rotating
refresh token. Before refreshing it re-reads the store: another process may already have done
it. A refresh answered `invalid_grant` clears the stored tokens (the registration stays) and the
server reads as `notLoggedIn` until the next login.

The keeper also remembers the last refusal its connections met (a 401 no refresh could cure, or
a 403 `insufficient_scope`) until the next login: the server's auth status reads it.

`StoredTokenAuth` is the `httpx2.Auth` handed to the connection layer; it does not use the SDK's
`OAuthClientProvider` because that one answers a 401 by starting an interactive login, which a
daemon's background connection cannot do, and it neither refreshes ahead of expiry nor keeps
token expiry across restarts.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncGenerator
from urllib.parse import quote

import anyio
import httpx2
from mcp.shared.auth import OAuthToken
from pydantic import SecretStr, ValidationError

from app_server.errors import RequestFailed
from app_server.mcp.oauth.challenge import Challenge, parse_challenge
from app_server.mcp.oauth.credentials import CredentialStore, StoredCredentials, StoredTokens, clear_tokens

logger = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 30.0
"""Tokens are refreshed this long before they expire (Codex's margin)."""
_REFRESH_TIMEOUT_SECONDS = 30.0


def tokens_from_response(
    token: OAuthToken, *, received_at: float, prior: StoredTokens | None
) -> StoredTokens:
    """Stored tokens from a token endpoint answer; an omitted refresh token or scope carries over."""
    refresh = token.refresh_token or (
        prior.refresh_token.get_secret_value() if prior and prior.refresh_token else None
    )
    return StoredTokens(
        access_token=SecretStr(token.access_token),
        refresh_token=SecretStr(refresh) if refresh else None,
        token_type=token.token_type,
        expires_at=received_at + token.expires_in if token.expires_in is not None else None,
        scope=token.scope if token.scope is not None else (prior.scope if prior else None),
    )


def _refresh_request(credentials: StoredCredentials, refresh_token: str) -> httpx2.Request:
    """The RFC 6749 §6 refresh request, with the RFC 8707 resource and the client's own authentication."""
    assert credentials.token_endpoint is not None
    client = credentials.client
    client_id = str(client.get("client_id", ""))
    secret = client.get("client_secret")
    method = client.get("token_endpoint_auth_method")
    data: dict[str, str | list[str]] = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
    }
    if credentials.resources:
        data["resource"] = list(credentials.resources)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if secret and method == "client_secret_basic":
        pair = f"{quote(client_id, safe='')}:{quote(str(secret), safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif secret:
        data["client_secret"] = str(secret)
    return httpx2.Request("POST", credentials.token_endpoint, data=data, headers=headers)


class TokenKeeper:
    """The current tokens of one server and the single place they are refreshed."""

    def __init__(self, store: CredentialStore, server_name: str, server_url: str) -> None:
        self._store = store
        self.server_name = server_name
        self.server_url = server_url
        self._lock = anyio.Lock()
        self._credentials: StoredCredentials | None = None
        self._loaded = False
        self.refusal: Challenge | None = None
        """The last refusal seen since the last login or logout."""

    def forget(self) -> None:
        """Drop the cached tokens and the refusal (after a login or logout); the next request reads
        the store again."""
        self._loaded = False
        self._credentials = None
        self.refusal = None

    def note_refusal(self, challenge: Challenge) -> None:
        self.refusal = challenge

    async def bearer(self) -> str | None:
        """The access token to send now, refreshed first when it expires within the margin."""
        async with self._lock:
            if not self._loaded:
                self._credentials = await self._load()
                self._loaded = True
            tokens = self._tokens()
            if tokens is not None and tokens.expires_within(REFRESH_MARGIN_SECONDS):
                tokens = await self._refresh(tokens)
            return tokens.access_token.get_secret_value() if tokens is not None else None

    async def bearer_after_rejection(self, rejected: str | None) -> str | None:
        """A new access token after the server answered 401 to `rejected`, or None when there is none."""
        async with self._lock:
            tokens = self._tokens()
            if tokens is not None and tokens.access_token.get_secret_value() != rejected:
                return tokens.access_token.get_secret_value()
            if tokens is None:
                return None
            refreshed = await self._refresh(tokens)
            if refreshed is None or refreshed.access_token.get_secret_value() == rejected:
                return None
            return refreshed.access_token.get_secret_value()

    def _tokens(self) -> StoredTokens | None:
        return self._credentials.tokens if self._credentials is not None else None

    async def _load(self) -> StoredCredentials | None:
        try:
            return await anyio.to_thread.run_sync(self._store.load, self.server_name, self.server_url)
        except RequestFailed as exc:
            logger.warning("MCP server `%s`: %s", self.server_name, exc.message)
            return None

    async def _refresh(self, held: StoredTokens) -> StoredTokens | None:
        """Refresh `held` (caller holds the lock); returns the tokens to use, None when logged out."""
        latest = await self._load()
        newer = latest.tokens if latest is not None else None
        if newer is not None and newer != held and not newer.expires_within(REFRESH_MARGIN_SECONDS):
            self._credentials = latest
            return newer
        credentials = latest if latest is not None and latest.tokens is not None else self._credentials
        if credentials is None or credentials.tokens is None:
            self._credentials = latest
            return None
        tokens = credentials.tokens
        if tokens.refresh_token is None or credentials.token_endpoint is None:
            return tokens
        request = _refresh_request(credentials, tokens.refresh_token.get_secret_value())
        try:
            async with httpx2.AsyncClient(timeout=_REFRESH_TIMEOUT_SECONDS) as client:
                response = await client.send(request)
        except httpx2.TransportError:
            logger.warning(
                "MCP server `%s`: token endpoint unreachable; keeping the current token", self.server_name
            )
            return tokens
        if response.status_code == 200:
            return await self._adopt(credentials, response, tokens)
        if _error_code(response) == "invalid_grant":
            logger.warning("MCP server `%s`: refresh token rejected; log in again", self.server_name)
            await anyio.to_thread.run_sync(clear_tokens, self._store, self.server_name, self.server_url)
            self._credentials = credentials.model_copy(update={"tokens": None})
            return None
        logger.warning(
            "MCP server `%s`: token refresh failed (HTTP %d)", self.server_name, response.status_code
        )
        return tokens

    async def _adopt(
        self, credentials: StoredCredentials, response: httpx2.Response, prior: StoredTokens
    ) -> StoredTokens:
        try:
            answer = OAuthToken.model_validate_json(response.content)
        except ValidationError:
            logger.warning("MCP server `%s`: token endpoint answered an invalid refresh", self.server_name)
            return prior
        tokens = tokens_from_response(answer, received_at=time.time(), prior=prior)
        updated = credentials.model_copy(update={"tokens": tokens})
        self._credentials = updated
        try:
            await anyio.to_thread.run_sync(self._save, updated)
        except RequestFailed as exc:
            logger.warning("MCP server `%s`: refreshed tokens not stored: %s", self.server_name, exc.message)
        return tokens

    def _save(self, credentials: StoredCredentials) -> None:
        self._store.update(self.server_name, self.server_url, lambda _current: credentials)


def _error_code(response: httpx2.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


class StoredTokenAuth(httpx2.Auth):
    """Attaches the server's stored bearer; on a 401 refreshes once and retries the request once."""

    def __init__(self, keeper: TokenKeeper) -> None:
        self._keeper = keeper

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        await request.aread()
        token = await self._keeper.bearer()
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        retry_token = (
            await self._keeper.bearer_after_rejection(token)
            if response.status_code == 401 and token is not None
            else None
        )
        if retry_token is not None:
            request.headers["Authorization"] = f"Bearer {retry_token}"
            response = yield request
        challenge = parse_challenge(response)
        if challenge is not None and (challenge.status == 401 or challenge.insufficient_scope):
            self._keeper.note_refusal(challenge)
