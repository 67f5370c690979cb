from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.errors import InvalidParams
from app_server.threads.history import RESTART_INTERRUPTION, ThreadHistory
from app_server.threads.ids import new_id
from app_server.threads.listing import encode_thread_cursor
from app_server.threads.pages import MAX_PAGE_SIZE, items_page, turns_page
from app_server.threads.records import ItemCompleted, ThreadHeader, ThreadSettings, TurnCompleted, TurnStarted
from app_server.threads.store import ThreadStore
from protocol.thread_pages import (
    ThreadItemsListAnchor,
    ThreadItemsListParams,
    ThreadItemsListResponse,
    ThreadTurnsListParams,
    ThreadTurnsListResponse,
)
from tests.app_server.threads.test_store import tool_call, user_message

BASE_MS = 1_700_000_000_000


def agent_message(item_id: str, text: str) -> dict[str, Any]:
    return {"type": "agentMessage", "id": item_id, "text": text, "completedAtMs": BASE_MS + 7}


def history_of(turn_count: int, *, running_last: bool = False) -> ThreadHistory:
    """Turns `t0`.. each holding `tN-u` (user), `tN-a1` (agent), `tN-c` (tool call), `tN-a2` (agent)."""
    history = ThreadHistory(
        ThreadHeader(id=new_id(), at_ms=BASE_MS, cli_version="0", cwd="/w", model_provider="openai")
    )
    for index in range(turn_count):
        turn_id = f"t{index}"
        history.apply(TurnStarted(at_ms=BASE_MS + index, turn_id=turn_id))
        for item in (
            user_message(f"{turn_id}-u", f"question {index}"),
            agent_message(f"{turn_id}-a1", "looking"),
            tool_call(f"{turn_id}-c", "completed"),
            agent_message(f"{turn_id}-a2", f"answer {index}"),
        ):
            history.apply(ItemCompleted(at_ms=BASE_MS + index, turn_id=turn_id, item=item))
        if not (running_last and index == turn_count - 1):
            history.apply(TurnCompleted(at_ms=BASE_MS + index + 1, turn_id=turn_id, status="completed"))
    return history


def turns(history: ThreadHistory, **params: Any) -> ThreadTurnsListResponse:
    return turns_page(
        history, ThreadTurnsListParams.model_validate({"threadId": history.id, **params}), loaded=True
    )


def items(history: ThreadHistory, **params: Any) -> ThreadItemsListResponse:
    return items_page(history, ThreadItemsListParams.model_validate({"threadId": history.id, **params}))


def turn_ids(page: ThreadTurnsListResponse) -> list[str]:
    return [turn.id for turn in page.data]


def item_ids(page: ThreadItemsListResponse) -> list[str]:
    return [entry.item.id for entry in page.data]


