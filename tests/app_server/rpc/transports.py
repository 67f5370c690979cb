"""One Connection served over each real transport, for the contract suite: memory, stdio pipes, WebSocket.

    async with serving("stdio", methods, services) as (client, connection):
        await client.initialize()
        await client.send({"id": 1, "method": "no/such"})
        answer = await client.receive()

The server end is the daemon's own transport (`memory_pair`, `FdStream` on a real pipe pair, the
loopback WebSocket listener with its token); the client end speaks that transport's framing.
Every receive is bounded by `WAIT` seconds.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from itertools import count
from pathlib import Path
from typing import Any, ClassVar

import anyio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app_server.events import EventBus, Listener
from app_server.rpc.connection import DEFAULT_MAX_OUTBOUND_MESSAGES, Connection
from app_server.rpc.dispatcher import MethodTable
from app_server.transport.base import MessageStream
from app_server.transport.memory import MemoryStream, memory_pair
from app_server.transport.stdio import FdStream
from app_server.transport.websocket import WebSocketSettings, serve_websocket
from protocol import errors as codes

TRANSPORTS = ("memory", "stdio", "websocket")
BYTE_TRANSPORTS = ("stdio", "websocket")
"""The transports whose messages are bytes on the way in (memory carries `str`: nothing to decode)."""

MAX_MESSAGE_BYTES = 1 << 20
WAIT = 5.0
TOKEN = "contract-token-0123456789"
INIT = {"clientInfo": {"name": "tests", "version": "1"}}


class ContractServices:
    """What the suite serves connections with (`rpc.connection.Host`): a real event bus, the home
    `initialize` reports, and a readiness each test sets.

    The daemon's own services would build the whole application core; the contract is the rpc
    layer's, which needs only this.
    """

    def __init__(self, home: Path, *, built: bool = True) -> None:
        self.home = home
        self.events = EventBus()
        self.warm_ups = 0
        self._built = anyio.Event()
        if built:
            self._built.set()

    @property
    def built(self) -> bool:
        return self._built.is_set()

    def build(self) -> None:
        self._built.set()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.events.subscribe(listener)

    def warm_up(self) -> None:
        self.warm_ups += 1

    async def wait_built(self) -> None:
        await self._built.wait()


class Client(ABC):
    """The client end of one served connection."""

    closes_on_oversized: ClassVar[bool] = False
    """A message over the size limit closes the connection instead of being answered -32600."""

    def __init__(self) -> None:
        self._probes = count()

    @abstractmethod
    async def send_text(self, text: str) -> None:
        """Send one message as text, in the transport's framing."""

    @abstractmethod
    async def send_bytes(self, data: bytes) -> None:
        """Send one message as raw bytes, in the transport's framing."""

    @abstractmethod
    async def receive_text(self) -> str:
        """The next message; raises EOFError once the server has closed the connection."""

    async def send(self, message: Any) -> None:
        await self.send_text(json.dumps(message, ensure_ascii=False))

    async def receive(self) -> Any:
        with anyio.fail_after(WAIT):
            return json.loads(await self.receive_text())

    async def initialize(self, capabilities: dict[str, Any] | None = None) -> Any:
        await self.send(
            {"id": "init", "method": "initialize", "params": {**INIT, "capabilities": capabilities}}
        )
        answer = await self.receive()
        assert answer["id"] == "init" and "result" in answer, answer
        return answer["result"]

    async def answers_until_probe(self) -> list[Any]:
        """Everything received before the answer to a fresh probe request (the connection is alive)."""
        probe_id = f"probe-{next(self._probes)}"
        await self.send({"id": probe_id, "method": "no/such/method"})
        received = []
        while True:
            message = await self.receive()
            if isinstance(message, dict) and message.get("id") == probe_id:
                assert message["error"]["code"] == codes.METHOD_NOT_FOUND
                return received
            received.append(message)


class MemoryClient(Client):
    def __init__(self, stream: MemoryStream) -> None:
        super().__init__()
        self.stream = stream

    async def send_text(self, text: str) -> None:
        await self.stream.send(text)

    async def send_bytes(self, data: bytes) -> None:
        raise NotImplementedError("the memory transport carries str")

    async def receive_text(self) -> str:
        try:
            return await self.stream.receive()
        except anyio.EndOfStream:
            raise EOFError from None


