"""The scripted model server: holding and releasing steps, its control endpoints, and its process mode."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from pydantic import ValidationError

from app_server.model import (
    FunctionCall,
    ModelClient,
    ProviderConfig,
    StepEvent,
    StepRequest,
    TextDelta,
    UserMessage,
)
from app_server.model.script import Script, ScriptedFailure, ScriptedToolCall, ScriptStep
from app_server.model.scripted import ScriptedModelServer

pytestmark = pytest.mark.anyio

REQUEST = StepRequest(model="m", instructions="", history=(UserMessage("hi"),))


def client_for(base_url: str) -> ModelClient:
    return ModelClient(ProviderConfig(name="scripted", base_url=base_url), None)


async def test_a_step_held_before_its_response_sends_nothing_until_released() -> None:
    received: list[StepEvent] = []
    done = anyio.Event()
    step = ScriptStep(text="late answer", hold="before_response")
    async with ScriptedModelServer([step]) as server, client_for(server.base_url) as client:

        async def consume() -> None:
            async with client.stream_step(REQUEST) as events:
                received.extend([event async for event in events])
            done.set()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(consume)
                await server.wait_held(0)
                assert received == []
                assert not done.is_set()
                server.release(0)
                await done.wait()
    assert received[0] == TextDelta("late")
    assert server.requests[0].headers.get("authorization") is None


async def test_control_endpoints_wait_for_a_hold_release_it_and_list_requests() -> None:
    step = ScriptStep(tool_calls=[ScriptedToolCall(name="t")], hold="after_first_output")
    received: list[StepEvent] = []
    async with (
        ScriptedModelServer([step]) as server,
        client_for(server.base_url) as client,
        httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as control,
    ):

        async def consume() -> None:
            async with client.stream_step(REQUEST) as events:
                received.extend([event async for event in events])

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(consume)
                assert (await control.post("/control/wait-held/0")).json() == {"held": 0}
                assert (await control.post("/control/release/0")).json() == {"released": 0}
            listed = (await control.get("/control/requests")).json()
            assert (await control.post("/control/release/7")).status_code == 404
    assert received[0] == FunctionCall("call_0_0", "t", "{}")
    assert [(r["api"], r["step"], r["attempt"]) for r in listed] == [("responses", 0, 0)]
    assert listed[0]["body"]["input"][0]["content"][0]["text"] == "hi"


def test_text_is_streamed_word_by_word_or_as_the_given_deltas() -> None:
    assert ScriptStep(text="  a  b c ").deltas == ["  a", "  b", " c "]
    assert ScriptStep(text=["x", "yz"]).deltas == ["x", "yz"]


@pytest.mark.parametrize(
    "raw",
    [
        {"steps": [{}]},
        {"steps": [{"text": "x", "failures": [{"status": 500, "cut_after": 1}]}]},
        {"steps": [{"text": "x", "failures": [{}]}]},
        {"steps": [{"text": "x", "hold": "forever"}]},
        {"steps": [{"text": "x", "surprise": 1}]},
    ],
)
def test_an_invalid_script_is_rejected(raw: object) -> None:
    with pytest.raises(ValidationError):
        Script.model_validate(raw)


async def test_the_server_runs_as_a_process_that_writes_its_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = Script(steps=[ScriptStep(text="from a process", failures=[ScriptedFailure(status=502)])])
    script_file = tmp_path / "script.json"
    script_file.write_text(script.model_dump_json(), encoding="utf-8")
    port_file = tmp_path / "port"
    command = [sys.executable, "-m", "app_server.model.scripted", "--script", str(script_file)]
    async with await anyio.open_process([*command, "--port-file", str(port_file)]) as process:
        try:
            with anyio.fail_after(15):
                assert process.stdout is not None
                # End of stdout, with nothing printed, is the readiness signal.
                assert [chunk async for chunk in process.stdout] == []
                port = int(port_file.read_text())
                async with (
                    client_for(f"http://127.0.0.1:{port}/v1") as client,
                    client.stream_step(REQUEST) as events,
                ):
                    received = [event async for event in events]
                process.send_signal(signal.SIGTERM)
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
    assert received[1] == TextDelta("from")  # after the client's word that it retries the 502


def test_the_process_refuses_a_bad_script_with_a_message(tmp_path: Path) -> None:
    script_file = tmp_path / "script.json"
    script_file.write_text(json.dumps({"steps": "nope"}), encoding="utf-8")
    command = [sys.executable, "-m", "app_server.model.scripted", "--script", str(script_file)]
    result = subprocess.run(
        [*command, "--port-file", str(tmp_path / "port")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "cannot load the script" in result.stderr
