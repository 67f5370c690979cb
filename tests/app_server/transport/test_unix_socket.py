"""`--listen unix://PATH` through the real daemon: a private socket, the same protocol, stale and live."""

from __future__ import annotations

import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import InvalidStatus

from tests.support.daemon import Daemon, exchange

pytestmark = pytest.mark.anyio

TOKEN = "test-token-0123456789"
INIT = {"clientInfo": {"name": "tests", "version": "1"}}
DEFAULT_SOCKET = Path("app-server-control") / "app-server-control.sock"


@pytest.fixture
def short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home whose socket path fits AF_UNIX's ~107 bytes (pytest's tmp paths may not)."""
    path = Path(tempfile.mkdtemp(prefix="uds-", dir="/tmp"))
    monkeypatch.setenv("APP_SERVER_HOME", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def listening(home: Path, path: str = "", *args: str) -> AsyncIterator[tuple[Daemon, Path]]:
    """The daemon serving `unix://PATH`, once it says where: (daemon, socket path)."""
    async with Daemon.start(home, "--listen", f"unix://{path}", *args) as daemon:
        found = await daemon.wait_for_stderr(r"listening on unix://(\S+)")
        yield daemon, Path(found.group(1))


def client(path: Path, uri: str = "ws://localhost/", **options: Any) -> Any:
    return unix_connect(str(path), uri, open_timeout=5, **options)


async def initialize(websocket: ClientConnection) -> None:
    answer = await exchange(websocket, {"id": 1, "method": "initialize", "params": INIT})
    assert "userAgent" in answer["result"]


async def refusal_status(path: Path, **options: Any) -> int:
    with anyio.fail_after(5), pytest.raises(InvalidStatus) as refused:
        async with client(path, **options):
            pass
    return refused.value.response.status_code


async def test_the_default_socket_is_private_serves_the_protocol_and_is_removed_at_exit(
    short_home: Path,
) -> None:
    async with listening(short_home) as (daemon, path):
        assert path == short_home / DEFAULT_SOCKET
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        # Codex's clients upgrade on /rpc; any Host will do (no network name to rebind).
        async with client(path, "ws://codex.invalid/rpc") as websocket:
            limit = websocket.response.headers["x-codex-websocket-max-unfragmented-message-bytes"]
            assert int(limit) == 64 * 1024 * 1024
            await initialize(websocket)
            await websocket.send('{"method": "initialized"}')
            answer = await exchange(websocket, {"id": 2, "method": "thread/list", "params": {}})
            assert answer["result"]["data"] == []
        daemon.process.terminate()
        assert await daemon.wait_exit() == 0
        assert not path.exists()


async def test_a_stale_socket_file_is_replaced_and_a_live_one_refused(short_home: Path) -> None:
    path = short_home / "control.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nothing listens: what a killed daemon leaves
    async with listening(short_home, str(path)) as (_daemon, served):
        assert served == path
        async with Daemon.start(short_home, "--listen", f"unix://{path}") as second:
            assert await second.wait_exit() == 2
            assert f"another app-server is already listening on unix://{path}" in second.stderr_text
        assert path.exists(), "the refused daemon leaves the live socket alone"
        async with client(path) as websocket:
            await initialize(websocket)


async def test_a_path_that_is_not_a_socket_is_refused_and_left_alone(short_home: Path) -> None:
    path = short_home / "notes.txt"
    path.write_text("mine")
    async with Daemon.start(short_home, "--listen", f"unix://{path}") as daemon:
        assert await daemon.wait_exit() == 2
        assert "exists and is not a socket" in daemon.stderr_text
    assert path.read_text() == "mine"


async def test_a_configured_token_is_required_and_a_foreign_origin_refused(short_home: Path) -> None:
    token_file = short_home / "token"
    token_file.write_text(TOKEN)
    args = ("--ws-token-file", str(token_file), "--ws-allowed-origin", "https://app.example")
    async with listening(short_home, "", *args) as (_daemon, path):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert await refusal_status(path) == 401
        assert await refusal_status(path, additional_headers={"Authorization": "Bearer wrong"}) == 401
        assert await refusal_status(path, additional_headers=auth, origin="https://evil.example") == 403
        async with client(path, additional_headers=auth, origin="https://app.example") as websocket:
            await initialize(websocket)
