"""The example MCP server bundled for `app-server demo`: a few annotated tools, a resource and a template.

Run over stdio as `python -m app_server.demo.example_server [--label LABEL]`. The label (else the
`APP_SERVER_DEMO_LABEL` environment variable) comes back from `whoami`, so the demo can show which
runtime answered a call before and after a reload. Notes written by `write_note` live in this
process only: a reloaded runtime starts with none.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Annotated

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

LABEL_ENV = "APP_SERVER_DEMO_LABEL"
"""Environment variable naming this server instance when `--label` is not given."""

DEFAULT_LABEL = "example"

README_URI = "demo://readme"
NOTE_URI_TEMPLATE = "demo://notes/{name}"

README_TEXT = """\
Example MCP server for `app-server demo`.

Tools: whoami (which process answered), add, echo, slow (reports progress), write_note.
Notes written with write_note are readable at demo://notes/{name} until this process exits.
"""


class Identity(BaseModel):
    """Who answered a call: the configured label and the process id."""

    label: str
    pid: int


def _read_only(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)


def build_server(label: str) -> MCPServer:
    """The example server; `label` tells runtimes apart in `whoami` answers."""
    server: MCPServer = MCPServer(
        name="app-server-demo",
        title=f"Demo server {label}",
        version="1.0.0",
        instructions="A demo server. `whoami` names the runtime that answered; `slow` reports progress.",
    )
    notes: dict[str, str] = {}

    @server.tool(annotations=_read_only("Who am I"))
    def whoami() -> Annotated[CallToolResult, Identity]:
        """Name the server instance and process that answered this call."""
        identity = Identity(label=label, pid=os.getpid())
        text = f"answered by runtime {identity.label} (pid {identity.pid})"
        return CallToolResult(content=[TextContent(text=text)], structured_content=identity.model_dump())

    @server.tool(annotations=_read_only("Add two numbers"))
    def add(a: int | float, b: int | float) -> int | float:
        """Add two numbers."""
        return a + b

    @server.tool(annotations=_read_only("Echo"))
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool(annotations=_read_only("Slow task"))
    async def slow(
        ctx: Context,
        seconds: Annotated[float, Field(ge=0, le=60)] = 2.0,
        steps: Annotated[int, Field(ge=1, le=100)] = 4,
    ) -> str:
        """Take `seconds` to finish, reporting progress `steps` times along the way."""
        for step in range(1, steps + 1):
            await anyio.sleep(seconds / steps)
            await ctx.report_progress(step, steps, f"step {step} of {steps}")
        return f"finished {steps} steps in {seconds:g} s"

    @server.tool(
        annotations=ToolAnnotations(
            title="Write a note",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        )
    )
    def write_note(text: str, name: str = "scratch") -> str:
        """Write the note `name`, replacing any note already there; it is readable as a resource."""
        notes[name] = text
        return NOTE_URI_TEMPLATE.format(name=name)

    @server.resource(README_URI, name="readme", title="About this server", mime_type="text/plain")
    def readme() -> str:
        """What this server offers."""
        return README_TEXT

    @server.resource(NOTE_URI_TEMPLATE, name="note", title="A written note", mime_type="text/plain")
    def note(name: str) -> str:
        """The text of a note written with `write_note`."""
        if name not in notes:
            raise ResourceNotFoundError(f"No note named {name!r}: write it with write_note first.")
        return notes[name]

    return server


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the example server over stdio until stdin closes."""
    parser = argparse.ArgumentParser(
        prog="python -m app_server.demo.example_server",
        description="Serve the demo's example MCP server over stdio.",
    )
    parser.add_argument(
        "--label", help=f"name reported by `whoami` (default: ${LABEL_ENV}, else {DEFAULT_LABEL})"
    )
    args = parser.parse_args(argv)
    label = args.label or os.environ.get(LABEL_ENV) or DEFAULT_LABEL
    build_server(label).run("stdio")


if __name__ == "__main__":
    main()
