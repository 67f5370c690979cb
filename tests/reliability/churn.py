"""Connection churn: WebSocket clients that connect, initialize, send a request and vanish before the answer.

A keeper connection starts one thread whose server is the fixture server. Each churned
connection sends one request in rotation (a tool call that blocks until cancelled, a reload, a
thread listing, a status listing) and then closes, or drops its TCP connection without a close
frame. Leaks are measured from outside: the daemon's file descriptors, threads and RSS after
against before, and leaked request tasks by their effect: a blocked call still running would keep
its lease, so the old fixture server process would outlive a final reload.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import psutil
from websockets.asyncio.client import ClientConnection, connect

from tests.app_server.threads.turn_harness import fixture_server
from tests.reliability.harness import WAIT, RecordingDaemon
from tests.reliability.transcript import MODEL_KEY, TRANSCRIPT, WS_TOKEN
from tests.support import daemon as support
from tests.support.config import MODEL_KEY_ENV, write_config
from tests.support.processes import labels_of, processes_of, wait_until

WARMUP = 20
INIT = {"clientInfo": {"name": "churn", "version": "1"}}


@dataclass
class ChurnReport:
    connections: int
    seconds: float = 0.0
    fds_before: int = 0
    fds_after: int = 0
    threads_before: int = 0
    threads_after: int = 0
    rss_before: int = 0
    rss_after: int = 0
    old_server_stopped: bool = False
    keeper_alive: bool = False


@dataclass
class Usage:
    fds: int
    threads: int
    rss: int

    @classmethod
    def of(cls, pid: int) -> Usage:
        process = psutil.Process(pid)
        return cls(process.num_fds(), process.num_threads(), int(process.memory_info().rss))


@asynccontextmanager
async def listening_daemon(home: Path) -> AsyncIterator[tuple[RecordingDaemon, str]]:
    env = {MODEL_KEY_ENV: MODEL_KEY}
    async with RecordingDaemon.listening(home, WS_TOKEN, env=env, max_wait=WAIT) as (daemon, port):
        yield daemon, f"ws://127.0.0.1:{port}/"
    await daemon.drain()


async def exchange(websocket: ClientConnection, message: dict[str, Any]) -> Any:
    """Send a request and return its answer (notifications on the way are scanned and skipped)."""
    return await support.exchange(
        websocket, message, seen=lambda answer: TRANSCRIPT.scan_message("websocket", answer), max_wait=WAIT
    )


def churn_request(number: int, thread_id: str) -> dict[str, Any]:
    rotation: list[tuple[str, dict[str, Any]]] = [
        (
            "mcpServer/tool/call",
            {"threadId": thread_id, "server": "fix", "tool": "block", "arguments": {"key": "k"}},
        ),
        ("config/mcpServer/reload", {}),
        ("thread/list", {}),
        ("mcpServerStatus/list", {"threadId": thread_id}),
    ]
    method, params = rotation[number % len(rotation)]
    return {"jsonrpc": "2.0", "id": 2, "method": method, "params": params}


async def churn_once(uri: str, number: int, thread_id: str) -> None:
    auth = {"Authorization": f"Bearer {WS_TOKEN}"}
    async with connect(uri, additional_headers=auth) as websocket:
        assert "result" in await exchange(websocket, {"id": 1, "method": "initialize", "params": INIT})
        await websocket.send(json.dumps(churn_request(number, thread_id)))
        if number % 2:
            websocket.transport.abort()  # gone without a close frame


async def run_churn(home: Path, marker: str, *, connections: int) -> ChurnReport:
    report = ChurnReport(connections)
    workdir = home / "work"
    workdir.mkdir(exist_ok=True)
    write_config(home, {"fix": fixture_server(f"{marker}-old")}, model_url="http://127.0.0.1:9/v1")
    async with listening_daemon(home) as (daemon, uri):
        auth = {"Authorization": f"Bearer {WS_TOKEN}"}
        async with connect(uri, additional_headers=auth) as keeper:
            assert "result" in await exchange(keeper, {"id": 1, "method": "initialize", "params": INIT})
            started = await exchange(
                keeper, {"id": 2, "method": "thread/start", "params": {"cwd": str(workdir)}}
            )
            thread_id = started["result"]["thread"]["id"]
            # The blocking calls below must reach a running server, so wait until it answers.
            echo = {"threadId": thread_id, "server": "fix", "tool": "echo", "arguments": {"text": "up"}}
            answered = await exchange(keeper, {"id": 5, "method": "mcpServer/tool/call", "params": echo})
            assert answered["result"]["structuredContent"] == {"result": "up"}, answered
            for number in range(WARMUP):
                await churn_once(uri, number, thread_id)
            before = Usage.of(daemon.process.pid)
            clock = time.perf_counter()
            for number in range(connections):
                await churn_once(uri, number, thread_id)
            report.seconds = time.perf_counter() - clock
            # Closing is asynchronous on the daemon's side: give it until the descriptors settle.
            with anyio.move_on_after(10):
                await wait_until(lambda: Usage.of(daemon.process.pid).fds <= before.fds)
            after = Usage.of(daemon.process.pid)
            report.fds_before, report.fds_after = before.fds, after.fds
            report.threads_before, report.threads_after = before.threads, after.threads
            report.rss_before, report.rss_after = before.rss, after.rss

            write_config(home, {"fix": fixture_server(f"{marker}-new")}, model_url="http://127.0.0.1:9/v1")
            reloaded = await exchange(keeper, {"id": 3, "method": "config/mcpServer/reload", "params": None})
            assert reloaded.get("result") == {}, reloaded
            with anyio.move_on_after(WAIT):
                await wait_until(lambda: f"{marker}-old" not in labels_of(processes_of(marker)), WAIT)
            report.old_server_stopped = f"{marker}-old" not in labels_of(processes_of(marker))
            listed = await exchange(keeper, {"id": 4, "method": "thread/list", "params": {}})
            report.keeper_alive = "result" in listed
        daemon.process.terminate()
        await daemon.wait_exit()
    return report
