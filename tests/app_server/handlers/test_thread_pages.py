"""`thread/turns/list` and `thread/items/list` through the real stdio daemon, loaded and after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.app_server.threads.turn_harness import DEFAULT_WAIT, TurnDaemon, turn_daemon
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

INVALID_PARAMS = -32602
QUESTIONS = ("first question", "second question", "third question")


async def three_turns(turns: TurnDaemon) -> tuple[str, list[str]]:
    """A thread whose turns each asked one of QUESTIONS and got `answer N`; its id and turn ids."""
    thread_id = await turns.start_thread()
    turn_ids = []
    for question in QUESTIONS:
        turn_id = await turns.start_turn(thread_id, question)
        await turns.turn_completed(turn_id)
        turn_ids.append(turn_id)
    return thread_id, turn_ids


async def every_turn_page(daemon: Daemon, thread_id: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        page = await daemon.call("thread/turns/list", {"threadId": thread_id, "cursor": cursor, **params})
        pages.append(page["data"])
        cursor = page["nextCursor"]
        if cursor is None:
            return pages


def summary(turn: dict[str, Any]) -> list[tuple[str, str]]:
    """A turn's items as (type, text): a user message's first text part, an agent message's text."""
    return [
        (item["type"], item["text"] if item["type"] == "agentMessage" else item["content"][0]["text"])
        for item in turn["items"]
    ]


async def error_code(daemon: Daemon, method: str, params: dict[str, Any]) -> int:
    response = await daemon.request(method, params)
    assert "error" in response, response
    return int(response["error"]["code"])


async def test_turns_and_items_page_both_ways_while_loaded_and_after_a_restart(home: Path) -> None:
    script = [{"text": f"answer {index}"} for index in range(len(QUESTIONS))]
    with anyio.fail_after(DEFAULT_WAIT * 3):
        async with turn_daemon(home, script, {}) as turns:
            daemon = turns.daemon
            thread_id, turn_ids = await three_turns(turns)

            loaded_pages = await every_turn_page(daemon, thread_id, limit=2)
            assert [[turn["id"] for turn in page] for page in loaded_pages] == [
                [turn_ids[2], turn_ids[1]],
                [turn_ids[0]],
            ]
            newest = loaded_pages[0][0]
            assert newest["itemsView"] == "summary"
            assert summary(newest) == [("userMessage", "third question"), ("agentMessage", "answer 2")]

            first = await daemon.call("thread/turns/list", {"threadId": thread_id, "limit": 1})
            back = await daemon.call(
                "thread/turns/list",
                {"threadId": thread_id, "cursor": first["backwardsCursor"], "sortDirection": "asc"},
            )
            assert [turn["id"] for turn in back["data"]] == [turn_ids[2]]

            items = await daemon.call("thread/items/list", {"threadId": thread_id, "deferOutput": {}})
            assert [entry["turnId"] for entry in items["data"]] == [t for t in turn_ids for _ in range(2)]
            newest_items = await daemon.call(
                "thread/items/list",
                {"threadId": thread_id, "turnId": turn_ids[2], "sortDirection": "desc", "limit": 1},
            )
            (answer,) = newest_items["data"]
            assert (answer["item"]["text"], answer["completedAtMs"] is not None) == ("answer 2", True)
            rest = await daemon.call(
                "thread/items/list",
                {
                    "threadId": thread_id,
                    "turnId": turn_ids[2],
                    "cursor": {"type": "item", "itemId": answer["item"]["id"]},
                    "sortDirection": "desc",
                },
            )
            assert [entry["item"]["type"] for entry in rest["data"]] == ["userMessage"]

        async with Daemon.start(home) as daemon:
            await daemon.initialize()
            stored_pages = await every_turn_page(daemon, thread_id, limit=2, itemsView="full")
            assert [[turn["id"] for turn in page] for page in stored_pages] == [
                [turn["id"] for turn in page] for page in loaded_pages
            ]
            assert summary(stored_pages[1][0]) == [
                ("userMessage", "first question"),
                ("agentMessage", "answer 0"),
            ]
            stored_items = await daemon.call("thread/items/list", {"threadId": thread_id})
            assert stored_items["data"] == items["data"]


async def test_bad_paging_input_is_invalid_params(home: Path) -> None:
    with anyio.fail_after(DEFAULT_WAIT * 2):
        async with turn_daemon(home, [{"text": "answer"}], {}) as turns:
            daemon = turns.daemon
            thread_id = await turns.start_thread()
            await turns.turn_completed(await turns.start_turn(thread_id))
            turns_page = {"threadId": thread_id}

            assert (
                await error_code(daemon, "thread/turns/list", {**turns_page, "limit": -1}) == INVALID_PARAMS
            )
            assert (
                await error_code(daemon, "thread/turns/list", {**turns_page, "cursor": "garbled"})
                == INVALID_PARAMS
            )
            assert (
                await error_code(daemon, "thread/items/list", {**turns_page, "cursor": "garbled"})
                == INVALID_PARAMS
            )
            unknown = "019a0000-0000-7000-8000-000000000000"
            assert await error_code(daemon, "thread/turns/list", {"threadId": unknown}) == INVALID_PARAMS
            assert await error_code(daemon, "thread/items/list", {"threadId": unknown}) == INVALID_PARAMS
            anchor = {"type": "item", "itemId": "nope"}
            assert (
                await error_code(daemon, "thread/items/list", {**turns_page, "cursor": anchor})
                == INVALID_PARAMS
            )
