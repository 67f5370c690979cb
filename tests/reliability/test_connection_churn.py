"""Connection churn over WebSocket: no leaked descriptors, threads, memory or request tasks."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.reliability.churn import run_churn
from tests.reliability.sizes import FAST, FULL

pytestmark = pytest.mark.anyio

FD_SLACK = 4
THREAD_SLACK = 2
RSS_GROWTH_BOUND = 24 * 1024 * 1024


async def assert_churn_leaves_nothing(home: Path, connections: int) -> None:
    report = await run_churn(home, f"rel-{secrets.token_hex(4)}", connections=connections)
    assert report.keeper_alive
    assert report.fds_after <= report.fds_before + FD_SLACK, (report.fds_before, report.fds_after)
    assert report.threads_after <= report.threads_before + THREAD_SLACK
    assert report.rss_after - report.rss_before < RSS_GROWTH_BOUND, (report.rss_before, report.rss_after)
    assert report.old_server_stopped, "a request of a vanished connection still holds its runtime lease"


async def test_clients_vanishing_mid_request_leak_no_descriptors_memory_or_request_tasks(home: Path) -> None:
    await assert_churn_leaves_nothing(home, FAST.churn_connections)


@pytest.mark.soak
@pytest.mark.timeout(3600)
async def test_five_hundred_clients_vanishing_mid_request_leak_nothing(home: Path) -> None:
    await assert_churn_leaves_nothing(home, FULL.churn_connections)