class PipeClient(Client):
    """JSON lines over a real pipe pair, written and read as a front-end that spawned the daemon would."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        super().__init__()
        self.stream = FdStream(read_fd, write_fd, max_message_bytes=1 << 30)
        self._write_fd = write_fd

    async def send_text(self, text: str) -> None:
        await self.stream.send(text)

    async def send_bytes(self, data: bytes) -> None:
        pending = memoryview(data + b"\n")
        while pending:
            try:
                pending = pending[os.write(self._write_fd, pending) :]
            except BlockingIOError:
                await anyio.wait_writable(self._write_fd)

    async def receive_text(self) -> str:
        try:
            return await self.stream.receive()
        except anyio.EndOfStream:
            raise EOFError from None


class WebSocketClient(Client):
    closes_on_oversized = True

    def __init__(self, websocket: ClientConnection) -> None:
        super().__init__()
        self.websocket = websocket

    async def send_text(self, text: str) -> None:
        await self.websocket.send(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.websocket.send(data)  # a binary frame

    async def receive_text(self) -> str:
        try:
            message = await self.websocket.recv()
        except ConnectionClosed:
            raise EOFError(f"closed with {self.websocket.close_code}") from None
        assert isinstance(message, str), "the server sends text frames"
        return message

    @property
    def close_code(self) -> int | None:
        return self.websocket.close_code


def serving(
    transport: str, methods: MethodTable[Any], services: ContractServices
) -> AbstractAsyncContextManager[tuple[Client, Connection[Any]]]:
    """A connection served over `transport`, with its client; torn down on exit."""
    serve = {"memory": memory_serving, "stdio": _over_pipes, "websocket": _over_websocket}[transport]
    return serve(methods, services)


@asynccontextmanager
async def memory_serving(
    methods: MethodTable[Any],
    services: ContractServices,
    *,
    buffer_size: float = float("inf"),
    max_outbound_messages: int = DEFAULT_MAX_OUTBOUND_MESSAGES,
) -> AsyncIterator[tuple[Client, Connection[Any]]]:
    """Over memory, where a test can also hold the client's reading back (`buffer_size=0`)."""
    server_end, client_end = memory_pair(buffer_size, max_message_bytes=MAX_MESSAGE_BYTES)
    connection = Connection(
        server_end, methods=methods, services=services, max_outbound_messages=max_outbound_messages
    )
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(connection.run)
            yield MemoryClient(client_end), connection
            task_group.cancel_scope.cancel()
    finally:
        await client_end.aclose()


@asynccontextmanager
async def _over_pipes(
    methods: MethodTable[Any], services: ContractServices
) -> AsyncIterator[tuple[Client, Connection[Any]]]:
    to_server_read, to_server_write = os.pipe()
    to_client_read, to_client_write = os.pipe()
    server_end = FdStream(to_server_read, to_client_write, max_message_bytes=MAX_MESSAGE_BYTES)
    client = PipeClient(to_client_read, to_server_write)
    connection = Connection(server_end, methods=methods, services=services)
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(connection.run)
            yield client, connection
            task_group.cancel_scope.cancel()
    finally:
        await client.stream.aclose()


@asynccontextmanager
async def _over_websocket(
    methods: MethodTable[Any], services: ContractServices
) -> AsyncIterator[tuple[Client, Connection[Any]]]:
    settings = WebSocketSettings(
        host="127.0.0.1", port=0, token=TOKEN, allowed_origins=(), max_message_bytes=MAX_MESSAGE_BYTES
    )
    accepted: list[Connection[Any]] = []
    arrived, finished = anyio.Event(), anyio.Event()
    # uvicorn runs each connection in a task of its own: this scope lets the harness end it.
    connection_scope = anyio.CancelScope()

    async def on_connection(stream: MessageStream) -> None:
        connection = Connection(stream, methods=methods, services=services)
        accepted.append(connection)
        arrived.set()
        try:
            with connection_scope:
                await connection.run()
        finally:
            finished.set()

    async with anyio.create_task_group() as task_group:
        port = await task_group.start(serve_websocket, settings, on_connection)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(f"ws://127.0.0.1:{port}/", additional_headers=headers, max_size=None) as websocket:
            try:
                with anyio.fail_after(WAIT):
                    await arrived.wait()
                yield WebSocketClient(websocket), accepted[0]
            finally:
                connection_scope.cancel()
                if arrived.is_set():
                    with anyio.fail_after(WAIT):
                        await finished.wait()
        task_group.cancel_scope.cancel()


def assert_well_formed(message: Any) -> None:
    """A JSON-RPC 2.0 response: jsonrpc, id, exactly one of result/error, an error with code+message."""
    if isinstance(message, list):
        assert message, "an empty batch answer"
        for item in message:
            assert_well_formed(item)
        return
    assert isinstance(message, dict)
    assert message.get("jsonrpc") == "2.0"
    assert "id" in message
    assert ("result" in message) != ("error" in message)
    if "error" in message:
        assert isinstance(message["error"]["code"], int)
        assert isinstance(message["error"]["message"], str)
