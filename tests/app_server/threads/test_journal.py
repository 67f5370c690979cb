from __future__ import annotations

import errno
import os
import random
import signal
import stat
import sys
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from app_server.errors import RequestFailed
from app_server.threads.journal import Journal, read_journal
from app_server.threads.records import (
    ItemCompleted,
    Record,
    ThreadHeader,
    ThreadUpdated,
    TurnStarted,
    encode_record,
)

THREAD_ID = "01a208b1-63aa-7210-9eaf-c381ea94952b"


def header(at_ms: int = 1_700_000_000_000) -> ThreadHeader:
    return ThreadHeader(id=THREAD_ID, at_ms=at_ms, cli_version="0.1.0", cwd="/w", model_provider="openai")


def message(index: int, text: str = "hello") -> ItemCompleted:
    item = {"type": "agentMessage", "id": f"item-{index}", "text": text}
    return ItemCompleted(at_ms=1, turn_id="t", item=item)


def record_line(record: Record) -> bytes:
    return encode_record(record)


@pytest.mark.anyio
async def test_appended_records_read_back_identical(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "threads" / f"{THREAD_ID}.jsonl", THREAD_ID)
    records: list[Record] = [
        header(),
        TurnStarted(at_ms=2, turn_id="t"),
        message(0, "multi\nline ✓ \ud800"),
        ThreadUpdated(at_ms=3, name=None),
    ]
    await journal.create(header())
    for record in records[1:]:
        await journal.append(record)

    contents = await journal.read()

    assert contents.warnings == []
    assert contents.records == records
    assert contents.records[-1].model_fields_set - {"type"} == {"at_ms", "name"}


@pytest.mark.anyio
async def test_journal_files_and_directories_are_private(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "threads" / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())

    assert stat.S_IMODE(os.stat(journal.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(journal.path.parent).st_mode) == 0o700


@pytest.mark.anyio
async def test_creating_an_existing_journal_fails_without_touching_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())
    before = journal.path.read_bytes()

    with pytest.raises(RequestFailed) as caught:
        await journal.create(header(at_ms=5))

    assert str(tmp_path) not in caught.value.message
    assert journal.path.read_bytes() == before


def test_a_torn_last_line_is_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(record_line(header()) + record_line(message(0)) + record_line(message(1))[:25])

    contents = read_journal(path)

    assert contents.records == [header(), message(0)]
    assert contents.warnings == ["line 3 is incomplete (torn write) and was skipped"]


def test_a_corrupt_middle_line_is_skipped_and_reported_and_later_lines_still_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    not_utf8 = b'{"type": "itemCompleted", "atMs": \xff\xfe\n'
    path.write_bytes(record_line(header()) + not_utf8 + b"not json\n" + record_line(message(1)))

    contents = read_journal(path)

    assert contents.warnings == ["line 2 is corrupt and was skipped", "line 3 is corrupt and was skipped"]
    assert contents.records == [header(), message(1)]


@pytest.mark.anyio
async def test_sealing_a_torn_tail_keeps_later_appends_whole(tmp_path: Path) -> None:
    journal = Journal(tmp_path / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())
    with journal.path.open("ab") as file:
        file.write(record_line(message(0))[:30])

    assert await journal.seal_torn_tail() is True
    assert await journal.seal_torn_tail() is False
    await journal.append(message(1))

    contents = await journal.read()
    assert contents.records == [header(), message(1)]
    assert contents.warnings == ["line 2 is corrupt and was skipped"]


@pytest.mark.anyio
async def test_a_write_that_failed_midway_does_not_glue_onto_the_next_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())

    def disk_full_after_a_few_bytes(fd: int, data: bytes) -> None:
        os.write(fd, data[:20])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("app_server.threads.journal.write_all", disk_full_after_a_few_bytes)
        with pytest.raises(RequestFailed) as caught:
            await journal.append(message(0))
    assert caught.value.message == f"could not save thread {THREAD_ID}: No space left on device"
    await journal.append(message(1))

    contents = await journal.read()
    assert contents.records == [header(), message(1)]
    assert contents.warnings == ["line 2 is corrupt and was skipped"]


@pytest.mark.anyio
async def test_concurrent_appends_never_interleave(tmp_path: Path) -> None:
    journal = Journal(tmp_path / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())
    big_text = "x" * 200_000  # far beyond a pipe buffer or a page: a torn write would show

    async def append_some(writer: int) -> None:
        for index in range(5):
            await journal.append(message(writer * 100 + index, big_text))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for writer in range(8):
                tg.start_soon(append_some, writer)

    contents = await journal.read()
    assert contents.warnings == []
    assert sorted(r.item["id"] for r in contents.records[1:]) == sorted(  # type: ignore[union-attr]
        f"item-{w * 100 + i}" for w in range(8) for i in range(5)
    )


@pytest.mark.anyio
async def test_an_append_cancelled_midway_still_lands_on_disk(tmp_path: Path) -> None:
    journal = Journal(tmp_path / f"{THREAD_ID}.jsonl", THREAD_ID)
    await journal.create(header())

    with anyio.CancelScope() as scope:
        scope.cancel()
        await journal.append(message(0))

    assert (await journal.read()).records == [header(), message(0)]


APPENDER = """
import sys, anyio
from pathlib import Path
from app_server.threads.records import ThreadSettings
from app_server.threads.store import ThreadStore

async def main() -> None:
    store = ThreadStore(Path(sys.argv[1]))
    if len(sys.argv) > 2:
        live = await store.resume(sys.argv[2])
    else:
        live = await store.create(ThreadSettings(cwd="/w", model_provider="openai"))
    turn = (await live.start_turn()).to_wire()
    print(live.id, turn["id"], flush=True)
    index = 0
    while True:
        item = {"type": "agentMessage", "id": f"{turn['id']}-{index}", "text": "x" * (index % 7 * 300)}
        await live.complete_item(turn["id"], item)
        print(item["id"], flush=True)
        index += 1

anyio.run(main)
"""


async def run_appender_until_killed(
    root: Path, thread_id: str | None, kill_after: int
) -> tuple[str, list[str]]:
    """Start an appender process, SIGKILL it once it reported `kill_after` items; return what it reported."""
    args = [sys.executable, "-c", APPENDER, str(root)] + ([thread_id] if thread_id else [])
    reported: list[str] = []
    async with await anyio.open_process(args, stderr=None) as process:
        assert process.stdout is not None
        lines = BufferedByteReceiveStream(process.stdout)
        with anyio.fail_after(30):
            started_id = (await lines.receive_until(b"\n", 1000)).decode().split()[0]
            while len(reported) < kill_after:
                reported.append((await lines.receive_until(b"\n", 1000)).decode())
            process.send_signal(signal.SIGKILL)
            await process.wait()
    return started_id, reported


@pytest.mark.anyio
async def test_every_item_a_killed_process_reported_is_readable_by_another_process(home: Path) -> None:
    from app_server.threads.store import ThreadStore

    root = home / "threads"
    thread_id: str | None = None
    reported: list[str] = []
    for _ in range(3):
        thread_id, newly_reported = await run_appender_until_killed(root, thread_id, random.randint(5, 150))
        reported += newly_reported

        readout = await ThreadStore(root).read(thread_id, include_turns=True)

        readable = {item["id"] for turn in readout.thread.to_wire()["turns"] for item in turn["items"]}
        assert set(reported) <= readable
        assert all(w.startswith("line") and "was skipped" in w for w in readout.warnings)
