"""`thread/loaded/list`, `thread/name/set` and `thread/archive|unarchive` through the real stdio
daemon: pages, durable names and archived flags, announced to clients, refused with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import Daemon

pytestmark = pytest.mark.anyio

INVALID_PARAMS = -32602
UNKNOWN_ID = "0190e7c1-0000-7000-8000-000000000000"


async def _start(daemon: Daemon, cwd: Path, **params: Any) -> str:
    result = await daemon.call("thread/start", {"cwd": str(cwd), **params})
    return str(result["thread"]["id"])


async def _listed(daemon: Daemon, **params: Any) -> dict[str, dict[str, Any]]:
    result = await daemon.call("thread/list", params)
    return {thread["id"]: thread for thread in result["data"]}


async def _error(daemon: Daemon, method: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await daemon.request(method, params)
    assert "error" in response, response
    return dict(response["error"])


async def test_loaded_list_pages_every_loaded_thread_and_forgets_them_after_a_restart(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        started = {await _start(daemon, tmp_path), await _start(daemon, tmp_path, ephemeral=True)}
        started.add(await _start(daemon, tmp_path))
        first = await daemon.call("thread/loaded/list", {"limit": 2})
        assert len(first["data"]) == 2 and first["nextCursor"]
        rest = await daemon.call("thread/loaded/list", {"cursor": first["nextCursor"], "limit": 2})
        assert rest["nextCursor"] is None
        assert set(first["data"]) | set(rest["data"]) == started
        everything = await daemon.call("thread/loaded/list", {})
        assert (set(everything["data"]), everything["nextCursor"]) == (started, None)
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        assert (await daemon.call("thread/loaded/list", {}))["data"] == []
        stored = next(iter(await _listed(daemon)))
        await daemon.call("thread/resume", {"threadId": stored})
        assert (await daemon.call("thread/loaded/list", {}))["data"] == [stored]


async def test_loaded_list_refuses_a_cursor_it_did_not_issue_and_a_negative_limit(home: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        bad_cursor = await _error(daemon, "thread/loaded/list", {"cursor": "not-a-cursor"})
        assert bad_cursor["code"] == INVALID_PARAMS and "cursor" in bad_cursor["message"]
        negative = await _error(daemon, "thread/loaded/list", {"limit": -1})
        assert negative["code"] == INVALID_PARAMS


async def test_a_name_is_announced_shown_by_read_and_list_and_kept_across_a_restart(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        thread_id = await _start(daemon, tmp_path)
        assert await daemon.call("thread/name/set", {"threadId": thread_id, "name": "  Fix the build "}) == {}
        note = await daemon.next_notification("thread/name/updated")
        assert note["params"] == {"threadId": thread_id, "threadName": "Fix the build"}
        read = await daemon.call("thread/read", {"threadId": thread_id})
        assert read["thread"]["name"] == "Fix the build"
        assert (await _listed(daemon))[thread_id]["name"] == "Fix the build"
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        assert (await _listed(daemon))[thread_id]["name"] == "Fix the build"


async def test_renaming_a_stored_thread_writes_its_journal_without_loading_it(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        thread_id = await _start(daemon, tmp_path)
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        await daemon.call("thread/name/set", {"threadId": thread_id, "name": "Stored"})
        assert (await daemon.call("thread/loaded/list", {}))["data"] == []
        read = await daemon.call("thread/read", {"threadId": thread_id})
        assert (read["thread"]["name"], read["thread"]["status"]) == ("Stored", {"type": "notLoaded"})
        assert (await _listed(daemon, searchTerm="stor"))[thread_id]["name"] == "Stored"
        resumed = await daemon.call("thread/resume", {"threadId": thread_id})
        assert resumed["thread"]["name"] == "Stored"


async def test_a_blank_or_overlong_name_or_an_unknown_thread_is_invalid_params(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        thread_id = await _start(daemon, tmp_path)
        blank = await _error(daemon, "thread/name/set", {"threadId": thread_id, "name": "  "})
        assert blank["code"] == INVALID_PARAMS and "empty" in blank["message"]
        long = await _error(daemon, "thread/name/set", {"threadId": thread_id, "name": "x" * 1000})
        assert long["code"] == INVALID_PARAMS and "longer than" in long["message"]
        unknown = await _error(daemon, "thread/name/set", {"threadId": UNKNOWN_ID, "name": "n"})
        assert unknown["code"] == INVALID_PARAMS and "not found" in unknown["message"]
        read = await daemon.call("thread/read", {"threadId": thread_id})
        assert read["thread"]["name"] is None


async def test_an_archived_thread_is_listed_only_as_archived_even_after_a_restart_until_unarchived(
    home: Path, tmp_path: Path
) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        kept, archived = await _start(daemon, tmp_path), await _start(daemon, tmp_path)
        await daemon.call("thread/name/set", {"threadId": archived, "name": "Old work"})
        assert await daemon.call("thread/archive", {"threadId": archived}) == {}
        note = await daemon.next_notification("thread/archived")
        assert note["params"] == {"threadId": archived}
        assert set(await _listed(daemon)) == {kept}
        assert set(await _listed(daemon, archived=True)) == {archived}
    journal = home / "threads" / f"{archived}.jsonl"
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        assert set(await _listed(daemon)) == {kept}
        assert set(await _listed(daemon, archived=True)) == {archived}
        result = await daemon.call("thread/unarchive", {"threadId": archived})
        assert (result["thread"]["id"], result["thread"]["name"]) == (archived, "Old work")
        note = await daemon.next_notification("thread/unarchived")
        assert note["params"] == {"threadId": archived}
        assert set(await _listed(daemon)) == {kept, archived}
        assert await _listed(daemon, archived=True) == {}
    assert journal.read_text().count("\n") == 4  # header, name, archived, unarchived


async def test_archiving_an_unknown_or_ephemeral_thread_is_invalid_params(home: Path, tmp_path: Path) -> None:
    async with Daemon.start(home) as daemon:
        await daemon.initialize()
        unknown = await _error(daemon, "thread/archive", {"threadId": UNKNOWN_ID})
        assert unknown["code"] == INVALID_PARAMS and "not found" in unknown["message"]
        ephemeral = await _start(daemon, tmp_path, ephemeral=True)
        refused = await _error(daemon, "thread/archive", {"threadId": ephemeral})
        assert refused["code"] == INVALID_PARAMS and "ephemeral" in refused["message"]
        missing = await _error(daemon, "thread/unarchive", {"threadId": UNKNOWN_ID})
        assert missing["code"] == INVALID_PARAMS
