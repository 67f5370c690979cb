"""The MCP OAuth service: runs logins and reports them, answers `authStatus`, supplies connections' Auth.

`start_login` answers as soon as the authorization URL is known; the login then completes in a
task of the service's own task group and is reported as `mcpServer/oauthLogin/completed`. A
second login for the same server cancels the first (which reports that it was superseded).
After a successful login `on_login_success(name)` runs, so the daemon can refresh the
generations that use the server. See `login` for the flow itself, `tokens` for the
use of stored tokens and `credentials` for the store.

A server's auth status is computed, never probed: from its config, the credential store and the
refusals its connections (or a login's discovery) have seen, so it is known on the first status
list and no request races the calls in flight. A 403 `insufficient_scope` refusal makes the next
login (without explicit scopes) ask for the granted scopes plus the required ones. Each login or
logout bumps the server's credential generation, part of a connection's pool identity.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import anyio
import httpx2
from anyio.abc import TaskGroup, TaskStatus

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.errors import InvalidParams, RequestFailed
from app_server.events import EventBus
from app_server.mcp.oauth.challenge import union_scopes
from app_server.mcp.oauth.credentials import CredentialStore, credential_key, delete_credentials
from app_server.mcp.oauth.login import (
    DEFAULT_LOGIN_TIMEOUT_SECONDS,
    ClientRegistration,
    LoginAttempt,
    LoginRequest,
    LoginSettings,
    discover_for_login,
    validate_login_target,
)
from app_server.mcp.oauth.tokens import StoredTokenAuth, TokenKeeper
from protocol.notifications import McpServerOauthLoginCompletedNotification

logger = logging.getLogger(__name__)

AuthStatus = Literal["unsupported", "bearerToken", "oAuth", "notLoggedIn", "unknown"]
SUPERSEDED = "cancelled: a newer login for this server was started"
_SUPERSEDE_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class LoginStarted:
    """The answer to `mcpServer/oauth/login`."""

    authorization_url: str
    login_id: str


@dataclass
class _ActiveLogin:
    login_id: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)


class _RecordingStatus(TaskStatus[str]):
    """Passes `started` on and remembers that it happened."""

    def __init__(self, inner: TaskStatus[str]) -> None:
        self._inner = inner
        self.started_yet = False

    def started(self, value: str | None = None) -> None:
        assert value is not None
        self.started_yet = True
        self._inner.started(value)


class OAuthService:
    """One per daemon; `run` must be running (it owns the logins' task group) before `start_login`."""

    def __init__(
        self,
        events: EventBus,
        store: CredentialStore,
        settings: LoginSettings | None = None,
        on_login_success: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._events = events
        self._store = store
        self.settings = settings or LoginSettings()
        """The daemon-wide login settings; a config reload replaces them for later logins."""
        self._on_login_success = on_login_success
        self._task_group: TaskGroup | None = None
        self._active: dict[str, _ActiveLogin] = {}
        self._keepers: dict[str, TokenKeeper] = {}
        self._generations: dict[str, int] = {}
        """Credential key -> how many times this process changed that server's credentials."""

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Host the logins until cancelled (cancelling also ends every pending login)."""
        async with anyio.create_task_group() as tg:
            self._task_group = tg
            task_status.started()
            try:
                await anyio.sleep_forever()
            finally:
                self._task_group = None

    async def start_login(
        self,
        name: str,
        config: StdioServerConfig | HttpServerConfig | None,
        *,
        scopes: list[str] | None = None,
        timeout_secs: float | None = None,
        thread_id: str | None = None,
        client_registration: ClientRegistration | None = None,
    ) -> LoginStarted:
        """Begin a login for the server `config` (looked up by the caller; None when unknown).

        Raises:
            InvalidParams: Unknown server, a stdio server, or a non-positive timeout.
            RequestFailed: The server is unreachable or has no OAuth, or the flow failed before the URL.
        """
        http_config = validate_login_target(name, config)
        if timeout_secs is not None and timeout_secs <= 0:
            raise InvalidParams("timeoutSecs must be positive")
        if self._task_group is None:
            raise RequestFailed("the OAuth service is not running")
        request = LoginRequest(
            name=name,
            config=http_config,
            scopes=tuple(scopes) if scopes is not None else self._step_up_scopes(name, http_config),
            timeout=timeout_secs if timeout_secs is not None else DEFAULT_LOGIN_TIMEOUT_SECONDS,
            client_registration=client_registration or "auto",
        )
        discovery = await discover_for_login(request, self.settings)
        if discovery.challenge is not None and discovery.challenge.status == 401:
            self._keeper(name, http_config.url).note_refusal(discovery.challenge)
        await self._supersede(name)
        attempt = LoginAttempt(
            request=request, settings=self.settings, store=self._store, discovery=discovery
        )
        login_id = uuid.uuid4().hex
        url: str = await self._task_group.start(self._run_login, attempt, login_id, thread_id)
        return LoginStarted(authorization_url=url, login_id=login_id)

    async def _supersede(self, name: str) -> None:
        previous = self._active.get(name)
        if previous is None:
            return
        previous.scope.cancel()
        with anyio.move_on_after(_SUPERSEDE_WAIT_SECONDS):
            await previous.done.wait()

    async def _run_login(
        self, attempt: LoginAttempt, login_id: str, thread_id: str | None, *, task_status: TaskStatus[str]
    ) -> None:
        name = attempt.request.name
        active = _ActiveLogin(login_id)
        self._active[name] = active
        status = _RecordingStatus(task_status)
        error: str | None = None
        try:
            with active.scope:
                try:
                    await attempt.run(task_status=status)
                except RequestFailed as exc:
                    if not status.started_yet:
                        raise
                    error = exc.message
                except Exception:
                    if not status.started_yet:
                        raise
                    logger.exception("OAuth login for MCP server `%s` failed", name)
                    error = f"OAuth login for MCP server '{name}' failed"
        finally:
            active.done.set()
            if self._active.get(name) is active:
                del self._active[name]
        if active.scope.cancelled_caught:
            if not status.started_yet:
                raise RequestFailed(f"OAuth login for MCP server '{name}' was superseded by a newer one")
            error = SUPERSEDED
        self._publish_completion(name, thread_id, login_id, error)
        if error is None:
            self._credentials_changed(name, attempt.request.config.url)
            await self._notify_success(name)

    def _publish_completion(self, name: str, thread_id: str | None, login_id: str, error: str | None) -> None:
        notification = McpServerOauthLoginCompletedNotification(
            name=name, thread_id=thread_id, login_id=login_id, success=error is None, error=error
        )
        self._events.publish(notification)

    async def _notify_success(self, name: str) -> None:
        if self._on_login_success is None:
            return
        try:
            await self._on_login_success(name)
        except Exception:
            logger.exception("refreshing MCP server `%s` after its OAuth login failed", name)

    def _keeper(self, name: str, url: str) -> TokenKeeper:
        key = credential_key(name, url)
        keeper = self._keepers.get(key)
        if keeper is None:
            keeper = self._keepers[key] = TokenKeeper(self._store, name, url)
        return keeper

    def auth_for(self, name: str, config: HttpServerConfig) -> httpx2.Auth | None:
        """The Auth for a connection to `config` (the connection layer's `AuthProvider`).

        None when the server uses `bearer_token_env_var`; otherwise the stored tokens, if any,
        are attached (and refreshed) on every request.
        """
        if config.bearer_token_env_var is not None:
            return None
        return StoredTokenAuth(self._keeper(name, config.url))

    def credential_generation(self, name: str, config: StdioServerConfig | HttpServerConfig) -> str:
        """Changes whenever this process logs the server in or out (part of a connection's identity)."""
        if not isinstance(config, HttpServerConfig):
            return ""
        return str(self._generations.get(credential_key(name, config.url), 0))

    def _credentials_changed(self, name: str, url: str) -> None:
        key = credential_key(name, url)
        self._generations[key] = self._generations.get(key, 0) + 1
        self._keeper(name, url).forget()

    def _step_up_scopes(self, name: str, config: HttpServerConfig) -> tuple[str, ...] | None:
        """After a 403 `insufficient_scope`: the scopes granted (or configured) plus the required ones."""
        refusal = self._keeper(name, config.url).refusal
        if refusal is None or not refusal.insufficient_scope:
            return None
        try:
            stored = self._store.load(name, config.url)
        except RequestFailed:
            stored = None
        granted = stored.tokens.scope if stored is not None and stored.tokens is not None else None
        return union_scopes(tuple(granted.split()) if granted else config.scopes or (), refusal.scopes)

    def auth_status(self, name: str, config: StdioServerConfig | HttpServerConfig) -> AuthStatus:
        """How the server authenticates, from config, the credential store and the refusals seen.

        `notLoggedIn` once a request was refused (401, or 403 `insufficient_scope`: a new login must
        grant more) or when a pre-registered client is configured but no tokens are stored;
        `oAuth` with stored tokens; `unsupported` when nothing says the server uses OAuth;
        `unknown` only when the credential store cannot be read.
        """
        if not isinstance(config, HttpServerConfig):
            return "unsupported"
        if config.bearer_token_env_var is not None:
            return "bearerToken"
        if self._keeper(name, config.url).refusal is not None:
            return "notLoggedIn"
        try:
            stored = self._store.load(name, config.url)
        except RequestFailed:
            return "unknown"
        if stored is not None and stored.tokens is not None:
            return "oAuth"
        return "notLoggedIn" if config.oauth is not None else "unsupported"

    async def logout(self, name: str, config: HttpServerConfig) -> bool:
        """Delete the server's stored credentials; returns whether there were any.

        Raises:
            RequestFailed: The store cannot be written.
        """
        removed = await anyio.to_thread.run_sync(delete_credentials, self._store, name, config.url)
        self._credentials_changed(name, config.url)
        return removed
