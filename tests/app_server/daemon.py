"""A real `app-server` process for tests: speaks JSON lines to it over stdio, every wait bounded.

    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        response = await daemon.request("thread/list", {})
        note = await daemon.next_notification("thread/started")

Messages are read by a background task into an inbox; `request` waits for the response with its
id, `next_notification`/`next_server_request` for the first matching message not yet taken, so
interleaved traffic never gets lost. stderr is collected (`stderr_text`, `wait_for_stderr`).
Every wait is bounded by `max_wait` seconds (given to `start`; wrap a call in `anyio.fail_after`
for a tighter bound).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process

DEFAULT_TIMEOUT = 10.0
CLIENT_INFO = {"name": "tests", "version": "0.0.1"}


class Daemon:
    def __init__(self, process: Process, max_wait: float) -> None:
        self.process = process
        self.max_wait = max_wait
        self._inbox: list[Any] = []
        self._arrived = anyio.Event()
        self._stderr = bytearray()
        self._stderr_arrived = anyio.Event()
        self._stdout_closed = False
        self._next_id = 0

    @classmethod
    @asynccontextmanager
    async def start(
        cls, home: Path, *args: str, env: dict[str, str] | None = None, max_wait: float = DEFAULT_TIMEOUT
    ) -> AsyncIterator[Daemon]:
        """Run `python -m app_server ARGS` with `APP_SERVER_HOME=home`; killed on exit if still running."""
        process = await anyio.open_process(
            [sys.executable, "-m", "app_server", *args],
            env={**os.environ, "APP_SERVER_HOME": str(home), **(env or {})},
        )
        daemon = cls(process, max_wait)
        async with process, anyio.create_task_group() as task_group:
            task_group.start_soon(daemon._read_stdout)
            task_group.start_soon(daemon._read_stderr)
            try:
                yield daemon
            finally:
                if process.returncode is None:
                    process.kill()
                with anyio.move_on_after(max_wait, shield=True):
                    await process.wait()
                task_group.cancel_scope.cancel()

    # -- sending ---------------------------------------------------------------------------------

    async def send_raw(self, data: bytes) -> None:
        """Write bytes exactly as given (add the newline yourself)."""
        assert self.process.stdin is not None
        await self.process.stdin.send(data)

    async def send(self, message: Any) -> None:
        await self.send_raw(json.dumps(message).encode() + b"\n")

    async def close_stdin(self) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.aclose()

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and return its whole response message (result or error)."""
        request_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.next_message(lambda m: _is_response(m) and m["id"] == request_id)

    async def call(self, method: str, params: Any = None) -> Any:
        """Send a request and return its result; AssertionError if it was answered with an error."""
        response = await self.request(method, params)
        assert "result" in response, response
        return response["result"]

    async def initialize(self, capabilities: dict[str, Any] | None = None) -> Any:
        params: dict[str, Any] = {"clientInfo": CLIENT_INFO}
        if capabilities is not None:
            params["capabilities"] = capabilities
        result = await self.call("initialize", params)
        await self.notify("initialized")
        return result

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def respond(self, request_id: Any, result: Any) -> None:
        """Answer a server->client request."""
        await self.send({"jsonrpc": "2.0", "id": request_id, "result": result})

    # -- receiving -------------------------------------------------------------------------------

    async def next_message(self, matches: Callable[[Any], bool] = lambda _m: True) -> Any:
        """Take the first inbound message (already received or still to come) that `matches`."""
        with anyio.fail_after(self.max_wait):
            while True:
                for index, message in enumerate(self._inbox):
                    if matches(message):
                        return self._inbox.pop(index)
                if self._stdout_closed:
                    raise EOFError(f"daemon closed stdout; stderr:\n{self.stderr_text}")
                await self._arrived.wait()

    async def next_notification(self, method: str) -> Any:
        return await self.next_message(
            lambda m: isinstance(m, dict) and m.get("method") == method and "id" not in m,
        )

    async def next_server_request(self, method: str) -> Any:
        return await self.next_message(
            lambda m: isinstance(m, dict) and m.get("method") == method and "id" in m,
        )

    @property
    def stderr_text(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    async def wait_for_stderr(self, pattern: str) -> re.Match[str]:
        """The first match of `pattern` in stderr, waiting for it to be written."""
        with anyio.fail_after(self.max_wait):
            while (found := re.search(pattern, self.stderr_text)) is None:
                await self._stderr_arrived.wait()
            return found

    async def wait_exit(self) -> int:
        with anyio.fail_after(self.max_wait):
            return await self.process.wait()

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        try:
            async for chunk in self.process.stdout:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                self._inbox.extend(json.loads(line) for line in lines)
                self._wake()
        finally:
            self._stdout_closed = True
            self._wake()

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for chunk in self.process.stderr:
            self._stderr += chunk
            self._stderr_arrived.set()
            self._stderr_arrived = anyio.Event()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = anyio.Event()


def _is_response(message: Any) -> bool:
    return isinstance(message, dict) and "id" in message and "method" not in message
