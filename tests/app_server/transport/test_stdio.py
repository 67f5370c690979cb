"""The fd transport over real pipes: framing, large messages, undecodable lines, end of input."""

from __future__ import annotations

import os

import anyio
import pytest

from app_server.transport.base import UndecodableMessageError
from app_server.transport.stdio import FdStream


@pytest.mark.anyio
async def test_messages_round_trip_over_pipes_including_ones_larger_than_the_pipe_buffer() -> None:
    to_server_read, to_server_write = os.pipe()
    to_client_read, to_client_write = os.pipe()
    server = FdStream(to_server_read, to_client_write, max_message_bytes=1 << 22)
    big = '{"pad":"' + "é" * 300_000 + '"}'
    received: list[str] = []
    with anyio.fail_after(10):
        async with anyio.create_task_group() as task_group:

            async def feed_input() -> None:
                await anyio.to_thread.run_sync(os.write, to_server_write, b'{"a":1}\r\n\xff\xfe\n')
                await anyio.to_thread.run_sync(os.write, to_server_write, b'{"tail":true}')
                os.close(to_server_write)

            task_group.start_soon(feed_input)
            received.append(await server.receive())
            with pytest.raises(UndecodableMessageError):
                await server.receive()
            received.append(await server.receive())
            with pytest.raises(anyio.EndOfStream):
                await server.receive()
            task_group.start_soon(server.send, big)
            with os.fdopen(to_client_read, "rb") as client_reader:
                echoed = await anyio.to_thread.run_sync(client_reader.readline)
    await server.aclose()
    assert received == ['{"a":1}\r', '{"tail":true}']
    assert echoed.decode("utf-8") == big + "\n"


@pytest.mark.anyio
async def test_a_small_message_is_sent_at_once_on_a_pipe_and_a_large_one_is_left_to_send() -> None:
    to_server_read, to_server_write = os.pipe()
    to_client_read, to_client_write = os.pipe()
    server = FdStream(to_server_read, to_client_write, max_message_bytes=1 << 20)
    try:
        assert server.try_send('{"id":1,"result":{}}') is True
        assert os.read(to_client_read, 4096) == b'{"id":1,"result":{}}\n'
        assert server.try_send('{"pad":"' + "x" * 8192 + '"}') is False
    finally:
        await server.aclose()
        os.close(to_server_write)
        os.close(to_client_read)


@pytest.mark.anyio
async def test_nothing_is_sent_at_once_while_a_send_is_still_writing() -> None:
    to_server_read, to_server_write = os.pipe()
    to_client_read, to_client_write = os.pipe()
    server = FdStream(to_server_read, to_client_write, max_message_bytes=1 << 22)
    big = "y" * (1 << 20)  # more than the pipe holds: `send` waits for the reader
    try:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(server.send, big)
                await anyio.wait_all_tasks_blocked()
                assert server.try_send("{}") is False
                with os.fdopen(to_client_read, "rb", closefd=False) as client_reader:
                    echoed = await anyio.to_thread.run_sync(client_reader.readline)
        assert echoed == big.encode() + b"\n"
    finally:
        await server.aclose()
        os.close(to_server_write)
        os.close(to_client_read)
