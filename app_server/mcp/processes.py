"""Child processes of stdio MCP servers: launch, stderr log, stdio transport, kill and reap, pid record.

Every child runs in its own process group and is recorded in `<home>/run/mcp-children-<pid>.json`
while it lives, so a daemon that starts after a crash can kill the children its predecessor
left behind (`reap_orphans`). Process identity is (pid, create_time): a reused pid is never killed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import anyio
import anyio.abc
import mcp_types as types
import psutil
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

from app_server.mcp.direct_requests import DirectRequests

logger = logging.getLogger(__name__)

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
_EXIT_POLL_SEC = 0.01
_ID_PATTERN = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')
_ID_SCAN_BYTES = 256


def child_environment(env: Mapping[str, str], env_vars: tuple[str, ...]) -> dict[str, str]:
    """The whole environment of a stdio child: an allow-list, then `env_vars` passed through, then `env`."""
    names = (*BASE_ENV_VARS, *CA_BUNDLE_ENV_VARS, *env_vars)
    inherited = {name: os.environ[name] for name in names if name in os.environ}
    return inherited | dict(env)


class ServerLog:
    """A bounded log of what one server wrote to stderr (and transport notes): the newest lines win."""

    def __init__(self, max_lines: int = 500, max_line_chars: int = 2000) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._max_line_chars = max_line_chars

    def append(self, line: str) -> None:
        self._lines.append(line[: self._max_line_chars])

    def lines(self) -> list[str]:
        return list(self._lines)


@dataclass(frozen=True)
class LaunchSpec:
    """What to run for one stdio server."""

    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    server_name: str
    """Named in the errors this transport makes up itself (an oversized answer)."""


class ChildRegistry:
    """The pid record of this daemon's live children (one JSON file per daemon pid)."""

    def __init__(self, home: Path) -> None:
        self._dir = home / "run"
        self._path = self._dir / f"mcp-children-{os.getpid()}.json"
        self._children: dict[int, float] = {}
        self._daemon_created = psutil.Process().create_time()

    def add(self, pid: int) -> None:
        with contextlib.suppress(psutil.Error):
            self._children[pid] = psutil.Process(pid).create_time()
            self._write()

    def remove(self, pid: int) -> None:
        if self._children.pop(pid, None) is not None:
            self._write()

    def pids(self) -> list[int]:
        return list(self._children)

    def _write(self) -> None:
        if not self._children:
            self._path.unlink(missing_ok=True)
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        record = {
            "daemon": {"pid": os.getpid(), "createTime": self._daemon_created},
            "children": [{"pid": pid, "createTime": created} for pid, created in self._children.items()],
        }
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(self._path)

    def reap_orphans(self) -> int:
        """Kill the recorded children of daemons that are no longer running; returns how many were killed."""
        killed = 0
        for record_path in self._dir.glob("mcp-children-*.json"):
            try:
                record = json.loads(record_path.read_text())
                daemon = record["daemon"]
                children = record["children"]
            except (OSError, ValueError, KeyError, TypeError):
                record_path.unlink(missing_ok=True)
                continue
            if record_path == self._path or _is_alive(daemon["pid"], daemon["createTime"]):
                continue
            for child in children:
                if _is_alive(child["pid"], child["createTime"]):
                    _kill_group(child["pid"], signal.SIGKILL)
                    killed += 1
            record_path.unlink(missing_ok=True)
        return killed


def _is_alive(pid: int, create_time: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and abs(process.create_time() - create_time) < 0.01
    except psutil.Error:
        return False


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


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
        outgoing = _ChildStdin(process.stdin)
        requests = self.requests = DirectRequests(outgoing.send_line)
        incoming = _ChildStdout(
            process.stdout,
            server_name=self._spec.server_name,
            max_message_bytes=self._max_message_bytes,
            log=self._log,
            on_garbage=self._on_garbage,
            exited=self.exited,
            direct=requests,
        )
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read_stderr, process)
                try:
                    yield incoming, outgoing
                finally:
                    requests.close()
                    with anyio.CancelScope(shield=True):
                        await outgoing.aclose()
                        await incoming.aclose()
                        await self._stop(process)
                    tg.cancel_scope.cancel()
        finally:
            requests.close()
            with anyio.CancelScope(shield=True):
                await self._stop(process)
                if self._registry is not None:
                    self._registry.remove(process.pid)

    async def _read_stderr(self, process: anyio.abc.Process) -> None:
        assert process.stderr is not None
        partial = b""
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            async for chunk in process.stderr:
                *lines, partial = (partial + chunk).split(b"\n")
                for line in lines:
                    self._log.append(line.decode(errors="replace"))
                partial = partial[-4096:]

    async def _stop(self, process: anyio.abc.Process) -> None:
        """EOF on stdin, SIGTERM, SIGKILL to the group, each bounded; then reap. Idempotent."""
        if process.stdin is not None:
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await process.stdin.aclose()
        if not await _wait_exit(process, STDIN_CLOSE_GRACE_SEC):
            _kill_group(process.pid, signal.SIGTERM)
            if not await _wait_exit(process, TERM_GRACE_SEC):
                _kill_group(process.pid, signal.SIGKILL)
                await _wait_exit(process, TERM_GRACE_SEC)
        if _group_alive(process.pid):
            _kill_group(process.pid, signal.SIGKILL)
        with anyio.move_on_after(TERM_GRACE_SEC), contextlib.suppress(OSError, anyio.BrokenResourceError):
            await process.aclose()


