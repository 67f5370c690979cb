"""The server log: bounded, newest lines kept."""

from __future__ import annotations

from app_server.mcp.server_log import ServerLog


def test_the_server_log_keeps_the_newest_lines_each_cut_to_size_with_a_marker() -> None:
    log = ServerLog(max_lines=3, max_line_chars=5)
    for line in ("one", "two", "three", "fourteen"):
        log.append(line)
    assert log.lines() == ["two", "three", "fourt… [cut: 3 more chars]"]
