"""The credential store: file (0600, atomic, locked across processes) and keyring backends."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from pydantic import SecretStr

from app_server.errors import RequestFailed
from app_server.mcp.oauth.credentials import (
    FileCredentialStore,
    KeyringCredentialStore,
    StoredCredentials,
    StoredTokens,
    clear_tokens,
    credential_key,
    delete_credentials,
    open_credential_store,
    save_credentials,
)

REPO_ROOT = Path(__file__).resolve().parents[4]
URL = "http://127.0.0.1:8000/mcp"


def _credentials(name: str = "docs", token: str = "secret-access") -> StoredCredentials:
    return StoredCredentials(
        server_name=name,
        server_url=URL,
        client={"client_id": "cid", "client_secret": "secret-client"},
        token_endpoint="http://127.0.0.1:8000/token",
        resources=(URL,),
        tokens=StoredTokens(
            access_token=SecretStr(token), refresh_token=SecretStr("secret-refresh"), expires_at=1.0
        ),
    )


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps entries in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username))


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_the_key_is_the_name_and_a_hash_of_the_url() -> None:
    key = credential_key("docs", URL)
    assert key.startswith("docs|")
    assert len(key.split("|")[1]) == 16
    assert credential_key("docs", URL + "/other") != key


def test_the_file_is_written_with_mode_0600_and_no_temp_file_is_left(home: Path) -> None:
    store = FileCredentialStore(home / ".credentials.json")
    save_credentials(store, _credentials())

    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert sorted(path.name for path in home.iterdir()) == [".credentials.json", ".credentials.json.lock"]
    entry = json.loads(store.path.read_text())[credential_key("docs", URL)]
    assert entry["tokens"]["access_token"] == "secret-access"
    assert store.load("docs", URL) == _credentials()


def test_reprs_never_show_tokens_or_client_secrets() -> None:
    text = repr(_credentials()) + str(_credentials())
    assert "secret-" not in text


def test_clearing_tokens_keeps_the_registration_and_delete_reports_whether_there_was_an_entry(
    home: Path,
) -> None:
    store = FileCredentialStore(home / ".credentials.json")
    save_credentials(store, _credentials())
    clear_tokens(store, "docs", URL)
    cleared = store.load("docs", URL)

    assert cleared is not None and cleared.tokens is None and cleared.client["client_id"] == "cid"
    assert delete_credentials(store, "docs", URL) is True
    assert delete_credentials(store, "docs", URL) is False
    assert store.load("docs", URL) is None


def test_an_unreadable_file_fails_without_naming_its_path(home: Path) -> None:
    store = FileCredentialStore(home / ".credentials.json")
    store.path.write_text("{not json")
    with pytest.raises(RequestFailed) as raised:
        store.load("docs", URL)
    assert str(home) not in raised.value.message


@pytest.mark.anyio
async def test_two_processes_writing_at_once_lose_no_entry(home: Path) -> None:
    path = home / ".credentials.json"
    command = [sys.executable, "-m", "tests.fixtures.oauth.store_writer", str(path)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    async def run_writer(prefix: str) -> None:
        await anyio.run_process([*command, prefix, "25"], cwd=REPO_ROOT, env=env)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for prefix in ("a", "b"):
                tg.start_soon(run_writer, prefix)

    entries = json.loads(path.read_text())
    assert len(entries) == 50
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_auto_falls_back_to_the_file_when_no_keyring_works(home: Path, restore_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    assert isinstance(open_credential_store("auto", home), FileCredentialStore)
    with pytest.raises(RequestFailed, match="no OS keyring is available"):
        open_credential_store("keyring", home)


def test_a_working_keyring_stores_one_entry_per_server(home: Path, restore_keyring: None) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    store = open_credential_store("auto", home)
    assert isinstance(store, KeyringCredentialStore)
    assert isinstance(open_credential_store("file", home), FileCredentialStore)

    save_credentials(store, _credentials())
    assert list(backend.entries) == [("app-server-mcp", credential_key("docs", URL))]
    assert store.load("docs", URL) == _credentials()
    assert delete_credentials(store, "docs", URL) is True
    assert backend.entries == {}
    assert not (home / ".credentials.json").exists()
