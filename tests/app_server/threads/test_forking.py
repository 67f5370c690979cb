"""`thread/fork` through the real daemon: the fork has the source's turns through `lastTurnId`, its
next turn sends the model that history, the source's journal is untouched, and the fork is durable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from app_server.errors import InvalidParams
from app_server.model.scripted import RecordedRequest
from app_server.threads.forking import fork_source
from app_server.threads.history import RESTART_INTERRUPTION
from app_server.threads.records import ThreadChanges, ThreadHeader, ThreadSettings, TurnCompleted
from app_server.threads.settings import fork_settings
from app_server.threads.store import ThreadStore
from protocol.errors import INVALID_PARAMS
from protocol.threads import ThreadForkParams
from tests.app_server.threads.turn_harness import DEFAULT_WAIT, TurnDaemon, cheap_server, turn_daemon
from tests.support.config import MODEL_KEY_ENV
from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio


def texts(request: RecordedRequest, role: str) -> list[str]:
    """The text of every message of `role` a Responses request carried, in order."""
    return [
        part["text"]
        for item in request.body["input"]
        if item.get("role") == role
        for part in item["content"]
        if "text" in part
    ]


def journal(home: Path, thread_id: str) -> Path:
    return home / "threads" / f"{thread_id}.jsonl"


async def run_turn(turns: TurnDaemon, thread_id: str, text: str) -> str:
    turn_id = await turns.start_turn(thread_id, text)
    assert (await turns.turn_completed(turn_id))["status"] == "completed"
    return turn_id


def user_message(item_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "userMessage",
        "id": item_id,
        "content": [{"type": "text", "text": text, "text_elements": []}],
    }


async def test_a_fork_copies_turns_through_the_chosen_one_and_closes_one_a_dead_daemon_left_running(
    threads_root: Path, settings: ThreadSettings
) -> None:
    live = await ThreadStore(threads_root).create(settings)
    first = (await live.start_turn()).id
    await live.start_item(first, user_message("u1", "first"))
    await live.complete_turn(first, "completed")
    await live.update(ThreadChanges(name="Source"))
    second = (await live.start_turn()).id
    await live.start_item(second, user_message("u2", "second"))  # the daemon dies here
    store = ThreadStore(threads_root)

    through_first = await fork_source(store, live.id, first)
    whole = await fork_source(store, live.id, None)

    assert {getattr(record, "turn_id", None) for record in through_first.records} == {first}
    assert through_first.settings.name == "Source"  # read, yet never copied: no threadUpdated record
    assert all(record.type != "threadUpdated" for record in whole.records)
    closing = whole.records[-1]
    assert isinstance(closing, TurnCompleted) and closing.turn_id == second
    assert closing.status == "interrupted" and closing.error == {"message": RESTART_INTERRUPTION}
    forked = await store.create(settings, forked_from_id=live.id, history=whole.records)
    thread = (await ThreadStore(threads_root).read(forked.id, include_turns=True)).thread
    assert thread.forked_from_id == live.id and thread.name is None and thread.preview == "first"
    assert [(turn.id, turn.status) for turn in thread.turns] == [
        (first, "completed"),
        (second, "interrupted"),
    ]
    with pytest.raises(InvalidParams):
        await fork_source(store, live.id, "not-a-turn")


def test_a_forks_settings_are_the_sources_with_its_overrides(tmp_path: Path) -> None:
    source = ThreadSettings(
        cwd="/", model_provider="openai", model="gpt-5", config={"a": 1}, thread_source="x"
    )
    header = {**source.model_dump(), "id": "t", "at_ms": 0, "cli_version": "0"}
    params = ThreadForkParams(thread_id="t", model="gpt-5-mini", cwd=str(tmp_path), config={"b": 2})

    forked = fork_settings(ThreadHeader.model_validate(header), params)

    assert (forked.model, forked.cwd, forked.config) == ("gpt-5-mini", str(tmp_path), {"b": 2})
    assert (forked.model_provider, forked.thread_source) == ("openai", "x")
    with pytest.raises(InvalidParams):
        fork_settings(
            ThreadHeader.model_validate(header), ThreadForkParams(thread_id="t", cwd="/no/such/dir")
        )


async def test_a_fork_at_the_first_turn_has_that_turn_only_and_its_next_turn_sends_the_model_that_history(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "one"}, {"text": "two"}, {"text": "three"}]
    async with turn_daemon(home, script, {"cheap": cheap_server("C")}) as turns:
        daemon = turns.daemon
        source = await turns.start_thread()
        first = await run_turn(turns, source, "first")
        await run_turn(turns, source, "second")
        before = journal(home, source).read_bytes()

        forked = await daemon.call("thread/fork", {"threadId": source, "lastTurnId": first, "model": "gpt-5"})
        fork = forked["thread"]
        assert fork["id"] != source and fork["forkedFromId"] == source
        assert [turn["id"] for turn in fork["turns"]] == [first]
        assert [item["type"] for item in fork["turns"][0]["items"]] == ["userMessage", "agentMessage"]
        assert forked["model"] == "gpt-5" and forked["cwd"] == str(turns.workdir)
        started = await daemon.next_message(
            lambda m: m.get("method") == "thread/started" and m["params"]["thread"]["id"] == fork["id"]
        )
        assert started["params"]["thread"]["turns"] == []
        await turns.server_ready("cheap", fork["id"])

        await run_turn(turns, fork["id"], "third")
        request = turns.model.requests[-1]
        assert texts(request, "user") == ["first", "third"]
        assert texts(request, "assistant") == ["one"]

        read = await daemon.call("thread/read", {"threadId": source, "includeTurns": True})
        assert len(read["thread"]["turns"]) == 2 and read["thread"]["forkedFromId"] is None
        assert journal(home, source).read_bytes() == before
        loaded = await daemon.call("thread/loaded/list", {})
        assert fork["id"] in loaded["data"]


async def test_a_fork_without_last_turn_copies_every_turn_and_honours_exclude_turns_and_ephemeral(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "one"}, {"text": "two"}]
    async with turn_daemon(home, script, {}) as turns:
        daemon = turns.daemon
        source = await turns.start_thread()
        turn_ids = [await run_turn(turns, source, "first"), await run_turn(turns, source, "second")]

        whole = await daemon.call("thread/fork", {"threadId": source})
        assert [turn["id"] for turn in whole["thread"]["turns"]] == turn_ids
        bare = await daemon.call("thread/fork", {"threadId": source, "excludeTurns": True, "ephemeral": True})
        assert bare["thread"]["turns"] == [] and bare["thread"]["ephemeral"] is True
        assert not journal(home, bare["thread"]["id"]).exists()
        pages = await daemon.call("thread/turns/list", {"threadId": bare["thread"]["id"]})
        assert sorted(turn["id"] for turn in pages["data"]) == turn_ids

        listed = await daemon.call("thread/list", {})
        assert {thread["id"] for thread in listed["data"]} == {source, whole["thread"]["id"]}


async def test_a_fork_is_refused_while_a_turn_runs_and_for_unknown_ids_bad_config_or_an_archived_source(
    home: Path,
) -> None:
    script: list[dict[str, Any]] = [{"text": "one"}, {"text": "held", "hold": "before_response"}]
    async with turn_daemon(home, script, {}) as turns:
        daemon = turns.daemon
        source = await turns.start_thread()
        first = await run_turn(turns, source, "first")
        running = await turns.start_turn(source, "second")
        with anyio.fail_after(DEFAULT_WAIT):
            await turns.model.wait_held(1)

        for params in (
            {"threadId": source},
            {"threadId": source, "lastTurnId": first},
            {"threadId": "019a0000-0000-7000-8000-000000000000"},
        ):
            refused = await daemon.request("thread/fork", params)
            assert refused["error"]["code"] == INVALID_PARAMS, params
        turns.model.release(1)
        await turns.turn_completed(running)

        unknown_turn = await daemon.request("thread/fork", {"threadId": source, "lastTurnId": "nope"})
        assert unknown_turn["error"]["code"] == INVALID_PARAMS
        bad_config = {"mcp_servers": {"x": {"command": "x", "bogus": 1}}}
        invalid = await daemon.request("thread/fork", {"threadId": source, "config": bad_config})
        assert "bogus" in invalid["error"]["message"]
        await daemon.call("thread/archive", {"threadId": source})
        archived = await daemon.request("thread/fork", {"threadId": source})
        assert archived["error"]["code"] == INVALID_PARAMS and "archived" in archived["error"]["message"]
        listed = await daemon.call("thread/list", {"archived": True})
        assert [thread["id"] for thread in listed["data"]] == [source]
        assert sorted(path.name for path in (home / "threads").glob("*.jsonl")) == [f"{source}.jsonl"]


async def test_a_fork_of_a_stored_thread_leaves_it_unloaded_and_survives_a_restart(home: Path) -> None:
    async with turn_daemon(home, [{"text": "one"}], {}) as turns:
        source = await turns.start_thread()
        first = await run_turn(turns, source, "first")
        before = journal(home, source).read_bytes()
        turns.daemon.process.kill()
        await turns.daemon.wait_exit()

        env = {MODEL_KEY_ENV: "scripted"}
        async with Daemon.start(home, env=env) as restarted:
            await restarted.initialize()
            fork_id = (await restarted.call("thread/fork", {"threadId": source}))["thread"]["id"]
            assert (await restarted.call("thread/loaded/list", {}))["data"] == [fork_id]
        assert journal(home, source).read_bytes() == before

        async with Daemon.start(home, env=env) as again:
            await again.initialize()
            read = await again.call("thread/read", {"threadId": fork_id, "includeTurns": True})
            source_read = await again.call("thread/read", {"threadId": source, "includeTurns": True})
    fork = read["thread"]
    assert fork["forkedFromId"] == source
    assert fork["turns"] == source_read["thread"]["turns"]
    assert [turn["id"] for turn in fork["turns"]] == [first]
    assert fork["preview"] == "first"
