from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import InvalidParams, RequestFailed
from app_server.threads.history import RESTART_INTERRUPTION
from app_server.threads.records import ThreadChanges, ThreadSettings
from app_server.threads.store import ThreadStore


def user_message(item_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "userMessage",
        "id": item_id,
        "content": [{"type": "text", "text": text, "text_elements": []}],
    }


def tool_call(item_id: str, status: str) -> dict[str, Any]:
    return {"type": "mcpToolCall", "id": item_id, "server": "docs", "tool": "search", "status": status}


def journal_lines(root: Path, thread_id: str) -> list[bytes]:
    return (root / f"{thread_id}.jsonl").read_bytes().splitlines()


@pytest.mark.anyio
async def test_a_thread_reads_back_as_its_turns_and_final_items(
    threads_root: Path, settings: ThreadSettings
) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings)
    turn = (await live.start_turn()).to_wire()
    await live.start_item(turn["id"], user_message("u1", "Find the docs"))
    await live.start_item(turn["id"], tool_call("c1", "inProgress"))
    await live.complete_item(turn["id"], tool_call("c1", "completed"))
    await live.complete_turn(turn["id"], "completed")

    readout = await ThreadStore(threads_root).read(live.id, include_turns=True)

    thread = readout.thread.to_wire()
    assert readout.warnings == ()
    assert thread["id"] == live.id and thread["preview"] == "Find the docs"
    assert thread["status"] == {"type": "notLoaded"} and thread["modelProvider"] == "openai"
    [read_turn] = thread["turns"]
    assert read_turn["status"] == "completed" and read_turn["durationMs"] >= 0
    assert [item["id"] for item in read_turn["items"]] == ["u1", "c1"]
    assert read_turn["items"][1]["status"] == "completed"
    assert live.snapshot().to_wire() == {**readout.thread.to_wire(), "status": {"type": "idle"}}


@pytest.mark.anyio
async def test_read_without_turns_leaves_turns_empty(threads_root: Path, settings: ThreadSettings) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings)
    await live.start_turn()

    assert (await ThreadStore(threads_root).read(live.id)).thread.to_wire()["turns"] == []


@pytest.mark.anyio
async def test_a_live_thread_with_a_running_turn_is_active(
    threads_root: Path, settings: ThreadSettings
) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings)
    turn = (await live.start_turn()).to_wire()

    readout = await store.read(live.id, include_turns=True)

    assert readout.thread.to_wire()["status"] == {"type": "active", "activeFlags": []}
    assert readout.thread.to_wire()["turns"][0]["status"] == "inProgress"
    assert turn["status"] == "inProgress"


@pytest.mark.anyio
async def test_ephemeral_threads_are_never_written(threads_root: Path, settings: ThreadSettings) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings, ephemeral=True)
    turn = (await live.start_turn()).to_wire()
    await live.complete_item(turn["id"], user_message("u1", "hi"))

    readout = await store.read(live.id, include_turns=True)

    thread = readout.thread.to_wire()
    assert thread["ephemeral"] is True and thread["turns"][0]["items"][0]["id"] == "u1"
    assert not await anyio.Path(threads_root).exists()
    assert (await store.list_threads()).data == []
    with pytest.raises(InvalidParams):
        await ThreadStore(threads_root).read(live.id)


@pytest.mark.anyio
async def test_a_turn_left_running_by_a_dead_daemon_reads_interrupted_and_is_closed_on_resume(
    threads_root: Path, settings: ThreadSettings
) -> None:
    dead_daemon = ThreadStore(threads_root)
    live = await dead_daemon.create(settings)
    turn = (await live.start_turn()).to_wire()
    await live.complete_item(turn["id"], user_message("u1", "hi"))
    lines_before = journal_lines(threads_root, live.id)

    restarted = ThreadStore(threads_root)
    read_turn = (await restarted.read(live.id, include_turns=True)).thread.to_wire()["turns"][0]
    assert read_turn["status"] == "interrupted" and read_turn["error"]["message"] == RESTART_INTERRUPTION
    assert journal_lines(threads_root, live.id) == lines_before  # reading never rewrites history

    resumed = await restarted.resume(live.id)

    resumed_turn = resumed.snapshot().to_wire()["turns"][0]
    assert resumed_turn["status"] == "interrupted" and resumed_turn["items"][0]["id"] == "u1"
    assert resumed.snapshot().to_wire()["status"] == {"type": "idle"}
    lines_after = journal_lines(threads_root, live.id)
    assert lines_after[:-1] == lines_before and b'"turnCompleted"' in lines_after[-1]
    assert await restarted.resume(live.id) is resumed


