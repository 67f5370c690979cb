"""The composition root: builds the shared services, serves the transport(s), shuts down in order."""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from app_server.core_host import CoreHost
from app_server.events import EventBus
from app_server.home import home_dir
from app_server.rpc.connection import DEFAULT_MAX_OUTBOUND_MESSAGES, Connection
from app_server.rpc.dispatcher import MethodTable
from app_server.services import Services
from app_server.transport.base import DEFAULT_MAX_MESSAGE_BYTES, MessageStream

if TYPE_CHECKING:
    from app_server.handshake import EarlyHandshake, EarlySignals
    from app_server.rpc.session import ClientSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    listen: str | None = None
    """`ws://HOST:PORT` to serve WebSocket, `unix://PATH` the same over a Unix socket; None serves stdio."""
    ws_token: str | None = None
    ws_allowed_origins: tuple[str, ...] = ()
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_outbound_messages: int = DEFAULT_MAX_OUTBOUND_MESSAGES
    config_overrides: tuple[str, ...] = ()
    """`-c key=value` strings, in order, for the config layer."""


def build_services(options: ServerOptions) -> Services:
    home, events = home_dir(), EventBus()
    return Services(home=home, events=events, host=CoreHost(home, events, options.config_overrides))


async def serve(
    options: ServerOptions, early: EarlyHandshake | None = None, signals: EarlySignals | None = None
) -> None:
    """Serve until stdin ends (stdio), or SIGTERM/SIGINT; raises ConfigError for a bad listen setting.

    `early`: what the stdio client was answered before the event loop started; `signals`: the
    stop signals recorded while the daemon started.
    """
    from app_server.handlers import method_table

    services = build_services(options)
    methods = method_table()
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(_stop_on_signal, task_group.cancel_scope, signals)
        await task_group.start(services.host.run)
        if options.listen is None:
            await serve_stdio(options, services, methods, early)
            task_group.cancel_scope.cancel()
        elif options.listen.startswith("unix://"):
            await _start_unix_socket(task_group, options, services, methods)
        else:
            await _start_websocket(task_group, options, services, methods)


async def serve_stdio(
    options: ServerOptions, services: Services, methods: MethodTable[Services], early: EarlyHandshake | None
) -> None:
    from app_server.transport.stdio import take_over_stdio

    unread = early.unread if early is not None else b""
    stream = take_over_stdio(max_message_bytes=options.max_message_bytes, unread=unread)
    session = early.session if early is not None else None
    await serve_connection(stream, options, services, methods, session)


async def serve_connection(
    stream: MessageStream,
    options: ServerOptions,
    services: Services,
    methods: MethodTable[Services],
    session: ClientSession | None = None,
) -> None:
    """Serve one client connection until it ends (`session`: it was answered `initialize` already)."""
    connection = Connection(
        stream,
        methods=methods,
        services=services,
        max_outbound_messages=options.max_outbound_messages,
        session=session,
    )
    try:
        await connection.run()
    finally:
        services.connection_closed(connection)


def _handler(
    options: ServerOptions, services: Services, methods: MethodTable[Services]
) -> Callable[[MessageStream], Awaitable[None]]:
    """Serves each connection a listener accepts."""

    async def on_connection(stream: MessageStream) -> None:
        await serve_connection(stream, options, services, methods)

    return on_connection


async def _start_websocket(
    task_group: anyio.abc.TaskGroup,
    options: ServerOptions,
    services: Services,
    methods: MethodTable[Services],
) -> None:
    from app_server.transport.websocket import WebSocketSettings, serve_websocket

    assert options.listen is not None
    settings = WebSocketSettings.from_listen_url(
        options.listen,
        token=options.ws_token,
        allowed_origins=options.ws_allowed_origins,
        max_message_bytes=options.max_message_bytes,
    )

    port = await task_group.start(serve_websocket, settings, _handler(options, services, methods))
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    logger.info("listening on ws://%s:%d", host, port)


async def _start_unix_socket(
    task_group: anyio.abc.TaskGroup,
    options: ServerOptions,
    services: Services,
    methods: MethodTable[Services],
) -> None:
    from app_server.transport.unix_socket import UnixSocketSettings, serve_unix_socket

    assert options.listen is not None
    settings = UnixSocketSettings.from_listen_url(
        options.listen,
        services.home,
        token=options.ws_token,
        allowed_origins=options.ws_allowed_origins,
        max_message_bytes=options.max_message_bytes,
    )

    path = await task_group.start(serve_unix_socket, settings, _handler(options, services, methods))
    logger.info("listening on unix://%s", path)


async def _stop_on_signal(scope: anyio.CancelScope, early: EarlySignals | None) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        if early is not None and early.received is not None:  # looked at once this receiver is in place
            logger.info("received %s; shutting down", early.received)
            scope.cancel()
            return
        async for received in signals:
            logger.info("received %s; shutting down", signal.Signals(received).name)
            scope.cancel()
            return
