"""The demo's client of a real daemon process: JSON lines over its stdin/stdout, stderr to a log file.

Inbound messages are read by a background task into an inbox, so a notification that arrives
while the demo waits for a response is kept for whoever asks for it later. Server->client requests
are answered "method not found": the demo runs with approvals off and offers no elicitation.
Leaving the `spawn` block closes the daemon's stdin (its signal to stop), then terminates and kills
it if it lingers, and checks that every process it had started is gone (`stray_pids`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import psutil
from anyio.abc import Process

from app_server.errors import RequestFailed
from protocol import errors as codes

Message = dict[str, Any]

_EXIT_GRACE_SECONDS = 10.0
"""How long the daemon gets to stop its servers and exit once its stdin is closed."""
_KILL_GRACE_SECONDS = 5.0


class DaemonClient:
    """One daemon process and the conversation with it; create it with `DaemonClient.spawn`."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.stray_pids: list[int] = []
        """Processes the daemon started that were still running after it exited (then killed)."""
        self._inbox: list[Message] = []
        self._arrived = anyio.Event()
        self._stdout_closed = False
        self._next_id = 0

    @classmethod
    @asynccontextmanager
    async def spawn(
        cls, *, env: Mapping[str, str], cwd: Path, stderr_log: Path
    ) -> AsyncIterator[DaemonClient]:
        """Run `python -m app_server` (stdio), yield a client for it, and stop and reap it on exit."""
        with stderr_log.open("wb") as log:
            process = await anyio.open_process(
                [sys.executable, "-m", "app_server"], env=dict(env), cwd=cwd, stderr=log
            )
        client = cls(process)
        async with process, anyio.create_task_group() as task_group:
            task_group.start_soon(client._read_stdout)
            try:
                yield client
            finally:
                with anyio.CancelScope(shield=True):
                    await client._stop()
                task_group.cancel_scope.cancel()

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and return its result.

        Raises RequestFailed when the daemon answers with an error or exits before answering.
        """
        self._next_id += 1
        request_id = self._next_id
        message: Message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)
        response = await self._take(lambda m: "method" not in m and m.get("id") == request_id)
        if "error" in response:
            error = response["error"]
            code, text = error.get("code"), error.get("message")
            raise RequestFailed(f"`{method}` was answered with error {code}: {text}")
        return response.get("result")

    async def notify(self, method: str) -> None:
        """Send a notification (no params, no answer)."""
        await self._send({"jsonrpc": "2.0", "method": method})

    async def next_notification(self, methods: set[str]) -> Message:
        """The first notification (already received or still to come) whose method is in `methods`.

        Raises RequestFailed when the daemon exits first.
        """
        return await self._take(lambda m: "id" not in m and m.get("method") in methods)

    def take_queued(self, methods: set[str]) -> list[Message]:
        """Every notification already received whose method is in `methods`, without waiting."""
        taken = [m for m in self._inbox if "id" not in m and m.get("method") in methods]
        self._inbox = [m for m in self._inbox if not any(m is t for t in taken)]
        return taken

    async def _take(self, matches: Callable[[Message], bool]) -> Message:
        while True:
            for index, message in enumerate(self._inbox):
                if matches(message):
                    return self._inbox.pop(index)
            if self._stdout_closed:
                raise RequestFailed(f"the daemon exited unexpectedly (exit code {self.process.returncode})")
            await self._arrived.wait()

    async def _send(self, message: Message) -> None:
        assert self.process.stdin is not None
        try:
            await self.process.stdin.send(json.dumps(message).encode() + b"\n")
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise RequestFailed("the daemon stopped reading its input") from None

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        pending = b""
        try:
            async for chunk in self.process.stdout:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    await self._receive(json.loads(line))
        finally:
            self._stdout_closed = True
            self._wake()

    async def _receive(self, message: Message) -> None:
        if "method" in message and "id" in message:
            error = {"code": codes.METHOD_NOT_FOUND, "message": "the demo does not handle this request"}
            await self._send({"jsonrpc": "2.0", "id": message["id"], "error": error})
            return
        self._inbox.append(message)
        self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = anyio.Event()

    async def _stop(self) -> None:
        """Close stdin so the daemon shuts down in order; terminate, then kill, if it does not."""
        descendants = _descendants(self.process.pid)
        assert self.process.stdin is not None
        with suppress(OSError, anyio.BrokenResourceError):
            await self.process.stdin.aclose()
        if not await self._exited_within(_EXIT_GRACE_SECONDS):
            with suppress(ProcessLookupError):
                self.process.terminate()
            if not await self._exited_within(_KILL_GRACE_SECONDS):
                with suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        self.stray_pids = await anyio.to_thread.run_sync(_reap, descendants)

    async def _exited_within(self, seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await self.process.wait()
        return self.process.returncode is not None


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _reap(processes: list[psutil.Process]) -> list[int]:
    """Give the processes a moment to exit after their parent did; kill and report those that do not."""
    _gone, alive = psutil.wait_procs(processes, timeout=_KILL_GRACE_SECONDS)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    return [process.pid for process in alive]
