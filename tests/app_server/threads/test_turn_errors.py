"""The `error` notification, as Codex sends it: a retried model request (`willRetry: true`) and a
failed turn (`willRetry: false`, before `turn/completed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.app_server.threads.turn_harness import turn_daemon

pytestmark = pytest.mark.anyio

ERROR = "error"


def ending(message: Any) -> bool:
    return "id" not in message and message.get("method") in {ERROR, "turn/completed"}


async def test_a_retried_model_request_is_announced_with_will_retry_and_the_turn_completes(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "fine", "failures": [{"status": 429, "retry_after": 0}]}]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        completed = await turns.turn_completed(turn_id)
        retry = next(m for m in turns.daemon.untaken() if m.get("method") == ERROR)

    assert completed["status"] == "completed"
    assert retry["params"]["threadId"] == thread_id
    assert retry["params"]["willRetry"] is True
    assert "429" in retry["params"]["error"]["message"]
    assert "retrying (1/" in retry["params"]["error"]["message"]


async def test_a_failed_turn_sends_an_error_without_retry_before_turn_completed(home: Path) -> None:
    script: list[dict[str, Any]] = [
        {"text": "fine", "failures": [{"error_code": "context_length_exceeded", "message": "too long"}]}
    ]
    async with turn_daemon(home, script, {}) as turns:
        thread_id = await turns.start_thread()
        turn_id = await turns.start_turn(thread_id)
        first = await turns.daemon.next_message(ending)
        second = await turns.daemon.next_message(ending)

    assert first["method"] == ERROR
    assert first["params"]["turnId"] == turn_id
    assert first["params"]["willRetry"] is False
    assert first["params"]["error"]["message"] == second["params"]["turn"]["error"]["message"]
    assert second["method"] == "turn/completed"
    assert second["params"]["turn"]["status"] == "failed"
