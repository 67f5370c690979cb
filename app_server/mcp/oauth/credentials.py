"""The MCP OAuth credential store: one entry per server (name + URL hash), in a 0600 file or the keyring.

The file backend keeps every entry in `<home>/.credentials.json`; each change happens under a
cross-process lock (`.credentials.json.lock`) and lands atomically (temp file created 0600 in the
same directory, fsync, rename), so concurrent daemons and CLI invocations never see half a file
or lose each other's entries. The keyring backend stores one JSON entry per key under the service
`app-server-mcp`. `auto` uses the keyring when a real backend is available, else the file.

Tokens and client secrets are `SecretStr` or hidden from reprs; they are revealed only when an
entry is serialized for storage. No message raised here names a path or carries a secret.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer

from app_server.errors import RequestFailed
from app_server.home import home_dir

logger = logging.getLogger(__name__)

StoreMode = Literal["auto", "file", "keyring"]
KEYRING_SERVICE = "app-server-mcp"
CREDENTIALS_FILE = ".credentials.json"
_LOCK_TIMEOUT_SECONDS = 10.0


def credential_key(server_name: str, server_url: str) -> str:
    """The store key of one server: its name and a hash of its URL (a changed URL is a different server)."""
    return f"{server_name}|{hashlib.sha256(server_url.encode()).hexdigest()[:16]}"


class StoredTokens(BaseModel):
    """The tokens of one login; `expires_at` is absolute (epoch seconds) so it survives restarts."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    token_type: str = "Bearer"
    expires_at: float | None = None
    scope: str | None = None

    @field_serializer("access_token", "refresh_token", when_used="json")
    def _reveal_for_storage(self, value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        """Whether the access token is expired or will be within `seconds` (never, without an expiry)."""
        if self.expires_at is None:
            return False
        return self.expires_at - seconds <= (time.time() if now is None else now)


class StoredCredentials(BaseModel):
    """Everything needed to use and refresh one server's login without rediscovery."""

    model_config = ConfigDict(frozen=True)

    server_name: str
    server_url: str
    client: dict[str, Any] = Field(default_factory=dict, repr=False)
    """The RFC 7591 client registration as the authorization server answered it (may hold a secret)."""
    token_endpoint: str | None = None
    resources: tuple[str, ...] = ()
    """The RFC 8707 resources the tokens were issued for (the server's, then `oauth_resource`);
    sent again on every refresh."""
    tokens: StoredTokens | None = None

    @property
    def key(self) -> str:
        return credential_key(self.server_name, self.server_url)


Change = Callable[[StoredCredentials | None], StoredCredentials | None]
"""Maps the current entry (or None) to the new one (None deletes it)."""


class CredentialStore(Protocol):
    """Where credentials live; every method is blocking (call it from a worker thread in async code)."""

    def load(self, server_name: str, server_url: str) -> StoredCredentials | None:
        """The entry of one server, or None.

        Raises:
            RequestFailed: The store cannot be read.
        """
        ...

    def update(self, server_name: str, server_url: str, change: Change) -> StoredCredentials | None:
        """Replace one entry by `change(current)` as one step; returns the new entry.

        Raises:
            RequestFailed: The store cannot be read or written.
        """
        ...


def save_credentials(store: CredentialStore, credentials: StoredCredentials) -> None:
    """Store (insert or replace) one server's entry."""
    store.update(credentials.server_name, credentials.server_url, lambda _current: credentials)


def delete_credentials(store: CredentialStore, server_name: str, server_url: str) -> bool:
    """Remove one server's entry (`app-server mcp logout`); returns whether there was one."""
    existed = False

    def remove(current: StoredCredentials | None) -> None:
        nonlocal existed
        existed = current is not None

    store.update(server_name, server_url, remove)
    return existed


def clear_tokens(store: CredentialStore, server_name: str, server_url: str) -> None:
    """Forget one server's tokens but keep its client registration for the next login."""
    store.update(
        server_name,
        server_url,
        lambda current: current.model_copy(update={"tokens": None}) if current is not None else None,
    )


def _parse_entry(raw: Any) -> StoredCredentials | None:
    try:
        return StoredCredentials.model_validate(raw)
    except ValidationError:
        logger.warning("ignoring an unreadable MCP credential entry")
        return None


def _entry_json(credentials: StoredCredentials) -> Any:
    return credentials.model_dump(mode="json", exclude_none=True)


class FileCredentialStore:
    """All entries in one JSON object `{key: entry}`, changed under a file lock, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock", timeout=_LOCK_TIMEOUT_SECONDS)

    def load(self, server_name: str, server_url: str) -> StoredCredentials | None:
        with self._locked():
            raw = self._read_all().get(credential_key(server_name, server_url))
        return _parse_entry(raw) if raw is not None else None

    def update(self, server_name: str, server_url: str, change: Change) -> StoredCredentials | None:
        key = credential_key(server_name, server_url)
        with self._locked():
            entries = self._read_all()
            current = _parse_entry(entries[key]) if key in entries else None
            new = change(current)
            if new is None and key not in entries:
                return None
            if new is None:
                del entries[key]
            else:
                entries[key] = _entry_json(new)
            self._write_all(entries)
        return new

    @contextlib.contextmanager
    def _locked(self) -> Any:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                yield
        except Timeout as exc:
            raise RequestFailed("the MCP credential store is locked by another process; try again") from exc
        except OSError as exc:
            raise RequestFailed("the MCP credential store could not be opened") from exc

    def _read_all(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise RequestFailed("the MCP credential store is not valid JSON; remove or repair it") from exc
        if not isinstance(data, dict):
            raise RequestFailed("the MCP credential store is not a JSON object; remove or repair it")
        return data

    def _write_all(self, entries: dict[str, Any]) -> None:
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(entries, file, indent=2, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise


class KeyringCredentialStore:
    """One keyring entry per server key under the service `app-server-mcp`, holding the entry's JSON."""

    def __init__(self, keyring_backend: Any) -> None:
        self._keyring = keyring_backend

    def load(self, server_name: str, server_url: str) -> StoredCredentials | None:
        text = self._get(credential_key(server_name, server_url))
        if text is None:
            return None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            logger.warning("ignoring an unreadable MCP credential entry in the keyring")
            return None
        return _parse_entry(raw)

    def update(self, server_name: str, server_url: str, change: Change) -> StoredCredentials | None:
        from keyring.errors import KeyringError, PasswordDeleteError

        key = credential_key(server_name, server_url)
        current = self.load(server_name, server_url)
        new = change(current)
        try:
            if new is not None:
                self._keyring.set_password(KEYRING_SERVICE, key, json.dumps(_entry_json(new)))
            elif current is not None:
                with contextlib.suppress(PasswordDeleteError):
                    self._keyring.delete_password(KEYRING_SERVICE, key)
        except KeyringError as exc:
            raise RequestFailed("the OS keyring refused to store MCP credentials") from exc
        return new

    def _get(self, key: str) -> str | None:
        from keyring.errors import KeyringError

        try:
            value = self._keyring.get_password(KEYRING_SERVICE, key)
        except KeyringError as exc:
            raise RequestFailed("the OS keyring could not be read") from exc
        return value if isinstance(value, str) else None


def usable_keyring() -> Any | None:
    """The active keyring backend when it can store secrets, else None (no backend, or a failing one)."""
    import keyring
    from keyring.backends import fail, null
    from keyring.errors import KeyringError

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    try:
        backend.get_password(KEYRING_SERVICE, "__probe__")
    except KeyringError:
        return None
    return backend


def open_credential_store(mode: StoreMode = "auto", home: Path | None = None) -> CredentialStore:
    """The store `mcp_oauth_credentials_store` selects.

    Raises:
        RequestFailed: `keyring` was asked for and no usable keyring exists.
    """
    if mode != "file":
        backend = usable_keyring()
        if backend is not None:
            return KeyringCredentialStore(backend)
        if mode == "keyring":
            raise RequestFailed(
                "mcp_oauth_credentials_store is `keyring` but no OS keyring is available; "
                "use `file` or `auto`"
            )
    return FileCredentialStore((home or home_dir()) / CREDENTIALS_FILE)
