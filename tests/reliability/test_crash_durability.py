"""Crash durability: after every `kill -9`, each announced item reads back and no thread file is corrupt."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.reliability.crashes import run_crashes
from tests.reliability.sizes import FAST, FULL

pytestmark = pytest.mark.anyio


async def assert_crashes_lose_nothing(home: Path, rounds: int, seed: int) -> None:
    report = await run_crashes(home, f"rel-{secrets.token_hex(4)}", rounds=rounds, seed=seed)
    assert report.problems == []
    assert report.announced > rounds
    assert report.torn_lines > 0
    assert report.torn_reported == report.torn_lines


async def test_items_announced_before_each_kill_are_read_back_and_torn_lines_are_skipped(home: Path) -> None:
    await assert_crashes_lose_nothing(home, FAST.crash_turns, seed=3)


@pytest.mark.soak
@pytest.mark.timeout(3600)
async def test_a_hundred_turns_killed_at_random_points_lose_nothing_announced(home: Path) -> None:
    await assert_crashes_lose_nothing(home, FULL.crash_turns, seed=11)
