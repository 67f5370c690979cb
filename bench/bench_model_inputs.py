"""What one request to the model weighs, through the real stdio daemon and the scripted model.

Two cases, each before (the limits turned off, which is how the daemon behaved until they existed:
a result sent whole, every tool advertised) and after (the defaults): the request that follows a
tool call returning 300 000 characters, and the first request of a turn with 508 tools on offer.
Sizes are of the JSON body the scripted model received.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio

from tests.app_server.threads.turn_harness import content_server, turn_daemon

BIG_RESULT_CHARS = 300_000
EXTRA_TOOLS = 500
OFF = 10**9
WAIT = 120.0


async def _request_sizes(
    script: list[dict[str, Any]], server_args: tuple[str, ...], **keys: Any
) -> list[int]:
    """Bytes of each request body of one turn."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        servers = {"content": content_server(*server_args)}
        async with turn_daemon(home, script, servers, max_wait=WAIT, **keys) as turns:
            thread_id = await turns.start_thread()
            await turns.server_ready("content", thread_id)
            turn_id = await turns.start_turn(thread_id)
            with anyio.fail_after(WAIT):
                await turns.turn_completed(turn_id)
            return [len(json.dumps(request.body).encode()) for request in turns.model.requests]


async def measure() -> list[tuple[str, str, str]]:
    big = [
        {"tool_calls": [{"name": "mcp__content__big", "arguments": {"chars": BIG_RESULT_CHARS}}]},
        {"text": "ok"},
    ]
    big_before = (await _request_sizes(big, (), tool_output_max_chars=OFF))[1]
    big_after = (await _request_sizes(big, ()))[1]
    catalog = [{"text": "ok"}]
    extra = ("--extra-tools", str(EXTRA_TOOLS))
    tools_before = (await _request_sizes(catalog, extra, tool_search_threshold=OFF))[0]
    tools_after = (await _request_sizes(catalog, extra))[0]
    return [
        (
            "request after a 300 000-character tool result: before / after (default cap)",
            f"{big_before:,} / {big_after:,} bytes",
            "< 110 000 bytes",
        ),
        (
            "first request with 508 tools: before / after (tool search)",
            f"{tools_before:,} / {tools_after:,} bytes",
            "< 5 000 bytes",
        ),
    ]


def run() -> list[tuple[str, str, str]]:
    return anyio.run(measure)


if __name__ == "__main__":
    for row in run():
        print(" | ".join(row))