@pytest.mark.anyio
async def test_resume_after_a_torn_write_reports_it_and_keeps_appending_whole_records(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    turn = (await live.start_turn()).to_wire()
    with (threads_root / f"{live.id}.jsonl").open("ab") as file:
        file.write(b'{"type":"itemCompleted","atMs":1,"tur')

    resumed = await ThreadStore(threads_root).resume(live.id)
    assert resumed.load_warnings == ("line 3 is incomplete (torn write) and was skipped",)
    next_turn = (await resumed.start_turn()).to_wire()
    await resumed.complete_item(next_turn["id"], user_message("u2", "again"))

    readout = await ThreadStore(threads_root).read(live.id, include_turns=True)
    assert readout.warnings == ("line 3 is corrupt and was skipped",)
    assert [t["id"] for t in readout.thread.to_wire()["turns"]] == [turn["id"], next_turn["id"]]
    assert readout.thread.to_wire()["turns"][1]["items"][0]["id"] == "u2"


@pytest.mark.anyio
async def test_a_corrupt_middle_line_is_skipped_and_reported(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    turn = (await live.start_turn()).to_wire()
    await live.complete_item(turn["id"], user_message("u1", "first"))
    await live.complete_item(turn["id"], user_message("u2", "second"))
    path = threads_root / f"{live.id}.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = b"\x00garbage\n"
    path.write_bytes(b"".join(lines))

    readout = await ThreadStore(threads_root).read(live.id, include_turns=True)

    assert readout.warnings == ("line 3 is corrupt and was skipped",)
    assert [item["id"] for item in readout.thread.to_wire()["turns"][0]["items"]] == ["u2"]


@pytest.mark.anyio
async def test_a_thread_whose_header_is_lost_cannot_be_read(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    (threads_root / f"{live.id}.jsonl").write_bytes(b"{torn")

    with pytest.raises(RequestFailed) as caught:
        await ThreadStore(threads_root).read(live.id)
    assert str(threads_root) not in caught.value.message


@pytest.mark.anyio
async def test_unknown_threads_are_reported_by_id(threads_root: Path) -> None:
    store = ThreadStore(threads_root)
    unknown = "01a208b1-63aa-7210-9eaf-c381ea94952b"
    for operation in (store.read, store.resume):
        with pytest.raises(InvalidParams) as caught:
            await operation(unknown)
        assert caught.value.message == f"thread not found: {unknown}"


@pytest.mark.anyio
async def test_a_path_traversal_id_is_rejected_before_any_file_is_read(
    tmp_path: Path, settings: ThreadSettings
) -> None:
    root = tmp_path / "threads"
    live = await ThreadStore(tmp_path / "elsewhere").create(settings)
    os.rename(tmp_path / "elsewhere" / f"{live.id}.jsonl", tmp_path / "escape.jsonl")
    store = ThreadStore(root)

    for operation in (store.read, store.resume):
        with pytest.raises(InvalidParams) as caught:
            await operation("../escape")
        assert caught.value.message == "invalid thread id: ../escape"


@pytest.mark.anyio
async def test_records_that_do_not_fit_the_history_are_refused_and_not_written(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    turn = (await live.start_turn()).to_wire()
    await live.complete_turn(turn["id"], "failed", {"message": "model unavailable"})
    lines_before = journal_lines(threads_root, live.id)

    with pytest.raises(InvalidParams):
        await live.complete_turn(turn["id"], "completed")
    with pytest.raises(InvalidParams):
        await live.start_item(turn["id"], user_message("late", "too late"))
    with pytest.raises(InvalidParams):
        await live.start_item("no-such-turn", user_message("u", "x"))
    with pytest.raises(InvalidParams):
        await live.start_item(turn["id"], {"type": "agentMessage", "text": "no id"})

    assert journal_lines(threads_root, live.id) == lines_before
    assert live.turn(turn["id"]).to_wire()["error"]["message"] == "model unavailable"


@pytest.mark.anyio
async def test_metadata_updates_persist_and_only_set_fields_change(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    await live.update(ThreadChanges(name="Docs hunt", model="gpt-5-mini"))
    await live.update(ThreadChanges(preview="custom preview"))

    thread = (await ThreadStore(threads_root).read(live.id)).thread.to_wire()

    assert (thread["name"], thread["model"], thread["preview"]) == (
        "Docs hunt",
        "gpt-5-mini",
        "custom preview",
    )
    assert live.settings.model == "gpt-5-mini" and live.settings.cwd == "/work/project"

    await live.update(ThreadChanges(name=None))
    assert (await ThreadStore(threads_root).read(live.id)).thread.to_wire()["name"] is None


@pytest.mark.anyio
async def test_concurrent_changes_to_one_thread_are_all_recorded_in_order(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    turn = (await live.start_turn()).to_wire()

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for index in range(40):
                tg.start_soon(live.complete_item, turn["id"], user_message(f"u{index}", "x" * 10_000))

    readout = await ThreadStore(threads_root).read(live.id, include_turns=True)
    assert readout.warnings == ()
    assert [i["id"] for i in readout.thread.to_wire()["turns"][0]["items"]] == [
        i["id"] for i in live.turn(turn["id"]).to_wire()["items"]
    ]
    assert len(readout.thread.to_wire()["turns"][0]["items"]) == 40


@pytest.mark.anyio
async def test_a_stored_thread_is_updated_in_its_journal_without_being_loaded_even_after_a_torn_write(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    with (threads_root / f"{live.id}.jsonl").open("ab") as file:
        file.write(b'{"type":"itemCompleted","atMs":1,"tur')

    store = ThreadStore(threads_root)
    updated = await store.update(live.id, ThreadChanges(name="Renamed", archived=True))
    assert (updated.name, updated.status.to_wire()) == ("Renamed", {"type": "notLoaded"})
    assert store.loaded(live.id) is None
    resumed = await ThreadStore(threads_root).resume(live.id)
    assert (resumed.settings.name, resumed.settings.archived) == ("Renamed", True)
