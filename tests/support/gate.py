"""Holding a daemon's import of the mcp SDK, to see what it answers before its MCP layer is up.

    gate = ImportGate(tmp_path / "gate")
    async with Daemon.start(home, env=gate.env) as daemon:
        ...                      # the daemon's first `import mcp` waits here
        gate.open()              # now it goes on

See tests/fixtures/import_gate/sitecustomize.py for the daemon's side.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Self

GATE_DIRECTORY = Path(__file__).resolve().parents[1] / "fixtures" / "import_gate"


class ImportGate:
    """A FIFO that the daemon's first `import mcp` reads one byte from; a context manager."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self._path = path
        # Held open for reading and writing: the daemon's open never blocks, only its read does,
        # and `open()` never waits for a reader.
        self._fd = os.open(path, os.O_RDWR)

    @property
    def env(self) -> dict[str, str]:
        """The daemon's environment additions: the gate on its path, the FIFO it waits on."""
        path = os.pathsep.join(filter(None, [str(GATE_DIRECTORY), os.environ.get("PYTHONPATH")]))
        return {"PYTHONPATH": path, "IMPORT_GATE_FIFO": str(self._path)}

    def open(self) -> None:
        """Let the held import go on."""
        os.write(self._fd, b"x")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        os.close(self._fd)
