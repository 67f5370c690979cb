"""A minimal blocking JSON-lines client of the stdio daemon, for latency figures.

Front-ends are not Python test harnesses: timing the daemon through this client (one write, one
read per request, no event loop) leaves only the daemon and the pipes in the figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Self

INITIALIZE = {"clientInfo": {"name": "bench", "version": "1"}}


class LeanClient:
    """One `python -m app_server` process driven over its stdio, one request at a time."""

    def __init__(self, home: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "APP_SERVER_HOME": str(home)},
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._write_fd = self._process.stdin.fileno()
        self._reader = self._process.stdout
        self._next_id = 0

    def __enter__(self) -> Self:
        self.call("initialize", INITIALIZE)
        os.write(self._write_fd, b'{"method":"initialized"}\n')
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The result of one request (notifications in between are skipped); raises on an error."""
        self._next_id += 1
        request_id = self._next_id
        request = {"id": request_id, "method": method, "params": params}
        os.write(self._write_fd, json.dumps(request).encode() + b"\n")
        while True:
            message = json.loads(self._reader.readline())
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def wait_connected(self, server: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.call("mcpServerStatus/list", {"serverName": server})
            if any(entry["runtimeStatus"] == "connected" for entry in status["data"]):
                return
            time.sleep(0.05)
        raise TimeoutError(f"MCP server `{server}` did not connect within {timeout:g} s")
