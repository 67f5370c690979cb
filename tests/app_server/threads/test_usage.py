"""Token usage: each model response's counts and the thread's running total, as
`thread/tokenUsage/updated`, durable across a daemon restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.model.script import Script
from app_server.model.scripted import ScriptedModelServer
from app_server.threads.usage import added
from protocol.notifications import TokenUsageBreakdown
from tests.support.config import MODEL_KEY_ENV, cheap_server, write_config
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

USAGE = "thread/tokenUsage/updated"

FIRST = {"input_tokens": 100, "cached_input_tokens": 40, "output_tokens": 7, "reasoning_output_tokens": 2}
SECOND = {"input_tokens": 130, "cached_input_tokens": 100, "output_tokens": 11}
THIRD = {"input_tokens": 150, "output_tokens": 3, "reasoning_output_tokens": 1}


def breakdown(usage: dict[str, int]) -> dict[str, int]:
    """The wire `TokenUsageBreakdown` of a scripted step's usage."""
    counts = {name: usage.get(name, 0) for name in FIRST}
    return {
        "totalTokens": counts["input_tokens"] + counts["output_tokens"],
        "inputTokens": counts["input_tokens"],
        "cachedInputTokens": counts["cached_input_tokens"],
        "cacheWriteInputTokens": 0,
        "outputTokens": counts["output_tokens"],
        "reasoningOutputTokens": counts["reasoning_output_tokens"],
    }


def summed(*usages: dict[str, int]) -> dict[str, int]:
    wire = [breakdown(usage) for usage in usages]
    return {key: sum(counts[key] for counts in wire) for key in wire[0]}


def test_a_tally_sums_every_count_and_keeps_the_last_response() -> None:
    first = TokenUsageBreakdown.model_validate(breakdown(FIRST))
    second = TokenUsageBreakdown.model_validate(breakdown(SECOND))

    tally = added(added(None, first), second)

    assert tally.total.to_wire() == summed(FIRST, SECOND)
    assert tally.last == second


async def usage_updates(daemon: Daemon, thread_id: str, count: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(count):
        message = await daemon.next_message(
            lambda m: m.get("method") == USAGE and m["params"]["threadId"] == thread_id
        )
        found.append(message["params"])
    return found


async def run_turn(daemon: Daemon, thread_id: str) -> str:
    started = await daemon.call(
        "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": "go", "text_elements": []}]}
    )
    turn_id = str(started["turn"]["id"])
    await daemon.next_message(
        lambda m: m.get("method") == "turn/completed" and m["params"]["turn"]["id"] == turn_id
    )
    return turn_id


@pytest.mark.parametrize("wire_api", ["responses", "chat"])
async def test_every_response_reports_its_usage_and_the_thread_total_survives_a_restart(
    home: Path, wire_api: str
) -> None:
    script = Script.model_validate(
        {
            "steps": [
                {"tool_calls": [{"name": "mcp__cheap__whoami"}], "usage": FIRST},
                {"text": "done", "usage": SECOND},
                {"text": "again", "usage": THIRD},
            ]
        }
    )
    env = {MODEL_KEY_ENV: "scripted"}
    async with ScriptedModelServer(script) as model:
        provider = {"base_url": model.base_url, "wire_api": wire_api, "env_key": MODEL_KEY_ENV}
        write_config(
            home,
            {"cheap": cheap_server("cheap", default_tools_approval_mode="approve")},
            model_url=model.base_url,
            model_providers={"scripted": provider},
        )
        async with Daemon.start(home, env=env, max_wait=30) as daemon:
            await daemon.initialize()
            thread_id = (await daemon.call("thread/start", {"cwd": str(home)}))["thread"]["id"]
            first_turn = await run_turn(daemon, thread_id)
            first, second = await usage_updates(daemon, thread_id, 2)
            second_turn = await run_turn(daemon, thread_id)
            [third] = await usage_updates(daemon, thread_id, 1)

    assert [first["turnId"], second["turnId"], third["turnId"]] == [first_turn, first_turn, second_turn]
    assert first["tokenUsage"] == {
        "total": breakdown(FIRST),
        "last": breakdown(FIRST),
        "modelContextWindow": None,
    }
    assert second["tokenUsage"]["last"] == breakdown(SECOND)
    assert second["tokenUsage"]["total"] == summed(FIRST, SECOND)
    assert third["tokenUsage"]["total"] == summed(FIRST, SECOND, THIRD)

    async with Daemon.start(home, env=env, max_wait=30) as daemon:
        await daemon.initialize()
        await daemon.call("thread/resume", {"threadId": thread_id})
        [replayed] = await usage_updates(daemon, thread_id, 1)
    assert replayed == third