def all_turn_pages(history: ThreadHistory, **params: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = turns(history, cursor=cursor, **params)
        pages.append(turn_ids(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_turn_pages_cover_every_turn_once_newest_first_by_default() -> None:
    history = history_of(5)

    assert all_turn_pages(history, limit=2) == [["t4", "t3"], ["t2", "t1"], ["t0"]]


def test_turn_pages_run_oldest_first_when_asked() -> None:
    assert all_turn_pages(history_of(5), limit=2, sortDirection="asc") == [["t0", "t1"], ["t2", "t3"], ["t4"]]


def test_the_backwards_cursor_reversed_includes_the_anchor_turn_and_turns_added_since() -> None:
    history = history_of(3)
    first = turns(history, limit=2)
    assert turn_ids(first) == ["t2", "t1"]
    history.apply(TurnStarted(at_ms=BASE_MS + 9, turn_id="t3"))

    back = turns(history, cursor=first.backwards_cursor, sortDirection="asc")

    assert turn_ids(back) == ["t2", "t3"]
    assert back.next_cursor is None


def test_a_turn_summary_is_its_first_user_message_and_final_agent_message() -> None:
    page = turns(history_of(1))

    (turn,) = page.data
    assert turn.items_view == "summary"
    assert [item.id for item in turn.items] == ["t0-u", "t0-a2"]


def test_full_and_not_loaded_views_give_every_item_or_none() -> None:
    history = history_of(1)

    (full,) = turns(history, itemsView="full").data
    (bare,) = turns(history, itemsView="notLoaded").data

    assert (full.items_view, [item.id for item in full.items]) == ("full", ["t0-u", "t0-a1", "t0-c", "t0-a2"])
    assert (bare.items_view, bare.items) == ("notLoaded", [])


def test_a_turn_left_running_reads_interrupted_when_the_thread_is_not_loaded() -> None:
    history = history_of(2, running_last=True)

    page = turns_page(history, ThreadTurnsListParams(thread_id=history.id), loaded=False)

    assert [(turn.id, turn.status) for turn in page.data] == [("t1", "interrupted"), ("t0", "completed")]
    assert page.data[0].error is not None and page.data[0].error.message == RESTART_INTERRUPTION


def test_limits_are_served_between_one_and_the_maximum() -> None:
    history = history_of(MAX_PAGE_SIZE + 1)

    assert len(turns(history, limit=0).data) == 1
    assert len(turns(history, limit=MAX_PAGE_SIZE + 50).data) == MAX_PAGE_SIZE
    assert len(turns(history).data) == 25


def test_an_empty_thread_has_one_empty_page_without_cursors() -> None:
    page = turns(history_of(0))

    assert (page.data, page.next_cursor, page.backwards_cursor) == ([], None, None)


def test_item_pages_run_across_turns_oldest_first_with_the_turn_and_times_of_each() -> None:
    history = history_of(2)

    first = items(history, limit=5)
    second = items(history, limit=5, cursor=first.next_cursor)

    assert item_ids(first) == ["t0-u", "t0-a1", "t0-c", "t0-a2", "t1-u"]
    assert item_ids(second) == ["t1-a1", "t1-c", "t1-a2"]
    assert second.next_cursor is None
    entry = first.data[3]
    assert (entry.turn_id, entry.started_at_ms, entry.completed_at_ms) == ("t0", None, BASE_MS + 7)


def test_item_pages_of_one_turn_newest_first() -> None:
    page = items(history_of(3), turnId="t1", sortDirection="desc", limit=3)

    assert item_ids(page) == ["t1-a2", "t1-c", "t1-a1"]
    assert page.next_cursor is not None


def test_an_item_anchor_pages_after_it_ascending_and_before_it_descending() -> None:
    history = history_of(2)
    anchor = {"type": "item", "itemId": "t1-a1"}

    after = items(history, turnId="t1", cursor=anchor)
    before = items(history, turnId="t1", cursor=anchor, sortDirection="desc")

    assert item_ids(after) == ["t1-c", "t1-a2"]
    assert item_ids(before) == ["t1-u"]


def test_the_backwards_item_cursor_reversed_starts_at_the_anchor_item_again() -> None:
    history = history_of(1)
    page = items(history, cursor={"type": "item", "itemId": "t0-u"}, turnId="t0", limit=2)
    assert item_ids(page) == ["t0-a1", "t0-c"]

    back = items(history, cursor=page.backwards_cursor, sortDirection="desc")

    assert item_ids(back) == ["t0-a1", "t0-u"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "W10",  # an empty list
        encode_thread_cursor("created_at", (BASE_MS, "x")),
    ],
)
def test_a_cursor_we_did_not_issue_is_refused(cursor: str) -> None:
    history = history_of(2)

    with pytest.raises(InvalidParams, match="invalid cursor"):
        turns(history, cursor=cursor)
    with pytest.raises(InvalidParams, match="invalid cursor"):
        items(history, cursor=cursor)


def test_a_cursor_of_another_thread_or_list_is_refused() -> None:
    history, other = history_of(3), history_of(3)
    turn_cursor = turns(history, limit=1).next_cursor
    item_cursor = items(history, limit=1).next_cursor

    with pytest.raises(InvalidParams, match="invalid cursor"):
        turns(other, cursor=turn_cursor)
    with pytest.raises(InvalidParams, match="invalid cursor"):
        items(history, cursor=turn_cursor)
    with pytest.raises(InvalidParams, match="invalid cursor"):
        turns(history, cursor=item_cursor)


def test_a_cursor_whose_item_is_outside_the_turn_asked_is_refused() -> None:
    history = history_of(2)
    cursor = items(history, turnId="t0", limit=1).next_cursor

    with pytest.raises(InvalidParams, match="invalid cursor"):
        items(history, turnId="t1", cursor=cursor)


def test_an_item_anchor_needs_a_turn_id_and_an_item_of_that_turn() -> None:
    history = history_of(2)
    anchor = ThreadItemsListAnchor(item_id="t0-u")

    with pytest.raises(InvalidParams, match="turnId"):
        items(history, cursor=anchor.to_wire())
    with pytest.raises(InvalidParams, match="turnId"):
        items(history, turnId="", cursor=anchor.to_wire())
    with pytest.raises(InvalidParams, match="item not found"):
        items(history, turnId="t1", cursor=anchor.to_wire())


def test_an_unknown_turn_id_is_refused() -> None:
    with pytest.raises(InvalidParams, match="turn not found"):
        items(history_of(1), turnId="nope")


@pytest.mark.anyio
async def test_the_store_gives_a_loaded_history_live_and_a_stored_one_from_its_journal(
    threads_root: Path, settings: ThreadSettings
) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings)
    turn = await live.start_turn()
    await live.start_item(turn.id, user_message("u1", "hello"))

    history, loaded = await store.history(live.id)
    stored, stored_loaded = await ThreadStore(threads_root).history(live.id)

    assert (history is live.history, loaded) == (True, True)
    assert (list(stored.turns[turn.id].items), stored_loaded) == (["u1"], False)
    with pytest.raises(InvalidParams, match="thread not found"):
        await store.history(new_id())
