"""The Unix socket transport: the WebSocket protocol over a Unix stream socket only its user may use.

Codex's layout (`--listen unix://PATH`, default `<home>/app-server-control/app-server-control.sock`):
an HTTP/1.1 upgrade on any path, then one JSON-RPC message per text frame, exactly as on the TCP
listener. The socket file is created mode 0600 (its folder, when made here, 0700): that mode is what
keeps other users out, so no token is needed, though one configured is still required. A socket
file nothing listens on (a daemon that died) is replaced; one a live daemon listens on is refused;
the file is removed at exit unless another daemon has replaced it meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import TaskStatus

from app_server.errors import ConfigError, quoted
from app_server.transport.websocket import ConnectionHandler, build_app, serve_app

logger = logging.getLogger(__name__)

SCHEME = "unix://"
DEFAULT_SOCKET = Path("app-server-control") / "app-server-control.sock"
SOCKET_MODE = 0o600


@dataclass(frozen=True, slots=True)
class UnixSocketSettings:
    path: Path
    token: str | None
    allowed_origins: tuple[str, ...]
    max_message_bytes: int

    @classmethod
    def from_listen_url(
        cls,
        url: str,
        home: Path,
        *,
        token: str | None,
        allowed_origins: tuple[str, ...],
        max_message_bytes: int,
    ) -> UnixSocketSettings:
        """Settings for `unix://PATH` (a relative PATH is taken from the working directory; none at
        all means `<home>/app-server-control/app-server-control.sock`)."""
        if not url.startswith(SCHEME):
            raise ConfigError([f"--listen expects unix://PATH, got '{quoted(url)}'"])
        named = url.removeprefix(SCHEME)
        path = Path(named).absolute() if named else home / DEFAULT_SOCKET
        return cls(path, token, allowed_origins, max_message_bytes)


def unix_listener(path: Path) -> socket.socket:
    """A socket bound at `path` with mode 0600 from its creation, its folder made (0700) if missing.

    Raises ConfigError when a daemon listens there already, the path is not a socket, or it cannot
    be bound.
    """
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        _clear_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # The umask makes the file private as it is created (a chmod after bind leaves a window).
            previous = os.umask(0o177)
            try:
                sock.bind(str(path))
            finally:
                os.umask(previous)
            os.chmod(path, SOCKET_MODE)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ConfigError([f"cannot listen on unix://{path}: {exc.strerror or exc}"]) from None
    return sock


def _clear_stale(path: Path) -> None:
    """Remove a socket file nothing listens on; raises ConfigError for a live or foreign file."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError([f"cannot listen on unix://{path}: the path exists and is not a socket"])
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        path.unlink(missing_ok=True)  # left by a daemon that is gone
        return
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
        return
    finally:
        probe.close()
    raise ConfigError([f"another app-server is already listening on unix://{path}"])


async def serve_unix_socket(
    settings: UnixSocketSettings,
    on_connection: ConnectionHandler,
    *,
    task_status: TaskStatus[Path] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled, then remove the socket file; reports its path through `task_status`."""
    sock = unix_listener(settings.path)
    created = os.stat(settings.path)
    app = build_app(
        on_connection,
        bind_host=None,
        port=None,
        token=settings.token,
        allowed_origins=settings.allowed_origins,
        max_message_bytes=settings.max_message_bytes,
        any_path=True,
    )
    try:
        await serve_app(sock, app, settings.max_message_bytes, lambda: task_status.started(settings.path))
    finally:
        _remove_if_ours(settings.path, created)


def _remove_if_ours(path: Path, created: os.stat_result) -> None:
    """Remove the socket file unless another daemon replaced it (after finding this one gone)."""
    with contextlib.suppress(FileNotFoundError):
        now = os.stat(path)
        if (now.st_dev, now.st_ino) == (created.st_dev, created.st_ino):
            path.unlink()
