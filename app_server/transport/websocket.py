"""The WebSocket transport: one JSON-RPC message per text frame on a loopback listener.

A starlette app served by uvicorn (websockets sans-I/O implementation) on a socket we bind
ourselves (so the port is known before serving, also for port 0), inside the caller's task group.
Every request first passes `ListenerGuard`. Frames above the message limit close the connection
(uvicorn's `ws_max_size`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import uvicorn
from anyio.abc import TaskStatus
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app_server.errors import ConfigError
from app_server.transport.base import MessageStream, UndecodableMessageError
from app_server.transport.guard import ListenerGuard
from app_server.transport.sockets import tcp_listener

logger = logging.getLogger(__name__)

ConnectionHandler = Callable[[MessageStream], Awaitable[None]]
"""Serves one accepted connection until it ends."""

_SHUTDOWN_GRACE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class WebSocketSettings:
    host: str
    port: int
    token: str | None
    allowed_origins: tuple[str, ...]
    max_message_bytes: int

    @classmethod
    def from_listen_url(
        cls, url: str, *, token: str | None, allowed_origins: tuple[str, ...], max_message_bytes: int
    ) -> WebSocketSettings:
        """Settings for `ws://HOST:PORT`; raises ConfigError for another form or an unsafe bind.

        A non-loopback address is refused unless a token is configured.
        """
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != "ws" or not parts.hostname or port is None or parts.path not in ("", "/"):
            raise ConfigError(
                [
                    "--listen expects stdio://, ws://HOST:PORT (for example ws://127.0.0.1:4500) "
                    f"or unix://PATH, got {url!r}"
                ]
            )
        host = parts.hostname
        if token is None and not _is_loopback(host):
            raise ConfigError([f"refusing to listen on non-loopback address {host} without --ws-token-file"])
        return cls(host, port, token, allowed_origins, max_message_bytes)


class WebSocketStream:
    """One accepted WebSocket as a MessageStream."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._closed = False

    async def receive(self) -> str:
        message = await self._websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise anyio.EndOfStream
        text = message.get("text")
        if text is not None:
            return str(text)
        try:
            return bytes(message.get("bytes") or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise UndecodableMessageError from None

    async def send(self, message: str) -> None:
        try:
            await self._websocket.send_text(message)
        except (WebSocketDisconnect, OSError, RuntimeError) as exc:
            raise anyio.BrokenResourceError from exc

    def try_send(self, message: str) -> bool:
        return False  # a frame is written by awaiting the ASGI send; the connection queues it

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await self._websocket.close()


MAX_MESSAGE_BYTES_HEADER = b"x-codex-websocket-max-unfragmented-message-bytes"
"""Codex's upgrade header naming the largest message taken in one frame (a client can refuse to send
a bigger one instead of seeing the connection closed)."""


def build_app(
    on_connection: ConnectionHandler,
    *,
    bind_host: str | None,
    port: int | None,
    token: str | None,
    allowed_origins: tuple[str, ...],
    max_message_bytes: int,
    any_path: bool = False,
) -> ListenerGuard:
    """The ASGI app: `/` (every path but the health checks when `any_path`) upgrades to the JSON-RPC
    WebSocket, `/healthz` and `/readyz` answer 200. `bind_host` None: no network name (a Unix
    socket), so no Host check."""

    async def health(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    limit = (MAX_MESSAGE_BYTES_HEADER, str(max_message_bytes).encode())

    async def rpc(websocket: WebSocket) -> None:
        await websocket.accept(headers=[limit])
        await on_connection(WebSocketStream(websocket))

    app = Starlette(
        routes=[
            Route("/healthz", health),
            Route("/readyz", health),
            WebSocketRoute("/{path:path}" if any_path else "/", rpc),
        ],
    )
    return ListenerGuard(app, bind_host=bind_host, port=port, token=token, allowed_origins=allowed_origins)


async def serve_websocket(
    settings: WebSocketSettings,
    on_connection: ConnectionHandler,
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; reports the bound port through `task_status`."""
    try:
        sock = tcp_listener(settings.host, settings.port)
    except OSError as exc:
        raise ConfigError([f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"]) from None
    port = int(sock.getsockname()[1])
    app = build_app(
        on_connection,
        bind_host=settings.host,
        port=port,
        token=settings.token,
        allowed_origins=settings.allowed_origins,
        max_message_bytes=settings.max_message_bytes,
    )
    await serve_app(sock, app, settings.max_message_bytes, lambda: task_status.started(port))


async def serve_app(
    sock: socket.socket, app: ListenerGuard, max_message_bytes: int, started: Callable[[], None]
) -> None:
    """Serve `app` on the bound socket `sock` until cancelled; `started` once it accepts connections."""
    config = uvicorn.Config(
        app,
        ws="websockets-sansio",
        ws_max_size=max_message_bytes,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=_SHUTDOWN_GRACE_SECONDS,
    )
    config.load()
    server = uvicorn.Server(config)
    # startup/main_loop/shutdown rather than serve(), which would take over the process's signals;
    # serve() sets up the lifespan handler (a no-op with lifespan="off") the same way first.
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])
    started()
    try:
        await server.main_loop()
    finally:
        server.should_exit = True
        with anyio.CancelScope(shield=True):
            await server.shutdown(sockets=[sock])


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
