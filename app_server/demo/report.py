"""How the demo shows what happens: sections, event lines, a server table and a closing panel (rich).

Everything the daemon sent is printed as plain text, never as rich markup. On a console that is not
a terminal (CI, a pipe) rich drops colours and spinners, so the output stays a readable log.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.table import Table
from rich.text import Text

_LOG_TAIL_LINES = 40
_LABEL_WIDTH = 11


@dataclass(frozen=True, slots=True)
class Answer:
    """Which runtime answered one `whoami` call, as its result reported."""

    label: str
    pid: int

    def describe(self) -> str:
        return f"runtime {self.label} (pid {self.pid})"


class Report:
    """Writes the demo's story to one console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def title(self, text: str) -> None:
        self.console.rule(Text(text, style="bold"))

    def section(self, text: str) -> None:
        self.console.print()
        self.console.print(Text(text, style="bold cyan"))

    def line(self, label: str, text: str, *, style: str = "") -> None:
        """One event: a short label column, then what happened (wrapped within its own column)."""
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(width=_LABEL_WIDTH, style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(Text(label), Text(text, style=style))
        self.console.print(grid)

    @contextmanager
    def progress(self, text: str) -> Iterator[Status]:
        """A spinner while something starts; its text can be updated as news arrives."""
        with self.console.status(Text(text), spinner="dots") as status:
            yield status

    def servers(self, entries: Sequence[dict[str, Any]]) -> None:
        """The `mcpServerStatus/list` entries as a table."""
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        for column in ("server", "status", "implementation", "tools"):
            table.add_column(column)
        for entry in entries:
            info = entry.get("serverInfo") or {}
            implementation = f"{info.get('title') or info.get('name', '')} {info.get('version', '')}".strip()
            tools = ", ".join(sorted(entry.get("tools") or {})) or str(entry.get("toolsError") or "-")
            table.add_row(
                Text(str(entry.get("name"))),
                Text(str(entry.get("runtimeStatus"))),
                Text(implementation or "-"),
                Text(tools),
            )
        if not entries:
            self.line("servers", "none configured")
            return
        self.console.print(table)

    def verdict(self, answers: Sequence[Answer], *, proven: bool) -> None:
        """The closing panel: which runtime answered each step, and whether that is the guarantee."""
        lines = [f"step {number} -> {answer.describe()}" for number, answer in enumerate(answers, start=1)]
        if proven:
            lines.append("")
            lines.append("The reload during step 1 did not touch the runtime that step had leased;")
            lines.append("step 2 leased the new one.")
            self.console.print(Panel(Text("\n".join(lines)), title="runtimes", border_style="green"))
            return
        lines.append("")
        lines.append("Expected step 1 -> runtime A and step 2 -> runtime B (a different process).")
        self.console.print(Panel(Text("\n".join(lines)), title="runtimes: unexpected", border_style="red"))

    def failure(self, message: str, daemon_log: str) -> None:
        """Why the demo stopped, with the end of the daemon's stderr to help find out more."""
        self.console.print()
        self.console.print(Text(f"demo failed: {message}", style="bold red"))
        tail = daemon_log.splitlines()[-_LOG_TAIL_LINES:]
        if tail:
            self.console.print(Text("last lines of the daemon's stderr:", style="dim"))
            self.console.print(Text("\n".join(tail)))
