"""The account the server talks to model providers as: none, an API key, or client-supplied ChatGPT tokens.

Persisted in `<home>/auth.json`, written atomically with mode 0600 from creation. Every change is
announced as `account/updated`, a login first as `account/login/completed`. Credentials are
SecretStr: they never appear in reprs or logs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from app_server.errors import InvalidParams
from app_server.events import EventBus
from protocol.account import (
    ApiKeyAccount,
    ApiKeyLogin,
    ApiKeyLoginResult,
    ChatgptAccount,
    ChatgptAuthTokensLogin,
    ChatgptAuthTokensLoginResult,
    GetAccountResponse,
    LoginAccountParams,
    LoginAccountResponse,
    LogoutAccountResponse,
    PlanType,
)
from protocol.notifications import AccountLoginCompletedNotification, AccountUpdatedNotification

AUTH_FILE_NAME = "auth.json"

AccountKind = Literal["none", "apiKey", "chatgpt"]
"""What the effective MCP view is gated on."""

_PLAN_TYPES: frozenset[str] = frozenset(typing.get_args(PlanType))
_log = logging.getLogger(__name__)


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _ApiKeyAuth(_Frozen):
    auth_mode: Literal["apikey"] = "apikey"
    api_key: SecretStr


class _ChatgptTokensAuth(_Frozen):
    auth_mode: Literal["chatgptAuthTokens"] = "chatgptAuthTokens"
    access_token: SecretStr
    account_id: str
    plan_type: str | None = None


_StoredAuth = Annotated[_ApiKeyAuth | _ChatgptTokensAuth, Field(discriminator="auth_mode")]


class _AuthFile(_Frozen):
    auth: _StoredAuth


class AuthStore:
    """The signed-in account; reads and writes `<home>/auth.json` and publishes `account/updated`.

    File I/O is a few hundred bytes, done synchronously: callers need not leave the event loop.
    """

    def __init__(self, home: Path, events: EventBus) -> None:
        self._path = home / AUTH_FILE_NAME
        self._events = events
        self._auth = self._load()

    @property
    def kind(self) -> AccountKind:
        if isinstance(self._auth, _ApiKeyAuth):
            return "apiKey"
        if isinstance(self._auth, _ChatgptTokensAuth):
            return "chatgpt"
        return "none"

    def api_key(self) -> str | None:
        """The account's OpenAI API key, for the model client."""
        return _reveal(self._auth.api_key) if isinstance(self._auth, _ApiKeyAuth) else None

    def chatgpt_access_token(self) -> str | None:
        """The ChatGPT access token, for the model client and the hosted apps (`codex_apps`) server."""
        return _reveal(self._auth.access_token) if isinstance(self._auth, _ChatgptTokensAuth) else None

    def chatgpt_account_id(self) -> str | None:
        return self._auth.account_id if isinstance(self._auth, _ChatgptTokensAuth) else None

    def read(self) -> GetAccountResponse:
        """The `account/read` result."""
        account: ApiKeyAccount | ChatgptAccount | None = None
        if isinstance(self._auth, _ApiKeyAuth):
            account = ApiKeyAccount()
        elif isinstance(self._auth, _ChatgptTokensAuth):
            account = ChatgptAccount(plan_type=_plan_type(self._auth.plan_type))
        return GetAccountResponse(account=account, requires_openai_auth=True)

    def login(self, params: LoginAccountParams) -> LoginAccountResponse:
        """`account/login/start` for the login types this server completes itself.

        Raises InvalidParams for browser and device-code logins and for Bedrock credentials.
        """
        if isinstance(params, ApiKeyLogin):
            return self.login_api_key(_reveal(params.api_key))
        if isinstance(params, ChatgptAuthTokensLogin):
            return self.login_chatgpt_tokens(
                _reveal(params.access_token), params.chatgpt_account_id, params.chatgpt_plan_type
            )
        raise InvalidParams(f"login type `{params.type}` is not supported by this server")

    def login_api_key(self, api_key: str) -> ApiKeyLoginResult:
        """Sign in with an API key. Raises InvalidParams when it is blank."""
        if not api_key.strip():
            raise InvalidParams("apiKey must not be empty")
        self._store(_ApiKeyAuth(api_key=SecretStr(api_key.strip())))
        return ApiKeyLoginResult()

    def login_chatgpt_tokens(
        self, access_token: str, account_id: str, plan_type: str | None = None
    ) -> ChatgptAuthTokensLoginResult:
        """Sign in with ChatGPT tokens the client obtained. Raises InvalidParams when one is blank."""
        if not access_token.strip() or not account_id.strip():
            raise InvalidParams("accessToken and chatgptAccountId must not be empty")
        auth = _ChatgptTokensAuth(
            access_token=SecretStr(access_token.strip()), account_id=account_id.strip(), plan_type=plan_type
        )
        self._store(auth)
        return ChatgptAuthTokensLoginResult()

    def logout(self) -> LogoutAccountResponse:
        """Forget the stored credentials (also when there were none) and announce it."""
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._auth = None
        self._publish()
        return LogoutAccountResponse()

    def _store(self, auth: _ApiKeyAuth | _ChatgptTokensAuth) -> None:
        text = json.dumps({"auth": _plain(auth)}, indent=2)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_name(f".{AUTH_FILE_NAME}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        self._auth = auth
        # As Codex does for the logins it completes at once: no login id, completed before updated.
        self._events.publish(AccountLoginCompletedNotification(success=True))
        self._publish()

    def _publish(self) -> None:
        notification = AccountUpdatedNotification()
        if isinstance(self._auth, _ApiKeyAuth):
            notification = AccountUpdatedNotification(auth_mode="apikey")
        elif isinstance(self._auth, _ChatgptTokensAuth):
            notification = AccountUpdatedNotification(
                auth_mode="chatgptAuthTokens", plan_type=_plan_type(self._auth.plan_type)
            )
        self._events.publish(notification)

    def _load(self) -> _ApiKeyAuth | _ChatgptTokensAuth | None:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _AuthFile.model_validate_json(data).auth
        except ValidationError:
            # The content may hold credentials: say only that it was unusable.
            _log.warning("%s is not a valid auth file; starting signed out", AUTH_FILE_NAME)
            return None


def _plain(auth: _ApiKeyAuth | _ChatgptTokensAuth) -> dict[str, object]:
    data = auth.model_dump()
    return {key: _reveal(value) if isinstance(value, SecretStr) else value for key, value in data.items()}


def _plan_type(raw: str | None) -> PlanType:
    return typing.cast(PlanType, raw) if raw in _PLAN_TYPES else "unknown"
