"""No token text in any log or wire output: this module's own secret-heavy run and all the suite scanned.

It runs after the other reliability tests (see conftest.py), so the transcript holds their daemons'
stderr, stdio messages and WebSocket frames as well.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from tests.reliability.harness import label_server, running_daemon
from tests.reliability.transcript import HEADER_SECRET, MODEL_KEY, SERVER_ENV_SECRET, TRANSCRIPT, Transcript
from tests.support.config import write_config

pytestmark = pytest.mark.anyio


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_scan_finds_a_planted_token() -> None:
    transcript = Transcript()
    transcript.scan("probe", f"Authorization: Bearer {MODEL_KEY}")
    assert transcript.findings == ["probe: token #0 at offset 22"]


async def test_logs_and_wire_output_hold_no_token_text(home: Path) -> None:
    workdir = home / "work"
    workdir.mkdir()
    servers = {
        "good": label_server("secrets-good", env={"API_TOKEN": SERVER_ENV_SECRET}),
        "remote": {
            "url": f"http://127.0.0.1:{unused_port()}/mcp",
            "http_headers": {"X-Api-Key": HEADER_SECRET},
        },
    }
    # The model refuses the key, then the turn's retry is refused again: error paths get exercised.
    script = Script.model_validate(
        {"steps": [{"text": "never", "failures": [{"status": 401, "message": "bad key"}] * 6}]}
    )
    async with ScriptedModelServer(script) as model:
        write_config(home, servers, model_url=model.base_url)
        async with running_daemon(home, opt_out=[]) as daemon:
            thread = await daemon.call("thread/start", {"cwd": str(workdir)})
            thread_id = thread["thread"]["id"]
            turn = await daemon.call(
                "turn/start",
                {"threadId": thread_id, "input": [{"type": "text", "text": "hi", "text_elements": []}]},
            )
            await daemon.next_message(
                lambda m: (
                    m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn["turn"]["id"]
                )
            )
            await daemon.call("mcpServerStatus/list", {"threadId": thread_id})
            await daemon.call("mcpServer/views/read", {})
            await daemon.call("config/mcpServer/reload", {})
            await daemon.close_stdin()
            await daemon.wait_exit()
        assert model.requests[0].headers["authorization"] == f"Bearer {MODEL_KEY}"
    assert {"daemon stdout", "daemon stderr"} <= TRANSCRIPT.sources
    assert TRANSCRIPT.scanned_bytes > 0
    assert TRANSCRIPT.findings == []
