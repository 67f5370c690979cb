"""What one MCP server wrote to stderr, and the host's notes about it, kept bounded."""

from __future__ import annotations

from collections import deque


def cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a visible marker saying how much was left out, so a
    reader never takes a cut line for the whole of it."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut: {len(text) - limit} more chars]"


class ServerLog:
    """A bounded log of what one server wrote to stderr (and transport notes): the newest lines win,
    each cut (visibly) to `max_line_chars`."""

    def __init__(self, max_lines: int = 500, max_line_chars: int = 2000) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._max_line_chars = max_line_chars

    def append(self, line: str) -> None:
        self._lines.append(cut(line, self._max_line_chars))

    def lines(self) -> list[str]:
        return list(self._lines)
