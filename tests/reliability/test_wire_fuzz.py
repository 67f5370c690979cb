"""Wire fuzz at the real stdio daemon: no crash, every request answered well-formed, memory stays put."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.sizes import FAST, FULL
from tests.reliability.wire_fuzz import run_fuzz

RSS_GROWTH_BOUND = 16 * 1024 * 1024


def assert_fuzz_survived(home: Path, messages: int) -> None:
    report = run_fuzz(home, messages)
    assert report.problems == []
    assert report.sent >= messages
    assert report.requests > messages // 3
    assert report.answers >= report.requests
    assert report.exit_code == 0
    assert report.rss_after - report.rss_before < RSS_GROWTH_BOUND, (report.rss_before, report.rss_after)


def test_generated_messages_and_random_bytes_never_crash_the_daemon_and_every_request_is_answered(
    home: Path,
) -> None:
    assert_fuzz_survived(home, FAST.fuzz_messages)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_a_hundred_thousand_fuzzed_messages_leave_the_daemon_alive_answering_and_its_memory_near_its_start(
    home: Path,
) -> None:
    assert_fuzz_survived(home, FULL.fuzz_messages)