class _ChildStdout:
    """The transport's read side (an SDK `ReadStream`): stdout parsed into messages as they are read.

    It is read by the SDK's own receive loop, with no reader task handing messages over (a task
    switch saved on every answer). Blank lines are skipped; a line that is not JSON-RPC is noted
    in the log and reported to `on_garbage`; a line over `max_message_bytes` is dropped without
    being held whole, and when it is a response its request gets an error at once. Answers to
    direct requests go to `direct`, never to the SDK. `exited` is set when stdout ends, and the
    direct requests still waiting then fail.
    """

    def __init__(
        self,
        stdout: anyio.abc.ByteReceiveStream,
        *,
        server_name: str,
        max_message_bytes: int,
        log: ServerLog,
        on_garbage: Callable[[], None],
        exited: anyio.Event,
        direct: DirectRequests,
    ) -> None:
        self._stdout = stdout
        self._direct = direct
        self._server_name = server_name
        self._max_message_bytes = max_message_bytes
        self._log = log
        self._on_garbage = on_garbage
        self._exited = exited
        self._ready: deque[SessionMessage] = deque()
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._oversized = False
        self._head = b""
        """The start of the current oversized line, kept to find its request id."""

    async def receive(self) -> SessionMessage:
        while not self._ready:
            if self._exited.is_set():
                raise anyio.EndOfStream
            try:
                chunk = await self._stdout.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                self._exited.set()
                self._direct.close()
                continue
            self._take(chunk)
        return self._ready.popleft()

    def _take(self, data: bytes) -> None:
        while data:
            newline = data.find(b"\n")
            piece, data = (data, b"") if newline < 0 else (data[:newline], data[newline + 1 :])
            if not self._oversized:
                self._pending.append(piece)
                self._pending_size += len(piece)
                if self._pending_size > self._max_message_bytes:
                    self._oversized = True
                    self._head = b"".join(self._pending)[:_ID_SCAN_BYTES]
                    self._pending = []
            if newline < 0:
                continue
            if self._oversized:
                self._reject_oversized()
            elif self._pending:
                self._parse(b"".join(self._pending))
            self._pending, self._pending_size, self._oversized = [], 0, False

    def _parse(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError:
            self._log.append("[app-server] ignored a stdout line that is not JSON-RPC")
            self._on_garbage()
            return
        self._deliver(message)

    def _deliver(self, message: types.JSONRPCMessage) -> None:
        if not self._direct.claim(message):
            self._ready.append(SessionMessage(message))

    def _reject_oversized(self) -> None:
        limit_mib = self._max_message_bytes // (1024 * 1024)
        self._log.append(f"[app-server] discarded a message larger than {limit_mib} MiB")
        head = self._head
        match = _ID_PATTERN.search(head) if b'"result"' in head or b'"error"' in head else None
        if match is None:
            return
        error = types.ErrorData(
            code=-32000,
            message=f"MCP server `{self._server_name}` answered with more than {limit_mib} MiB",
        )
        request_id = json.loads(match.group(1))
        self._deliver(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error))

    async def aclose(self) -> None:
        await self._stdout.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _ChildStdin:
    """The transport's write side (an SDK `WriteStream`): each message goes straight to stdin.

    Written in the sending task rather than handed to a writer task, which saves a task switch
    on every request. `write` buffers a whole message before `send` first yields, so concurrent
    senders never interleave. A child that stopped reading loses what is sent to it, as a pipe
    would: its requests fail when its stdout ends. Closing leaves stdin to `_stop`.
    """

    def __init__(self, stdin: anyio.abc.ByteSendStream) -> None:
        self._stdin = stdin
        self._closed = False
        self._broken = False

    async def send(self, item: SessionMessage, /) -> None:
        await self.send_line(item.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n")

    async def send_line(self, line: bytes) -> None:
        """Write one newline-terminated message (also the direct requests' way in)."""
        if self._closed:
            raise anyio.ClosedResourceError
        if self._broken:
            return
        try:
            await self._stdin.send(line)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            self._broken = True

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


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
