"""The two ends of a stdio child's pipes as the SDK's transport streams.

stdout is parsed into messages inside the SDK's own receive loop, and stdin is written by the
sending task: no reader or writer task hands messages over, which saves a task switch on each.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable
from typing import Self

import anyio
import anyio.abc
import mcp_types as types
from mcp.shared.message import SessionMessage

from app_server.mcp.server_log import ServerLog
from app_server.mcp.stdio.direct_requests import DirectRequests

_ID_PATTERN = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')
_ID_SCAN_BYTES = 256


class ChildStdout:
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


class ChildStdin:
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
