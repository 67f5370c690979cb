"""The `initialize` answer, and answering it on stdio before the event loop exists.

A front-end spawns the daemon and sends `initialize` first. Answering it needs only `json` and
the hand-written handshake models, while the event-loop stack (asyncio, anyio, the peer) costs
more to import than the whole start -> initialize budget. So the stdio daemon reads the first
line with a blocking read and, when it is a valid `initialize` request, answers it at once; the
connection then starts initialized. Anything else (another message, bad params, a partial
line, nothing at all) is left untouched, read bytes included, for the connection to answer as
it answers every message: the early path changes when the reply is sent, never what it says.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from app_server import __version__
from app_server.rpc import messages
from app_server.rpc.session import ClientSession
from protocol.initialize import InitializeCapabilities, InitializeParams, InitializeResponse

USER_AGENT_ORIGINATOR = "app-server"
_EARLY_READ_LIMIT = 1024 * 1024
"""A first line longer than this is left to the connection."""
_READ_CHUNK = 64 * 1024


def answer_initialize(params: InitializeParams, home: Path) -> tuple[ClientSession, InitializeResponse]:
    """The session `initialize` opens and the result it answers."""
    capabilities = params.capabilities or InitializeCapabilities()
    session = ClientSession(
        client_name=params.client_info.name,
        client_version=params.client_info.version,
        opt_out_notification_methods=frozenset(capabilities.opt_out_notification_methods or ()),
    )
    response = InitializeResponse(
        user_agent=user_agent(params.client_info.name, params.client_info.version),
        codex_home=str(home),
        platform_family=platform_family(),
        platform_os=platform_os(),
    )
    return session, response


def user_agent(client_name: str, client_version: str) -> str:
    """`app-server/0.1.0 (Linux 6.8.0; x86_64) iTerm.app/3.5 (vscode; 1.2.3)`: Codex's layout,
    `<originator>/<version> (<os> <os version>; <arch>) <terminal> (<client name>; <client version>)`."""
    if hasattr(os, "uname"):
        system = os.uname()
        platform = f"{system.sysname} {system.release}; {system.machine}"
    else:
        platform = sys.platform
    client = f"({client_name}; {client_version})"
    return f"{USER_AGENT_ORIGINATOR}/{__version__} ({platform}) {terminal()} {client}"


def terminal() -> str:
    """The terminal the daemon runs under, as Codex names it: `TERM_PROGRAM[/version]`, else `TERM`,
    else `unknown`."""
    program = os.environ.get("TERM_PROGRAM", "").strip()
    if program:
        version = os.environ.get("TERM_PROGRAM_VERSION", "").strip()
        return f"{program}/{version}" if version else program
    return os.environ.get("TERM", "").strip() or "unknown"


def platform_family() -> str:
    return "windows" if sys.platform == "win32" else "unix"


def platform_os() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


class StopRequested(Exception):
    """SIGTERM or SIGINT arrived while the daemon waited for its first line."""


class EarlySignals:
    """SIGTERM and SIGINT before the event loop handles them itself.

    While the daemon blocks on its first line they raise StopRequested: nothing else runs then.
    After `defer()` (the event loop is about to run, and an exception raised inside one of its
    callbacks would be logged and lost) they are only recorded in `received`; the loop's own
    signal handling looks at it once installed, so a front-end stopping the daemon while it
    starts is never missed and never kills it mid-way.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._raising = True
        for stopping in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stopping, self._on_signal)

    def defer(self) -> None:
        self._raising = False

    def _on_signal(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if self._raising:
            raise StopRequested(name)
        self.received = name


@dataclass(frozen=True, slots=True)
class EarlyHandshake:
    """What happened before the event loop: the session opened (None: nothing was answered)
    and the bytes read from the client that the connection must still handle."""

    session: ClientSession | None
    unread: bytes


def handshake_before_loop(read_fd: int, write_fd: int, home: Path, *, max_line_bytes: int) -> EarlyHandshake:
    """Block until the client's first line (or end of input); answer it if it is `initialize`.

    A first line over `max_line_bytes` is left to the connection, which refuses it.
    """
    data = bytearray()
    while b"\n" not in data and len(data) <= min(_EARLY_READ_LIMIT, max_line_bytes):
        chunk = _read_blocking(read_fd)
        if not chunk:
            break
        data += chunk
    line, newline, rest = bytes(data).partition(b"\n")
    answered = _answer(line, home) if newline and len(line) <= max_line_bytes else None
    if answered is None:
        return EarlyHandshake(session=None, unread=bytes(data))
    session, reply = answered
    with contextlib.suppress(OSError):  # the client is gone: the connection finds its input ended
        _write_all(write_fd, reply.encode("utf-8") + b"\n")
    return EarlyHandshake(session=session, unread=rest)


def _answer(line: bytes, home: Path) -> tuple[ClientSession, str] | None:
    try:
        message = messages.classify(json.loads(line.decode("utf-8")))
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, messages.Request) or message.method != "initialize":
        return None
    raw = {} if message.params is None else message.params
    if not isinstance(raw, dict):
        return None
    try:
        params = InitializeParams.model_validate(raw)
    except ValueError:
        return None
    session, response = answer_initialize(params, home)
    return session, messages.encode(messages.success(message.id, response.to_wire()))


def _read_blocking(fd: int) -> bytes:
    while True:
        try:
            return os.read(fd, _READ_CHUNK)
        except BlockingIOError:  # an inherited non-blocking descriptor
            select.select([fd], [], [])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            select.select([], [fd], [])
