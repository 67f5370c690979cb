"""One thread's JSON-lines file: durable appends (write, flush, fsync) and a tolerant reader."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread

from app_server.errors import RequestFailed
from app_server.threads.records import Record, ThreadHeader, decode_record, encode_record

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class JournalContents:
    """The records that could be read, and one warning per line that had to be skipped."""

    records: list[Record]
    warnings: list[str]


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) readable only by the owner; an existing directory is left as is."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask


class Journal:
    """Appends records to one file so that an append that returned survives a crash.

    Appends are serialized by a lock so lines never interleave, and run in a worker thread
    so the event loop never waits on the disk.
    """

    def __init__(self, path: Path, thread_id: str) -> None:
        self.path = path
        self._thread_id = thread_id
        self._lock = anyio.Lock()
        self._may_be_torn = False

    async def append(self, record: Record) -> None:
        """Write one record and fsync it before returning.

        Callers must await this BEFORE announcing the record (notification, reply): that order
        is what makes "every announced item survives a crash" true. The write is shielded from
        cancellation so a record is never left half-known. Raises RequestFailed if the disk refuses.
        """
        line = encode_record(record)
        with anyio.CancelScope(shield=True):
            async with self._lock:
                await anyio.to_thread.run_sync(self._write_durably, line)

    async def create(self, header: ThreadHeader, history: Sequence[Record] = ()) -> None:
        """Create the file with its header line and `history` (a fork's copied turns), durably
        (file and directory entry both synced, once for all the lines).

        Raises RequestFailed if the file already exists or cannot be written.
        """
        line = b"".join(encode_record(record) for record in (header, *history))
        with anyio.CancelScope(shield=True):
            async with self._lock:
                await anyio.to_thread.run_sync(self._create_durably, line)

    async def read(self) -> JournalContents:
        """Every readable record; torn or corrupt lines are skipped and reported, never fatal."""
        return await anyio.to_thread.run_sync(read_journal, self.path)

    async def seal_torn_tail(self) -> bool:
        """End a torn last line (a write the crash cut short) with a newline so later appends stay whole.

        The torn bytes are kept, not erased; readers keep skipping and reporting that line.
        Returns whether there was a torn line.
        """
        with anyio.CancelScope(shield=True):
            async with self._lock:
                sealed = await anyio.to_thread.run_sync(self._seal_torn_tail)
        return sealed

    def _create_durably(self, line: bytes) -> None:
        try:
            ensure_private_dir(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
            try:
                write_all(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _write_durably(self, line: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            try:
                if self._may_be_torn:
                    _end_torn_line(fd)
                    self._may_be_torn = False
                write_all(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            # A failed write (disk full...) may have left part of its line behind.
            self._may_be_torn = True
            raise self._storage_error(exc) from exc

    def _seal_torn_tail(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            try:
                return _end_torn_line(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: OSError) -> RequestFailed:
        # The OS's description of the errno only: no path of this machine reaches the client.
        reason = os.strerror(exc.errno) if exc.errno else "I/O error"
        if exc.errno == errno.EEXIST:
            reason = "a thread with this id already exists"
        return RequestFailed(f"could not save thread {self._thread_id}: {reason}")


def read_journal(path: Path) -> JournalContents:
    """Parse a journal file (blocking); raises FileNotFoundError if it does not exist."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn_tail = lines.pop()  # b"" when the file ends with a newline, as every whole append does
    records: list[Record] = []
    warnings: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(decode_record(line))
        except ValueError:  # invalid UTF-8 or JSON, or not a record (ValidationError)
            warnings.append(f"line {number} is corrupt and was skipped")
    if torn_tail.strip():
        warnings.append(f"line {len(lines) + 1} is incomplete (torn write) and was skipped")
    return JournalContents(records, warnings)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a regular file may take a write in parts)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _end_torn_line(fd: int) -> bool:
    """Append a newline (durably) if the file does not end with one; returns whether it had to."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return False
    write_all(fd, b"\n")
    os.fsync(fd)
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
