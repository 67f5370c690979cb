from __future__ import annotations

import json
from pathlib import Path

import pytest

from app_server.errors import InvalidParams
from app_server.threads.catalog import INDEX_NAME
from app_server.threads.ids import new_id
from app_server.threads.journal import Journal
from app_server.threads.records import ThreadHeader, ThreadSettings, ThreadUpdated
from app_server.threads.store import ThreadStore

BASE_MS = 1_700_000_000_000


async def write_thread(
    root: Path,
    created_s: int,
    *,
    cwd: str = "/w",
    provider: str = "openai",
    name: str | None = None,
    updated_s: int | None = None,
    archived: bool = False,
) -> str:
    """A journal written as a past daemon would have, with chosen times (seconds after BASE_MS)."""
    thread_id = new_id()
    journal = Journal(root / f"{thread_id}.jsonl", thread_id)
    created_ms = BASE_MS + created_s * 1000
    await journal.create(
        ThreadHeader(
            id=thread_id, at_ms=created_ms, cli_version="0", cwd=cwd, model_provider=provider, name=name
        )
    )
    if updated_s is not None or archived:
        at_ms = BASE_MS + (updated_s if updated_s is not None else created_s) * 1000
        await journal.append(ThreadUpdated(at_ms=at_ms, archived=archived))
    return thread_id


async def all_pages(store: ThreadStore, **options: object) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        result = await store.list_threads(cursor=cursor, **options)  # type: ignore[arg-type]
        pages.append([thread["id"] for thread in result.data])
        cursor = result.next_cursor
        if cursor is None:
            return pages


@pytest.mark.anyio
async def test_pages_cover_every_thread_once_newest_first_and_end_with_a_null_cursor(
    threads_root: Path,
) -> None:
    ids = [await write_thread(threads_root, created_s=index) for index in range(7)]

    pages = await all_pages(ThreadStore(threads_root), limit=3)

    assert pages == [ids[6:3:-1], ids[3:0:-1], ids[:1]]


@pytest.mark.anyio
async def test_ascending_order_and_ties_broken_by_id(threads_root: Path) -> None:
    ids = sorted([await write_thread(threads_root, created_s=5) for _ in range(3)])
    oldest = await write_thread(threads_root, created_s=1)

    pages = await all_pages(ThreadStore(threads_root), limit=2, sort_direction="asc")

    assert pages == [[oldest, ids[0]], ids[1:]]


