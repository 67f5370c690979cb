"""Answering a stdio client's `initialize` before the event loop: only a valid one, nothing lost."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_server.handshake import EarlyHandshake, EarlySignals, StopRequested, handshake_before_loop

LIMIT = 1 << 20
INITIALIZE = {"id": 7, "method": "initialize", "params": {"clientInfo": {"name": "ide", "version": "2.0"}}}


Pipes = tuple[int, int, int, int]


@pytest.fixture
def pipes() -> Iterator[Pipes]:
    """(client writes, daemon reads, daemon writes, client reads)."""
    daemon_in, client_out = os.pipe()
    client_in, daemon_out = os.pipe()
    yield client_out, daemon_in, daemon_out, client_in
    for fd in (daemon_in, client_in, daemon_out):
        os.close(fd)
    with contextlib.suppress(OSError):  # closed by a test that ends the client's input
        os.close(client_out)


def handshake(pipes: Pipes, sent: bytes, home: Path) -> EarlyHandshake:
    client_out, daemon_in, daemon_out, _ = pipes
    os.write(client_out, sent)
    return handshake_before_loop(daemon_in, daemon_out, home, max_line_bytes=LIMIT)


def answered(pipes: Pipes) -> bytes:
    *_, client_in = pipes
    os.set_blocking(client_in, False)
    try:
        return os.read(client_in, 65536)
    except BlockingIOError:
        return b""


def test_a_valid_initialize_is_answered_and_what_follows_it_is_kept(pipes: Pipes, home: Path) -> None:
    rest = b'{"method":"initialized"}\n{"id":8,"method":"account/read"}\n'
    early = handshake(pipes, json.dumps(INITIALIZE).encode() + b"\n" + rest, home)

    reply = json.loads(answered(pipes))
    assert reply["id"] == 7
    assert reply["result"]["codexHome"] == str(home)
    assert reply["result"]["userAgent"].endswith(" (ide; 2.0)")
    assert early.session is not None and early.session.client_name == "ide"
    assert early.unread == rest


@pytest.mark.parametrize(
    "first_line",
    [
        b'{"id":1,"method":"thread/list"}',
        b'{"id":1,"method":"initialize","params":{"clientInfo":{"name":"ide"}}}',
        b'{"id":1.5,"method":"initialize","params":{"clientInfo":{"name":"a","version":"1"}}}',
        b'[{"id":1,"method":"initialize","params":{"clientInfo":{"name":"a","version":"1"}}}]',
        b"",
        b"{not json",
        b'\xff{"id":1}',
    ],
)
def test_anything_but_a_valid_initialize_is_left_unanswered_and_unread(
    pipes: Pipes, home: Path, first_line: bytes
) -> None:
    sent = first_line + b"\n" + b'{"id":2,"method":"initialize"}\n'
    early = handshake(pipes, sent, home)

    assert early == EarlyHandshake(session=None, unread=sent)
    assert answered(pipes) == b""


def test_input_that_ends_before_a_whole_line_is_left_for_the_connection(pipes: Pipes, home: Path) -> None:
    client_out, daemon_in, daemon_out, _ = pipes
    partial = json.dumps(INITIALIZE).encode()
    os.write(client_out, partial)
    os.close(client_out)
    early = handshake_before_loop(daemon_in, daemon_out, home, max_line_bytes=LIMIT)

    assert early == EarlyHandshake(session=None, unread=partial)
    assert answered(pipes) == b""


def test_a_first_line_over_the_size_limit_is_left_for_the_connection_to_refuse(
    pipes: Pipes, home: Path
) -> None:
    client_out, daemon_in, daemon_out, _ = pipes
    line = json.dumps({**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * 200}}).encode() + b"\n"
    os.write(client_out, line)

    early = handshake_before_loop(daemon_in, daemon_out, home, max_line_bytes=100)

    assert early == EarlyHandshake(session=None, unread=line)
    assert answered(pipes) == b""


@pytest.fixture
def restored_signal_handlers() -> Iterator[None]:
    saved = {stopping: signal.getsignal(stopping) for stopping in (signal.SIGTERM, signal.SIGINT)}
    yield
    for stopping, handler in saved.items():
        signal.signal(stopping, handler)


@pytest.mark.usefixtures("restored_signal_handlers")
def test_a_stop_signal_raises_while_waiting_and_is_only_recorded_once_deferred() -> None:
    signals = EarlySignals()
    with pytest.raises(StopRequested, match="SIGTERM"):
        signal.raise_signal(signal.SIGTERM)

    signals.defer()
    signal.raise_signal(signal.SIGINT)

    assert signals.received == "SIGINT"
