"""The one client of a real `app-server` process in tests: JSON lines over stdio, every wait bounded.

    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        response = await daemon.request("thread/list", {})
        note = await daemon.next_notification("thread/started")

Messages are read by a background task into an inbox; `request` waits for the response with its
id, `next_notification`/`next_server_request` for the first matching message not yet taken, so
interleaved traffic never gets lost. stderr is collected (`stderr_text`, `wait_for_stderr`).
Every wait is bounded by `max_wait` seconds (given to `start`; wrap a call in `anyio.fail_after`
for a tighter bound).

Around it: `Daemon.listening` starts the WebSocket listener instead (and `exchange` is one request
over a WebSocket connection to it), `blocking` drives a daemon from synchronous code (hypothesis
tests) through a portal, and `run_command`/`run_command_async` run a one-shot command line
(`app-server mcp list`...) to its end.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any, Generic, Self, TypeVar

import anyio
from anyio.abc import Process
from anyio.from_thread import BlockingPortal, start_blocking_portal
from websockets.asyncio.client import ClientConnection

DEFAULT_TIMEOUT = 10.0
CLIENT_INFO = {"name": "tests", "version": "0.0.1"}
COMMAND_TIMEOUT = 60.0
"""Bound on one command line run to its end (it may import the mcp SDK and start servers)."""


def environment(home: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with `APP_SERVER_HOME=home` and `env` on top."""
    return {**os.environ, "APP_SERVER_HOME": str(home), **(env or {})}


class Daemon:
    """One `python -m app_server` process and the conversation with it; made by `start` or `listening`."""

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
        cls,
        home: Path,
        *args: str,
        env: dict[str, str] | None = None,
        max_wait: float = DEFAULT_TIMEOUT,
        cwd: Path | None = None,
    ) -> AsyncIterator[Self]:
        """Run `python -m app_server ARGS` with `APP_SERVER_HOME=home` (in `cwd`, else this process's
        working directory); killed on exit if still running."""
        process = await anyio.open_process(
            [sys.executable, "-m", "app_server", *args], env=environment(home, env), cwd=cwd
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

    @classmethod
    @asynccontextmanager
    async def listening(
        cls,
        home: Path,
        token: str,
        *args: str,
        env: dict[str, str] | None = None,
        max_wait: float = DEFAULT_TIMEOUT,
    ) -> AsyncIterator[tuple[Self, int]]:
        """`start` with the WebSocket listener on a free loopback port, `token` its bearer token;
        yields once the daemon says where it listens: (daemon, port)."""
        token_file = home / "ws-token"
        token_file.write_text(token + "\n")
        listen = ("--listen", "ws://127.0.0.1:0", "--ws-token-file", str(token_file))
        async with cls.start(home, *listen, *args, env=env, max_wait=max_wait) as daemon:
            found = await daemon.wait_for_stderr(r"listening on ws://127\.0\.0\.1:(\d+)")
            yield daemon, int(found.group(1))

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

    def untaken(self) -> list[Any]:
        """The messages received so far that no `next_*` took (a copy): to assert what was not sent."""
        return list(self._inbox)

    def drop_untaken(self) -> None:
        """Forget the messages received so far that no `next_*` took, so later waits scan only what
        comes next (a benchmark's clean start)."""
        self._inbox.clear()

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


async def exchange(
    websocket: ClientConnection,
    message: dict[str, Any],
    *,
    seen: Callable[[Any], object] = lambda _m: None,
    max_wait: float = DEFAULT_TIMEOUT,
) -> Any:
    """Send a request over a WebSocket connection and return its answer; every message received on
    the way (notifications are skipped) is passed to `seen` first."""
    await websocket.send(json.dumps(message))
    with anyio.fail_after(max_wait):
        while True:
            answer = json.loads(await websocket.recv())
            seen(answer)
            if isinstance(answer, dict) and answer.get("id") == message["id"] and "method" not in answer:
                return answer


D = TypeVar("D", bound=Daemon)


class BlockingDaemon(Generic[D]):
    """A daemon driven from synchronous code (hypothesis tests) through a blocking portal."""

    def __init__(self, portal: BlockingPortal, daemon: D) -> None:
        self.portal = portal
        self.daemon = daemon

    def send_raw(self, data: bytes) -> None:
        self.portal.call(self.daemon.send_raw, data)

    def next_message(self) -> Any:
        return self.portal.call(self.daemon.next_message)

    def initialize(self) -> Any:
        return self.portal.call(self.daemon.initialize)

    def wait_for_stderr(self, pattern: str) -> re.Match[str]:
        return self.portal.call(self.daemon.wait_for_stderr, pattern)

    def close_stdin(self) -> None:
        self.portal.call(self.daemon.close_stdin)

    def wait_exit(self) -> int:
        return self.portal.call(self.daemon.wait_exit)


@contextmanager
def blocking(daemon_context: AbstractAsyncContextManager[D]) -> Iterator[BlockingDaemon[D]]:
    """Enter `daemon_context` (`Daemon.start(...)` or a harness around it) on a portal's event loop."""
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(daemon_context) as daemon,
    ):
        yield BlockingDaemon(portal, daemon)


def run_command(
    home: Path,
    *words: str,
    module: str = "app_server",
    stdout: int | IO[Any] = subprocess.PIPE,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m MODULE WORDS` with `APP_SERVER_HOME=home` to its end; stderr (and, unless
    given elsewhere, stdout) captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *words],
        env=environment(home),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


async def run_command_async(home: Path, *words: str) -> subprocess.CompletedProcess[bytes]:
    """`run_command` for tests whose servers run on this event loop (which must not be blocked);
    bounded by `COMMAND_TIMEOUT`."""
    with anyio.fail_after(COMMAND_TIMEOUT):
        return await anyio.run_process(
            [sys.executable, "-m", "app_server", *words], env=environment(home), check=False
        )
