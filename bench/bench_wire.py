"""Wire benchmarks over the real stdio daemon: process start -> first replies, round trip, throughput."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.config import cheap_server, write_config

STARTS = 10
FIRST_REPLY_STARTS = 10
FIRST_REPLY_SERVERS = 5
ROUND_TRIPS = 2000
PIPELINED = 20000
INITIALIZE = json.dumps(
    {"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "bench", "version": "1"}}}
).encode()
INITIALIZED = b'{"method":"initialized"}\n'
# A cheap real method: decode -> gate -> dispatch -> validate params -> handler -> encode.
CHEAP = b'{"id":1,"method":"account/read","params":{}}\n'


def _spawn(home: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "APP_SERVER_HOME": home},
    )


def _start_to_initialize(home: str) -> float:
    started = time.perf_counter()
    process = _spawn(home)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(INITIALIZE + b"\n")
    process.stdin.flush()
    reply = process.stdout.readline()
    elapsed = time.perf_counter() - started
    assert b'"result"' in reply, reply
    process.stdin.close()
    process.wait(timeout=10)
    return elapsed


def _start_to_first_reply(home: str, request: bytes) -> float:
    """Spawn, write `initialize`, `initialized` and `request` (id 1) at once, time `request`'s reply."""
    started = time.perf_counter()
    process = _spawn(home)
    assert process.stdin is not None and process.stdout is not None
    os.write(process.stdin.fileno(), INITIALIZE + b"\n" + INITIALIZED + request)
    while True:
        message = json.loads(process.stdout.readline())
        if message.get("id") == 1 and "method" not in message:
            break
    elapsed = time.perf_counter() - started
    assert "result" in message, message
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed


def _first_reply_rows() -> list[tuple[str, str, str]]:
    """Spawn -> `thread/start` and spawn -> `account/read` with 5 stdio servers configured."""
    rows = []
    with tempfile.TemporaryDirectory() as home:
        servers = {f"s{index}": cheap_server(f"s{index}") for index in range(FIRST_REPLY_SERVERS)}
        write_config(Path(home), servers, features={"apps": False})
        for method in ("thread/start", "account/read"):
            request = json.dumps({"id": 1, "method": method, "params": {}}).encode() + b"\n"
            took = statistics.median(_start_to_first_reply(home, request) for _ in range(FIRST_REPLY_STARTS))
            rows.append(
                (
                    f"stdio: process start -> `{method}` reply, written with initialize + initialized, "
                    f"{FIRST_REPLY_SERVERS} servers (median of {FIRST_REPLY_STARTS})",
                    f"{took:.3f} s",
                    "~ 0.1 s (Codex)",
                )
            )
    return rows


def _round_trips_and_throughput(home: str) -> tuple[float, float]:
    process = _spawn(home)
    assert process.stdin is not None and process.stdout is not None
    write_fd, reader = process.stdin.fileno(), process.stdout
    os.write(write_fd, INITIALIZE + b"\n")
    reader.readline()
    # The first call waits for the core, built after `initialize`, and this one for its MCP half,
    # built in the background after it: measure the steady state, not the warm-up.
    os.write(write_fd, b'{"id":0,"method":"mcpServerStatus/list","params":{}}\n')
    reader.readline()
    samples = []
    for _ in range(ROUND_TRIPS):
        started = time.perf_counter()
        os.write(write_fd, CHEAP)
        reader.readline()
        samples.append(time.perf_counter() - started)
    started = time.perf_counter()
    batch = CHEAP * 1000
    for _ in range(PIPELINED // 1000):
        os.write(write_fd, batch)
        for _ in range(1000):
            reader.readline()
    throughput = PIPELINED / (time.perf_counter() - started)
    process.stdin.close()
    process.wait(timeout=10)
    return statistics.median(samples), throughput


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as home:
        starts = [_start_to_initialize(home) for _ in range(STARTS)]
        round_trip, throughput = _round_trips_and_throughput(home)
    return [
        (
            "stdio: process start -> initialize reply (median of 10)",
            f"{statistics.median(starts):.3f} s",
            "< 0.15 s",
        ),
        *_first_reply_rows(),
        ("stdio: request round trip (median)", f"{round_trip * 1000:.3f} ms", "< 0.2 ms"),
        ("stdio: pipelined throughput", f"{throughput:,.0f} req/s", "-"),
    ]
