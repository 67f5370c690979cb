"""The WebSocket listener with a real client against the real daemon: the gate and per-connection state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from protocol import errors as codes
from tests.support.daemon import Daemon, exchange

TOKEN = "test-token-0123456789"
INIT = {"clientInfo": {"name": "tests", "version": "1"}}


async def refusal_status(uri: str, **options: Any) -> int:
    with anyio.fail_after(5), pytest.raises(InvalidStatus) as refused:
        async with connect(uri, **options):
            pass
    return refused.value.response.status_code


@pytest.mark.anyio
async def test_the_gate_refuses_missing_token_foreign_origin_and_wrong_host(home: Path) -> None:
    async with Daemon.listening(home, TOKEN) as (_, port):
        uri = f"ws://127.0.0.1:{port}/"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert await refusal_status(uri) == 401
        assert await refusal_status(uri, additional_headers={"Authorization": "Bearer wrong"}) == 401
        assert await refusal_status(uri, additional_headers=auth, origin="https://evil.example") == 403
        # The TCP connection goes to the listener, but Host names another site (DNS rebinding).
        rebound = f"ws://rebound.example:{port}/"
        assert await refusal_status(rebound, additional_headers=auth, host="127.0.0.1", port=port) == 421
        async with connect(f"ws://localhost:{port}/", additional_headers=auth) as websocket:
            answer = await exchange(websocket, {"id": 1, "method": "initialize", "params": INIT})
        assert "result" in answer


@pytest.mark.anyio
async def test_an_allowed_origin_is_let_through(home: Path) -> None:
    async with Daemon.listening(home, TOKEN, "--ws-allowed-origin", "https://app.example") as (_, port):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(
            f"ws://127.0.0.1:{port}/", additional_headers=auth, origin="https://app.example"
        ) as ws:
            assert "result" in await exchange(ws, {"id": 1, "method": "initialize", "params": INIT})


@pytest.mark.anyio
async def test_health_endpoints_answer_without_a_token(home: Path) -> None:
    async with Daemon.listening(home, TOKEN) as (_, port), httpx2.AsyncClient() as client:
        with anyio.fail_after(5):
            for path in ("/healthz", "/readyz"):
                assert (await client.get(f"http://127.0.0.1:{port}{path}")).status_code == 200


@pytest.mark.anyio
async def test_each_connection_has_its_own_initialize_state(home: Path) -> None:
    async with Daemon.listening(home, TOKEN) as (_, port):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        uri = f"ws://127.0.0.1:{port}/"
        async with (
            connect(uri, additional_headers=auth) as first,
            connect(uri, additional_headers=auth) as second,
        ):
            assert "result" in await exchange(first, {"id": 1, "method": "initialize", "params": INIT})
            early = await exchange(second, {"id": 1, "method": "no/such"})
            assert early["error"]["code"] == codes.NOT_INITIALIZED
            assert "result" in await exchange(second, {"id": 2, "method": "initialize", "params": INIT})
            again = await exchange(first, {"id": 2, "method": "initialize", "params": INIT})
            assert again["error"] == {"code": codes.NOT_INITIALIZED, "message": "Already initialized"}


@pytest.mark.anyio
async def test_a_frame_over_the_size_limit_closes_that_connection_only(home: Path) -> None:
    async with Daemon.listening(home, TOKEN, "--max-message-bytes", "1024") as (_, port):
        auth = {"Authorization": f"Bearer {TOKEN}"}
        uri = f"ws://127.0.0.1:{port}/"
        async with connect(uri, additional_headers=auth) as websocket:
            await websocket.send("x" * 2048)
            with anyio.fail_after(5):
                await websocket.wait_closed()
            assert websocket.close_code == 1009
        async with connect(uri, additional_headers=auth) as websocket:
            assert "result" in await exchange(websocket, {"id": 1, "method": "initialize", "params": INIT})


@pytest.mark.anyio
async def test_a_non_loopback_address_is_refused_without_a_token(home: Path) -> None:
    async with Daemon.start(home, "--listen", "ws://0.0.0.0:0") as daemon:
        assert await daemon.wait_exit() == 2
        assert "non-loopback" in daemon.stderr_text
