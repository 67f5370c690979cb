"""`thread/delete` and `thread/unsubscribe` through the real stdio daemon: a deleted thread's
journal is gone, an unsubscribed one unloads, and either way the servers only it used exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.app_server.threads.test_pinning import held, one_pid
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, cheap_server, turn_daemon
from tests.support.daemon import Daemon, exchange
from tests.support.processes import wait_gone

pytestmark = pytest.mark.anyio

INVALID_PARAMS = -32602
UNKNOWN_ID = "0190e7c1-0000-7000-8000-000000000000"
TOKEN = "test-token-0123456789"
INIT = {"clientInfo": {"name": "tests", "version": "1"}}
HELD_TURN = [{"text": "done", "hold": "before_response"}]


async def test_a_deleted_thread_is_gone_from_disk_read_and_list_and_its_own_server_exits(home: Path) -> None:
    servers = {"own": cheap_server("own", isolation="thread")}
    async with turn_daemon(home, [], servers) as turns:
        thread_id = await turns.start_thread()
        await turns.server_ready("own", thread_id)
        pid = one_pid(turns, "own")
        journal = home / "threads" / f"{thread_id}.jsonl"
        assert journal.exists()
        assert await turns.daemon.call("thread/delete", {"threadId": thread_id}) == {}
        note = await turns.daemon.next_notification("thread/deleted")
        assert note["params"] == {"threadId": thread_id}
        assert not journal.exists()
        await wait_gone([pid])
        read = await turns.daemon.request("thread/read", {"threadId": thread_id})
        assert read["error"]["code"] == INVALID_PARAMS
        listed = await turns.daemon.call("thread/list", {})
        assert thread_id not in {thread["id"] for thread in listed["data"]}
        assert thread_id not in (await turns.daemon.call("thread/loaded/list", {}))["data"]


async def test_a_stored_thread_is_deleted_without_loading_it_and_leaves_the_list_index(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        thread_id = (await daemon.call("thread/start", {"cwd": str(tmp_path)}))["thread"]["id"]
    index = home / "threads" / ".index.json"
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        await daemon.call("thread/list", {})
        assert thread_id in index.read_text()
        assert await daemon.call("thread/delete", {"threadId": thread_id}) == {}
        assert thread_id not in index.read_text()
        assert (await daemon.call("thread/list", {}))["data"] == []
        assert (await daemon.call("thread/loaded/list", {}))["data"] == []


async def test_delete_refuses_an_unknown_thread_and_one_whose_turn_runs(home: Path) -> None:
    async with turn_daemon(home, HELD_TURN, {}) as turns:
        unknown = await turns.daemon.request("thread/delete", {"threadId": UNKNOWN_ID})
        assert unknown["error"]["code"] == INVALID_PARAMS
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await held(turns, 0)
        running = await turns.daemon.request("thread/delete", {"threadId": thread_id})
        assert running["error"]["code"] == INVALID_PARAMS
        assert "turn in progress" in running["error"]["message"]
        turns.model.release(0)
        await turns.turn_completed(turn_id)
        assert (home / "threads" / f"{thread_id}.jsonl").exists()


async def test_the_last_unsubscribe_unloads_the_thread_announces_it_closed_and_its_own_server_exits(
    home: Path,
) -> None:
    servers = {"own": cheap_server("own", isolation="thread")}
    async with turn_daemon(home, [], servers) as turns:
        daemon = turns.daemon
        assert await daemon.call("thread/unsubscribe", {"threadId": UNKNOWN_ID}) == {"status": "notLoaded"}
        thread_id = await turns.start_thread()
        await turns.server_ready("own", thread_id)
        pid = one_pid(turns, "own")
        assert await daemon.call("thread/unsubscribe", {"threadId": thread_id}) == {"status": "unsubscribed"}
        note = await daemon.next_notification("thread/closed")
        assert note["params"] == {"threadId": thread_id}
        await wait_gone([pid])
        assert (await daemon.call("thread/loaded/list", {}))["data"] == []
        assert await daemon.call("thread/unsubscribe", {"threadId": thread_id}) == {"status": "notLoaded"}
        read = await daemon.call("thread/read", {"threadId": thread_id})
        assert read["thread"]["status"] == {"type": "notLoaded"}
        await daemon.call("thread/resume", {"threadId": thread_id})
        assert (await daemon.call("thread/loaded/list", {}))["data"] == [thread_id]


async def test_a_thread_whose_turn_runs_unloads_only_once_the_turn_ends(home: Path) -> None:
    async with turn_daemon(home, HELD_TURN, {}) as turns:
        daemon = turns.daemon
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        await held(turns, 0)
        assert await daemon.call("thread/unsubscribe", {"threadId": thread_id}) == {"status": "unsubscribed"}
        assert (await daemon.call("thread/loaded/list", {}))["data"] == [thread_id]
        turns.model.release(0)
        await turns.turn_completed(turn_id)
        note = await daemon.next_notification("thread/closed")
        assert note["params"] == {"threadId": thread_id}
        assert (await daemon.call("thread/loaded/list", {}))["data"] == []


async def test_a_connection_that_closes_unsubscribes_from_the_threads_it_followed(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.listening(home, TOKEN) as (_, port):
        uri, auth = f"ws://127.0.0.1:{port}/", {"Authorization": f"Bearer {TOKEN}"}
        async with connect(uri, additional_headers=auth) as observer:
            await exchange(observer, {"id": 1, "method": "initialize", "params": INIT})
            async with connect(uri, additional_headers=auth) as follower:
                await exchange(follower, {"id": 1, "method": "initialize", "params": INIT})
                start = {"id": 2, "method": "thread/start", "params": {"cwd": str(tmp_path)}}
                thread_id = (await exchange(follower, start))["result"]["thread"]["id"]
                unsubscribe = {"id": 2, "method": "thread/unsubscribe", "params": {"threadId": thread_id}}
                assert (await exchange(observer, unsubscribe))["result"] == {"status": "notSubscribed"}
            closed = await next_notification(observer, "thread/closed")
            assert closed["params"] == {"threadId": thread_id}
            loaded = await exchange(observer, {"id": 3, "method": "thread/loaded/list", "params": {}})
            assert loaded["result"]["data"] == []


async def next_notification(websocket: ClientConnection, method: str) -> dict[str, Any]:
    """The next `method` notification on a WebSocket connection (others are skipped)."""
    with anyio.fail_after(DEFAULT_WAIT):
        while True:
            message = json.loads(await websocket.recv())
            if isinstance(message, dict) and message.get("method") == method:
                return message
