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
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
import psutil
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

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
        incoming_send, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        outgoing, outgoing_receive = anyio.create_memory_object_stream[SessionMessage](0)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._read_stdout, process, incoming_send)
                tg.start_soon(self._write_stdin, process, outgoing_receive)
                tg.start_soon(self._read_stderr, process)
                try:
                    yield incoming, outgoing
                finally:
                    with anyio.CancelScope(shield=True):
                        await outgoing.aclose()
                        await incoming.aclose()
                        await self._stop(process)
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self._stop(process)
                if self._registry is not None:
                    self._registry.remove(process.pid)

    async def _read_stdout(
        self, process: anyio.abc.Process, send: anyio.abc.ObjectSendStream[SessionMessage | Exception]
    ) -> None:
        assert process.stdout is not None
        pending: list[bytes] = []
        pending_size = 0
        oversized = False
        head = b""
        try:
            async with send:
                async for received in process.stdout:
                    data = received
                    while data:
                        newline = data.find(b"\n")
                        piece, data = (data, b"") if newline < 0 else (data[:newline], data[newline + 1 :])
                        if not oversized:
                            if not pending:
                                head = piece
                            pending.append(piece)
                            pending_size += len(piece)
                            if pending_size > self._max_message_bytes:
                                oversized = True
                                head = b"".join(pending)[:_ID_SCAN_BYTES]
                                pending = []
                        if newline < 0:
                            continue
                        if oversized:
                            await self._reject_oversized(head, send)
                        elif pending:
                            await self._deliver(b"".join(pending), send)
                        pending, pending_size, oversized = [], 0, False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
            pass
        finally:
            self.exited.set()

    async def _deliver(
        self, line: bytes, send: anyio.abc.ObjectSendStream[SessionMessage | Exception]
    ) -> None:
        if not line.strip():
            return
        try:
            message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError:
            self._log.append("[app-server] ignored a stdout line that is not JSON-RPC")
            self._on_garbage()
            return
        await send.send(SessionMessage(message))

    async def _reject_oversized(
        self, head: bytes, send: anyio.abc.ObjectSendStream[SessionMessage | Exception]
    ) -> None:
        limit_mib = self._max_message_bytes // (1024 * 1024)
        self._log.append(f"[app-server] discarded a message larger than {limit_mib} MiB")
        match = _ID_PATTERN.search(head) if b'"result"' in head or b'"error"' in head else None
        if match is None:
            return
        request_id = json.loads(match.group(1))
        error = types.ErrorData(
            code=-32000,
            message=f"MCP server `{self._spec.server_name}` answered with more than {limit_mib} MiB",
        )
        await send.send(SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))

    async def _write_stdin(
        self, process: anyio.abc.Process, receive: anyio.abc.ObjectReceiveStream[SessionMessage]
    ) -> None:
        assert process.stdin is not None
        try:
            async with receive:
                async for message in receive:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                    await process.stdin.send(data.encode())
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass

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
