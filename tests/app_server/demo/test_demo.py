"""`app-server demo` end to end: a real daemon, real example servers and the scripted model on loopback."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import anyio
import pytest
from rich.console import Console

from app_server.demo import walkthrough
from app_server.demo.report import Report
from app_server.model.script import Script, ScriptedFailure, ScriptStep

DEMO_TIMEOUT = 100
"""Generous (the demo starts the daemon and up to four example servers, each importing the mcp SDK),
yet under pytest-timeout's 120 s so that a hang is reported by this bound."""


@pytest.mark.anyio
async def test_demo_exits_0_after_showing_step_1_answered_by_runtime_A_and_step_2_by_runtime_B() -> None:
    with anyio.fail_after(DEMO_TIMEOUT):
        completed = await anyio.run_process(
            [sys.executable, "-m", "app_server.demo.runner"], check=False, stderr=subprocess.STDOUT
        )
    output = completed.stdout.decode()
    assert completed.returncode == 0, output
    first = re.search(r"step 1 -> runtime A \(pid (\d+)\)", output)
    second = re.search(r"step 2 -> runtime B \(pid (\d+)\)", output)
    assert first is not None and second is not None, output
    assert first.group(1) != second.group(1)
    assert "no process left behind" in output


@pytest.mark.anyio
async def test_demo_fails_when_the_reload_does_not_bring_a_new_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The rewritten config keeps label A, so step 2 cannot be answered by a runtime B: the verdict is
    # read from the real call results, and the demo must say it did not see the guarantee.
    monkeypatch.setattr(walkthrough, "SECOND_LABEL", walkthrough.FIRST_LABEL)
    output = io.StringIO()
    with anyio.fail_after(DEMO_TIMEOUT):
        proven = await walkthrough.walk_through(Report(Console(file=output, width=100)))
    text = output.getvalue()
    assert proven is False, text
    assert re.search(r"step 2 -> runtime A \(pid \d+\)", text), text
    assert "runtimes: unexpected" in text


@pytest.mark.anyio
async def test_demo_fails_with_the_reason_when_the_turn_ends_before_its_first_step_is_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refusing_model = Script(
        steps=[ScriptStep(text="never sent", failures=[ScriptedFailure(status=400, message="refused")])]
    )
    monkeypatch.setattr(walkthrough, "demo_script", lambda: refusing_model)
    output = io.StringIO()
    with anyio.fail_after(DEMO_TIMEOUT):
        proven = await walkthrough.walk_through(Report(Console(file=output, width=100)))
    text = output.getvalue()
    assert proven is False, text
    assert "demo failed: the turn ended `failed`" in text