@pytest.mark.anyio
async def test_sorting_by_updated_at_follows_the_latest_record(threads_root: Path) -> None:
    stale = await write_thread(threads_root, created_s=10)
    revived = await write_thread(threads_root, created_s=1, updated_s=50)

    result = await ThreadStore(threads_root).list_threads(sort_key="updated_at")

    assert [t["id"] for t in result.data] == [revived, stale]
    assert result.data[0]["updatedAt"] == (BASE_MS // 1000) + 50


@pytest.mark.anyio
async def test_filters_by_cwd_provider_search_term_and_archived(threads_root: Path) -> None:
    in_a = await write_thread(threads_root, 1, cwd="/a", name="Fix the Parser")
    in_b = await write_thread(threads_root, 2, cwd="/b", provider="ollama")
    archived = await write_thread(threads_root, 3, cwd="/a", archived=True)
    store = ThreadStore(threads_root)

    async def ids(**options: object) -> set[str]:
        return {t["id"] for t in (await store.list_threads(**options)).data}  # type: ignore[arg-type]

    assert await ids() == {in_a, in_b}
    assert await ids(cwd="/a") == {in_a}
    assert await ids(cwd=["/a", "/b"]) == {in_a, in_b}
    assert await ids(model_providers=["ollama"]) == {in_b}
    assert await ids(model_providers=[]) == {in_a, in_b}
    assert await ids(search_term="parser") == {in_a}
    assert await ids(archived=True) == {archived}
    assert await ids(excluded_ids=[in_a]) == {in_b}


@pytest.mark.anyio
async def test_a_cursor_we_did_not_issue_is_invalid_params(threads_root: Path) -> None:
    for _ in range(3):
        await write_thread(threads_root, 1)
    store = ThreadStore(threads_root)
    issued = (await store.list_threads(limit=1)).next_cursor
    assert issued is not None

    for bad in ("garbage!", "W10", issued + "x"):
        with pytest.raises(InvalidParams) as caught:
            await store.list_threads(cursor=bad)
        assert caught.value.message == f"invalid cursor: {bad}"
    with pytest.raises(InvalidParams):
        await store.list_threads(cursor=issued, sort_key="updated_at")


@pytest.mark.anyio
async def test_paging_stays_correct_when_a_thread_is_created_between_pages(
    threads_root: Path, settings: ThreadSettings
) -> None:
    older = [await write_thread(threads_root, created_s=index) for index in range(4)]
    store = ThreadStore(threads_root)
    first = await store.list_threads(limit=2)

    newcomer = await store.create(settings)
    second = await store.list_threads(limit=2, cursor=first.next_cursor)

    assert [t["id"] for t in first.data + second.data] == older[::-1]
    assert newcomer.id in {t["id"] for t in (await store.list_threads()).data}


@pytest.mark.anyio
async def test_live_threads_are_listed_with_their_live_state(
    threads_root: Path, settings: ThreadSettings
) -> None:
    store = ThreadStore(threads_root)
    live = await store.create(settings)
    await live.start_turn()
    await store.create(settings, ephemeral=True)

    result = await store.list_threads()

    assert [t["id"] for t in result.data] == [live.id]
    assert result.data[0]["status"] == {"type": "active", "activeFlags": []}
    assert result.data[0]["turns"] == []


@pytest.mark.anyio
async def test_a_thread_with_an_unreadable_header_is_left_out_and_reported(threads_root: Path) -> None:
    healthy = await write_thread(threads_root, 1)
    broken = await write_thread(threads_root, 2)
    (threads_root / f"{broken}.jsonl").write_bytes(b"\x00\x01 not a header\n")

    result = await ThreadStore(threads_root).list_threads()

    assert [t["id"] for t in result.data] == [healthy]
    assert result.warnings == (f"thread {broken} was left out: its header is missing or corrupt",)


@pytest.mark.anyio
async def test_the_index_spares_reparsing_unchanged_journals_after_a_restart(threads_root: Path) -> None:
    ids = [await write_thread(threads_root, index) for index in range(3)]
    await ThreadStore(threads_root).list_threads()
    index = json.loads((threads_root / INDEX_NAME).read_text())
    assert set(index["threads"]) == set(ids)

    # Plant a marker in the cached summary of an unchanged journal: a restarted store that
    # answers with it took the summary from the index instead of parsing the journal.
    index["threads"][ids[0]]["summary"]["thread"]["preview"] = "from the index"
    (threads_root / INDEX_NAME).write_text(json.dumps(index))
    await Journal(threads_root / f"{ids[1]}.jsonl", ids[1]).append(
        ThreadUpdated(at_ms=BASE_MS, name="renamed")
    )

    result = await ThreadStore(threads_root).list_threads(sort_direction="asc")

    assert [(t["preview"], t["name"]) for t in result.data] == [
        ("from the index", None),
        ("", "renamed"),
        ("", None),
    ]


@pytest.mark.anyio
async def test_a_corrupt_index_is_rebuilt_from_the_journals(threads_root: Path) -> None:
    ids = [await write_thread(threads_root, index) for index in range(2)]
    (threads_root / INDEX_NAME).write_bytes(b"{not json")

    result = await ThreadStore(threads_root).list_threads(sort_direction="asc")

    assert [t["id"] for t in result.data] == ids
    assert set(json.loads((threads_root / INDEX_NAME).read_text())["threads"]) == set(ids)


@pytest.mark.anyio
async def test_listing_an_empty_home_returns_an_empty_last_page(threads_root: Path) -> None:
    result = await ThreadStore(threads_root).list_threads()
    assert (result.data, result.next_cursor) == ([], None)
    with pytest.raises(InvalidParams):
        await ThreadStore(threads_root).list_threads(limit=-1)
