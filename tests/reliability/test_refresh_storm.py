"""Refresh storm through the real daemon: steps keep their leases, nothing is lost, one generation remains."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.reliability.sizes import FAST, FULL
from tests.reliability.storm import run_storm

pytestmark = pytest.mark.anyio


async def assert_storm_weathered(home: Path, threads: int, reloads: int) -> None:
    report = await run_storm(home, f"rel-{secrets.token_hex(4)}", threads=threads, reloads=reloads)
    assert report.leases_checked == report.tool_calls
    assert report.wrong_runtime == []
    assert report.lost_calls == []
    assert report.unfinished_turns == []
    assert report.final_labels == report.expected_labels


async def test_steps_calling_tools_through_alternating_reloads_keep_their_runtime_and_lose_nothing(
    home: Path,
) -> None:
    await assert_storm_weathered(home, FAST.storm_threads, FAST.storm_reloads)


@pytest.mark.soak
@pytest.mark.timeout(3600)
async def test_fifty_threads_through_a_thousand_reloads_keep_their_runtime_and_lose_nothing(
    home: Path,
) -> None:
    await assert_storm_weathered(home, FULL.storm_threads, FULL.storm_reloads)
