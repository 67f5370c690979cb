"""The account store: login, logout, persistence with mode 0600, `account/updated`, no secrets in reprs."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from app_server.auth import AUTH_FILE_NAME, AuthStore
from app_server.errors import InvalidParams
from app_server.events import EventBus
from protocol.account import ApiKeyLogin, ChatgptAuthTokensLogin, ChatgptDeviceCodeLogin, ChatgptLogin


@pytest.fixture
def events() -> tuple[EventBus, list[tuple[str, dict[str, Any]]]]:
    bus = EventBus()
    received: list[tuple[str, dict[str, Any]]] = []
    bus.subscribe(lambda method, params: received.append((method, params)))
    return bus, received


def test_a_new_home_is_signed_out(home: Path) -> None:
    store = AuthStore(home, EventBus())
    assert store.kind == "none"
    assert store.read().to_wire() == {"account": None, "requiresOpenaiAuth": True, "userId": None}


LOGIN_COMPLETED = (
    "account/login/completed",
    {"loginId": None, "success": True, "error": None, "onboardingEntrypoint": None},
)


def test_api_key_login_persists_with_mode_0600_and_is_announced(home: Path, events: Any) -> None:
    bus, received = events
    store = AuthStore(home, bus)
    assert store.login(ApiKeyLogin(api_key=SecretStr("sk-123"))).to_wire() == {"type": "apiKey"}
    path = home / AUTH_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.kind == "apiKey"
    assert store.api_key() == "sk-123"
    assert store.read().to_wire()["account"] == {"type": "apiKey"}
    assert received == [LOGIN_COMPLETED, ("account/updated", {"authMode": "apikey", "planType": None})]
    assert AuthStore(home, EventBus()).api_key() == "sk-123"
    assert list(home.iterdir()) == [path]


@pytest.mark.parametrize(("plan", "wire_plan"), [("plus", "plus"), ("mystery", "unknown"), (None, "unknown")])
def test_chatgpt_tokens_login_reports_the_plan(
    home: Path, events: Any, plan: str | None, wire_plan: str
) -> None:
    bus, received = events
    store = AuthStore(home, bus)
    params = ChatgptAuthTokensLogin(
        access_token=SecretStr("at-1"), chatgpt_account_id="acct", chatgpt_plan_type=plan
    )
    assert store.login(params).to_wire() == {"type": "chatgptAuthTokens"}
    assert store.kind == "chatgpt"
    assert (store.chatgpt_access_token(), store.chatgpt_account_id()) == ("at-1", "acct")
    assert store.read().to_wire()["account"] == {
        "type": "chatgpt",
        "email": None,
        "planType": wire_plan,
        "workspaceName": None,
    }
    assert received == [
        LOGIN_COMPLETED,
        ("account/updated", {"authMode": "chatgptAuthTokens", "planType": wire_plan}),
    ]
    reloaded = AuthStore(home, EventBus())
    assert (reloaded.kind, reloaded.chatgpt_access_token()) == ("chatgpt", "at-1")


def test_logout_forgets_credentials_and_is_announced(home: Path, events: Any) -> None:
    bus, received = events
    store = AuthStore(home, bus)
    store.login_api_key("sk-1")
    assert store.logout().to_wire() == {}
    assert store.kind == "none"
    assert not (home / AUTH_FILE_NAME).exists()
    assert received[-1] == ("account/updated", {"authMode": None, "planType": None})
    assert AuthStore(home, EventBus()).kind == "none"
    store.logout()
    assert len(received) == 4  # the login's two, and one update per logout


@pytest.mark.parametrize(
    "params",
    [
        ChatgptLogin(),
        ChatgptDeviceCodeLogin(),
        ApiKeyLogin(api_key=SecretStr("  ")),
        ChatgptAuthTokensLogin(access_token=SecretStr(""), chatgpt_account_id="a"),
    ],
)
def test_unsupported_or_blank_logins_are_invalid_params(home: Path, params: Any) -> None:
    store = AuthStore(home, EventBus())
    with pytest.raises(InvalidParams):
        store.login(params)
    assert store.kind == "none"
    assert not (home / AUTH_FILE_NAME).exists()


def test_a_corrupt_auth_file_starts_signed_out_without_logging_its_content(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (home / AUTH_FILE_NAME).write_text('{"auth": {"auth_mode": "apikey", "api_key": 5, "x": "sk-leak"}}')
    assert AuthStore(home, EventBus()).kind == "none"
    assert "sk-leak" not in caplog.text
    assert AUTH_FILE_NAME in caplog.text


def test_secrets_never_show_in_reprs(home: Path) -> None:
    store = AuthStore(home, EventBus())
    store.login_chatgpt_tokens("at-secret", "acct")
    assert "at-secret" not in repr(store._auth)
    assert json.loads((home / AUTH_FILE_NAME).read_text())["auth"]["access_token"] == "at-secret"
