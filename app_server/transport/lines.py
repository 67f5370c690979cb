"""Splitting a byte stream into lines with a size limit that never buffers an oversized line whole."""

from __future__ import annotations

from app_server.transport.base import OversizedMessageError


class LineSplitter:
    """Incremental newline framing.

    Memory stays bounded by the limit plus one read chunk: as soon as an unfinished line passes
    the limit it is reported once (`OversizedMessageError`) and the rest of it is dropped as it arrives.
    """

    def __init__(self, max_line_bytes: int) -> None:
        self._limit = max_line_bytes
        self._buffer = bytearray()
        self._scanned = 0
        self._discarding = False

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def pop(self) -> bytes | None:
        """The next complete line without its `\\n`, or None until more data is fed.

        Raises `OversizedMessageError` once for each line over the limit.
        """
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end < 0:
                self._hold_partial_line()
                return None
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            self._scanned = 0
            if self._discarding:
                self._discarding = False
                continue
            if len(line) > self._limit:
                raise OversizedMessageError
            return line

    def remainder(self) -> bytes | None:
        """At end of input: the unterminated last line, if any (None if it was being discarded)."""
        if self._discarding or not self._buffer:
            return None
        line = bytes(self._buffer)
        self._buffer.clear()
        self._scanned = 0
        if len(line) > self._limit:
            raise OversizedMessageError
        return line

    def _hold_partial_line(self) -> None:
        if self._discarding:
            self._buffer.clear()
            self._scanned = 0
        elif len(self._buffer) > self._limit:
            self._discarding = True
            self._buffer.clear()
            self._scanned = 0
            raise OversizedMessageError
        else:
            self._scanned = len(self._buffer)
