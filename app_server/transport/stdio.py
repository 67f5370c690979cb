"""The stdio transport: one JSON object per line on the process's stdin and stdout.

stdout carries protocol only. `take_over_stdio` moves the protocol onto private duplicates of
fds 0 and 1, then points fd 1 at stderr and fd 0 at /dev/null, so a stray `print`, a C library
or a spawned child (MCP stdio servers inherit fds) can neither corrupt nor steal the protocol.
"""

from __future__ import annotations

import fcntl
import os
import select
import stat

import anyio

from app_server.transport.base import UndecodableMessageError
from app_server.transport.lines import LineSplitter

_READ_CHUNK = 256 * 1024


class FdStream:
    """JSON lines over a pair of file descriptors (pipes, ttys or regular files), without threads.

    Pipes and ttys are switched to non-blocking mode and awaited with the event loop; their
    original flags are restored on close (the open file may be shared with the parent).
    """

    def __init__(self, read_fd: int, write_fd: int, *, max_message_bytes: int, unread: bytes = b"") -> None:
        """`unread`: input already read from `read_fd`, to be handled before anything read later."""
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._lines = LineSplitter(max_message_bytes)
        self._lines.feed(unread)
        self._at_eof = False
        self._closed = False
        self._saved_flags = {fd: _make_non_blocking(fd) for fd in (read_fd, write_fd)}
        self._pipe_out = stat.S_ISFIFO(os.fstat(write_fd).st_mode)
        self._sending = False

    async def receive(self) -> str:
        while True:
            line = self._lines.pop()
            if line is None and self._at_eof:
                line = self._lines.remainder()
                if line is None:
                    raise anyio.EndOfStream
            if line is not None:
                try:
                    return line.decode("utf-8")
                except UnicodeDecodeError:
                    raise UndecodableMessageError from None
            chunk = await self._read_chunk()
            if chunk:
                self._lines.feed(chunk)
            else:
                self._at_eof = True

    def try_send(self, message: str) -> bool:
        """Write a small message at once when the output is a pipe with room and nothing is pending.

        A pipe write of at most PIPE_BUF bytes is atomic (all of it or nothing), so a message
        never goes out half-written, or ahead of one that `send` is still writing.
        """
        if not self._pipe_out or self._sending or len(message) >= select.PIPE_BUF:
            return False
        data = (message + "\n").encode("utf-8")
        if len(data) > select.PIPE_BUF:
            return False
        try:
            os.write(self._write_fd, data)
        except OSError:  # full (EAGAIN) or gone: `send` waits, or reports the broken stream
            return False
        return True

    async def send(self, message: str) -> None:
        self._sending = True
        try:
            await self._write_all(message)
        finally:
            self._sending = False

    async def _write_all(self, message: str) -> None:
        pending = memoryview((message + "\n").encode("utf-8"))
        while pending:
            try:
                written = os.write(self._write_fd, pending)
            except BlockingIOError:
                await anyio.wait_writable(self._write_fd)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            pending = pending[written:]

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Reverse order: when stdin and stdout share one open file (a tty), the first saved flags win.
        for fd, flags in reversed(self._saved_flags.items()):
            if flags is not None:
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)
            os.close(fd)

    async def _read_chunk(self) -> bytes:
        while True:
            try:
                return os.read(self._read_fd, _READ_CHUNK)
            except BlockingIOError:
                await anyio.wait_readable(self._read_fd)


def _make_non_blocking(fd: int) -> int | None:
    """Switch a pipe/tty/socket to non-blocking; returns the flags to restore (None: left alone).

    Regular files never block and cannot be watched by the event loop, so they stay as they are.
    """
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return None
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    return flags


def take_over_stdio(*, max_message_bytes: int, unread: bytes = b"") -> FdStream:
    """The protocol stream on this process's stdin/stdout; fds 0 and 1 are neutralised (see module doc)."""
    read_fd = os.dup(0)
    write_fd = os.dup(1)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    os.dup2(2, 1)
    return FdStream(read_fd, write_fd, max_message_bytes=max_message_bytes, unread=unread)
