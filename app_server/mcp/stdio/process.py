"""Stdio MCP server processes: launch with an allow-listed environment, stop, reap.

Every child runs in its own process group, recorded in the daemon's pid record
(`child_registry`) while it lives; its stdio pipes are the SDK transport (`streams`) and
its stderr goes line by line into the server's log.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from mcp.client._transport import TransportStreams

from app_server.mcp.server_log import ServerLog
from app_server.mcp.stdio.child_registry import ChildRegistry, kill_group
from app_server.mcp.stdio.direct_requests import DirectRequests
from app_server.mcp.stdio.streams import ChildStdin, ChildStdout

BASE_ENV_VARS = ("HOME", "LANG", "PATH", "SHELL", "TERM")
CA_BUNDLE_ENV_VARS = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
)
DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024
STDIN_CLOSE_GRACE_SEC = 1.0
TERM_GRACE_SEC = 1.0
STDERR_DRAIN_SEC = 0.5
_EXIT_POLL_SEC = 0.01


def child_environment(env: Mapping[str, str], env_vars: tuple[str, ...]) -> dict[str, str]:
    """The whole environment of a stdio child: an allow-list, then `env_vars` passed through, then `env`."""
    names = (*BASE_ENV_VARS, *CA_BUNDLE_ENV_VARS, *env_vars)
    inherited = {name: os.environ[name] for name in names if name in os.environ}
    return inherited | dict(env)


@dataclass(frozen=True)
class LaunchSpec:
    """What to run for one stdio server."""

    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    server_name: str
    """Named in the errors this transport makes up itself (an oversized answer)."""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StdioChild:
    """One stdio server process as an MCP `Transport`: newline-delimited JSON-RPC over its stdin/stdout.

    stderr goes line by line into `log`. A stdout line that is not JSON-RPC is noted in the log and
    reported to `on_garbage`; a line longer than `max_message_bytes` is discarded and, when it is a
    response, its request is failed with an error instead of being left to time out. On exit the
    child gets EOF on stdin, then SIGTERM, then SIGKILL, to its whole process group, and is reaped.
    """

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        log: ServerLog,
        registry: ChildRegistry | None,
        on_garbage: Callable[[], None],
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._spec = spec
        self._log = log
        self._registry = registry
        self._on_garbage = on_garbage
        self._max_message_bytes = max_message_bytes
        self.pid: int | None = None
        self.exited = anyio.Event()
        """Set when the child's stdout reached EOF (it exited or closed its end)."""
        self.requests: DirectRequests | None = None
        """Requests that bypass the SDK (`direct_requests`), while the child is running."""
        self._stack: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> TransportStreams:
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            streams = await stack.enter_async_context(self._run())
        except BaseException:
            await stack.__aexit__(None, None, None)
            raise
        self._stack = stack
        return streams

    async def __aexit__(self, *exc_info: Any) -> None:
        assert self._stack is not None
        await self._stack.__aexit__(*exc_info)

    @contextlib.asynccontextmanager
    async def _run(self) -> AsyncIterator[TransportStreams]:
        # Shielded: a spawn cancelled half-way leaves a killed but unreaped child behind.
        with anyio.CancelScope(shield=True):
            process = await anyio.open_process(
                [self._spec.command, *self._spec.args],
                env=self._spec.env,
                cwd=self._spec.cwd,
                start_new_session=True,
            )
        self.pid = process.pid
        if self._registry is not None:
            self._registry.add(process.pid)
        assert process.stdin is not None and process.stdout is not None
        outgoing = ChildStdin(process.stdin)
        requests = self.requests = DirectRequests(outgoing.send_line)
        incoming = ChildStdout(
            process.stdout,
            server_name=self._spec.server_name,
            max_message_bytes=self._max_message_bytes,
            log=self._log,
            on_garbage=self._on_garbage,
            exited=self.exited,
            direct=requests,
        )
        hurry = False
        try:
            # Shielded, so that the reader goes on to EOF while the child is stopped even when the
            # connection was cancelled; it is cancelled on its own once the drain is over.
            stderr_reader = anyio.CancelScope(shield=True)
            stderr_read = anyio.Event()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read_stderr, process, stderr_reader, stderr_read)
                try:
                    yield incoming, outgoing
                except anyio.get_cancelled_exc_class():
                    hurry = True
                    raise
                finally:
                    requests.close()
                    with anyio.CancelScope(shield=True):
                        await outgoing.aclose()
                        await incoming.aclose()
                        await self._stop(process, hurry=hurry)
                        # What the child wrote last is often why it failed: read it to the end.
                        with anyio.move_on_after(STDERR_DRAIN_SEC):
                            await stderr_read.wait()
                    stderr_reader.cancel()
        finally:
            requests.close()
            with anyio.CancelScope(shield=True):
                await self._stop(process, hurry=hurry)
                if self._registry is not None:
                    self._registry.remove(process.pid)

    async def _read_stderr(
        self, process: anyio.abc.Process, scope: anyio.CancelScope, done: anyio.Event
    ) -> None:
        assert process.stderr is not None
        partial = b""
        with scope, contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async for chunk in process.stderr:
                *lines, partial = (partial + chunk).split(b"\n")
                for line in lines:
                    self._log.append(line.decode(errors="replace"))
                partial = partial[-4096:]
            if partial:
                self._log.append(partial.decode(errors="replace"))
        done.set()

    async def _stop(self, process: anyio.abc.Process, *, hurry: bool) -> None:
        """EOF on stdin, SIGTERM, SIGKILL to the group, each bounded; then reap. Idempotent.

        In a `hurry` (the connection was cancelled: the daemon is exiting, or its startup was cut
        short) SIGTERM follows the EOF at once: a Python SDK server needs ~0.1 s of CPU to exit on
        EOF, so twenty of them sharing two cores would each run out the whole stdin grace.
        """
        if process.stdin is not None:
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await process.stdin.aclose()
        if not await _wait_exit(process, 0.0 if hurry else STDIN_CLOSE_GRACE_SEC):
            kill_group(process.pid, signal.SIGTERM)
            if not await _wait_exit(process, TERM_GRACE_SEC):
                kill_group(process.pid, signal.SIGKILL)
                await _wait_exit(process, TERM_GRACE_SEC)
        if _group_alive(process.pid):
            kill_group(process.pid, signal.SIGKILL)
        with anyio.move_on_after(TERM_GRACE_SEC), contextlib.suppress(OSError, anyio.BrokenResourceError):
            await process.aclose()


async def _wait_exit(process: anyio.abc.Process, seconds: float) -> bool:
    """Whether the child exited within `seconds`.

    Polls `returncode`: there is no exit event, and `wait()` also waits for pipe EOF, which a
    grandchild holding the pipe would delay.
    """
    with anyio.move_on_after(seconds):
        while process.returncode is None:  # noqa: ASYNC110
            await anyio.sleep(_EXIT_POLL_SEC)
        return True
    return False
