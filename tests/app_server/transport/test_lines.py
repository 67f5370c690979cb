"""Line framing with a size limit: oversized lines are reported once and never buffered whole."""

from __future__ import annotations

import pytest

from app_server.transport.base import OversizedMessageError
from app_server.transport.lines import LineSplitter


def test_lines_split_across_chunks_are_joined() -> None:
    lines = LineSplitter(100)
    lines.feed(b'{"a":')
    assert lines.pop() is None
    lines.feed(b'1}\n{"b":2}\n')
    assert lines.pop() == b'{"a":1}'
    assert lines.pop() == b'{"b":2}'
    assert lines.pop() is None


def test_an_oversized_line_is_reported_once_and_the_next_line_survives() -> None:
    lines = LineSplitter(10)
    lines.feed(b"x" * 11)
    with pytest.raises(OversizedMessageError):
        lines.pop()
    for _ in range(100):
        lines.feed(b"y" * 1000)
        assert lines.pop() is None
        assert len(lines._buffer) == 0  # discarded as it arrives, not accumulated
    lines.feed(b'tail\n{"ok":1}\n')
    assert lines.pop() == b'{"ok":1}'


def test_an_oversized_line_arriving_whole_is_reported() -> None:
    lines = LineSplitter(10)
    lines.feed(b"z" * 20 + b"\nshort\n")
    with pytest.raises(OversizedMessageError):
        lines.pop()
    assert lines.pop() == b"short"


def test_the_unterminated_last_line_is_delivered_at_end_of_input() -> None:
    lines = LineSplitter(100)
    lines.feed(b'{"last":true}')
    assert lines.pop() is None
    assert lines.remainder() == b'{"last":true}'
    assert lines.remainder() is None
