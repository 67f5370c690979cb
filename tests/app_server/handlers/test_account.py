"""`account/read`, `account/login/start`, `account/logout` through the real daemon over stdio."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol import errors as codes
from tests.support.config import write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

API_KEY = "sk-test-4f9c2a7e1b"
ACCESS_TOKEN = "chatgpt-access-8d31b6"
NO_ACCOUNT = {"account": None, "requiresOpenaiAuth": True, "userId": None}


@pytest.fixture(scope="module")
def daemon_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    write_config(home, features={"apps": False})
    return home


@pytest.fixture(scope="module")
async def daemon(daemon_home: Path) -> AsyncIterator[Daemon]:
    async with Daemon.start(daemon_home, max_wait=30) as running:
        await running.initialize()
        yield running


LOGIN_COMPLETED = "account/login/completed"


async def signed_out(daemon: Daemon) -> None:
    """Start from no account (tests share the daemon), taking the `account/updated` it causes."""
    assert await daemon.call("account/logout") == {}
    assert (await daemon.next_notification("account/updated"))["params"]["authMode"] is None
    for _ in [m for m in daemon.untaken() if m.get("method") == LOGIN_COMPLETED]:
        await daemon.next_notification(LOGIN_COMPLETED)  # earlier tests' logins


async def updated(daemon: Daemon) -> dict[str, Any]:
    return dict((await daemon.next_notification("account/updated"))["params"])


async def test_without_credentials_there_is_no_account(daemon: Daemon) -> None:
    await signed_out(daemon)
    assert await daemon.call("account/read", {}) == NO_ACCOUNT


async def test_an_api_key_login_is_announced_read_back_and_stored_private(
    daemon: Daemon, daemon_home: Path
) -> None:
    await signed_out(daemon)
    login = {"type": "apiKey", "apiKey": API_KEY}
    assert await daemon.call("account/login/start", login) == {"type": "apiKey"}
    assert await updated(daemon) == {"authMode": "apikey", "planType": None}
    read = await daemon.call("account/read", {})
    assert read["account"] == {"type": "apiKey"}
    auth_file = daemon_home / "auth.json"
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    assert API_KEY in auth_file.read_text()


@pytest.mark.parametrize(
    "login",
    [
        {"type": "apiKey", "apiKey": API_KEY},
        {"type": "chatgptAuthTokens", "accessToken": ACCESS_TOKEN, "chatgptAccountId": "account-1"},
    ],
)
async def test_a_login_is_completed_with_codex_keys_before_the_account_is_updated(
    daemon: Daemon, login: dict[str, Any]
) -> None:
    await signed_out(daemon)
    await daemon.call("account/login/start", login)

    first = await daemon.next_message(lambda m: m.get("method") in {LOGIN_COMPLETED, "account/updated"})
    assert first["method"] == LOGIN_COMPLETED
    assert first["params"] == {"loginId": None, "success": True, "error": None, "onboardingEntrypoint": None}
    assert (await updated(daemon))["authMode"] is not None


async def test_chatgpt_tokens_login_reports_the_plan_and_logout_forgets_it(
    daemon: Daemon, daemon_home: Path
) -> None:
    await signed_out(daemon)
    login = {
        "type": "chatgptAuthTokens",
        "accessToken": ACCESS_TOKEN,
        "chatgptAccountId": "account-1",
        "chatgptPlanType": "plus",
    }
    assert await daemon.call("account/login/start", login) == {"type": "chatgptAuthTokens"}
    assert await updated(daemon) == {"authMode": "chatgptAuthTokens", "planType": "plus"}
    account = (await daemon.call("account/read", {}))["account"]
    assert (account["type"], account["planType"]) == ("chatgpt", "plus")
    auth_file = daemon_home / "auth.json"
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600

    assert await daemon.call("account/logout") == {}
    assert await updated(daemon) == {"authMode": None, "planType": None}
    assert await daemon.call("account/read", {}) == NO_ACCOUNT
    assert not auth_file.exists()


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ({"type": "apiKey", "apiKey": "  "}, "apiKey must not be empty"),
        (
            {"type": "chatgptDeviceCode"},
            "login type `chatgptDeviceCode` is not supported by this server",
        ),
    ],
)
async def test_a_login_the_server_cannot_complete_is_invalid_params_and_changes_nothing(
    daemon: Daemon, login: dict[str, Any], message: str
) -> None:
    await signed_out(daemon)
    response = await daemon.request("account/login/start", login)
    assert response["error"] == {"code": codes.INVALID_PARAMS, "message": message}
    assert await daemon.call("account/read", {}) == NO_ACCOUNT
    assert [m for m in daemon.untaken() if m.get("method") == LOGIN_COMPLETED] == []


async def test_no_credential_ever_reaches_the_daemon_stderr(daemon: Daemon) -> None:
    await signed_out(daemon)
    await daemon.call("account/login/start", {"type": "apiKey", "apiKey": API_KEY})
    await updated(daemon)
    # A request answered after the login proves the daemon has written whatever it logs about it.
    await daemon.call("account/read", {})
    assert API_KEY not in daemon.stderr_text
    assert ACCESS_TOKEN not in daemon.stderr_text
