"""Reliability figures: the tests/reliability scenarios at medium size (RELIABILITY_BENCH_SIZE=full: full).

Fuzz throughput and daemon RSS, refresh storm reloads/s and violations, crash recovery, and the
descriptor, thread and RSS growth of WebSocket connection churn.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio

from tests.reliability.churn import run_churn
from tests.reliability.crashes import run_crashes
from tests.reliability.sizes import FULL, MEDIUM, Sizes
from tests.reliability.storm import run_storm
from tests.reliability.wire_fuzz import run_fuzz

Row = tuple[str, str, str]
Report = TypeVar("Report")
MIB = 1024 * 1024


def _sizes() -> Sizes:
    return FULL if os.environ.get("RELIABILITY_BENCH_SIZE") == "full" else MEDIUM


def _in_fresh_home(scenario: Callable[[Path, str], Awaitable[Report]]) -> Report:
    with tempfile.TemporaryDirectory() as root:
        home = Path(root) / "home"
        home.mkdir()
        return anyio.run(scenario, home, f"rel-{secrets.token_hex(4)}")


def fuzz_rows(sizes: Sizes) -> list[Row]:
    with tempfile.TemporaryDirectory() as root:
        report = run_fuzz(Path(root), sizes.fuzz_messages)
    label = f"fuzz {report.sent} messages"
    return [
        (f"{label}: throughput", f"{report.messages_per_second:.0f} msg/s", "informational"),
        (
            f"{label}: daemon RSS before -> after",
            f"{report.rss_before / MIB:.1f} -> {report.rss_after / MIB:.1f} MiB",
            "growth < 16 MiB",
        ),
        (f"{label}: problems, exit code", f"{len(report.problems)}, {report.exit_code}", "0, 0"),
    ]


def storm_rows(sizes: Sizes) -> list[Row]:
    threads, reloads = sizes.storm_threads, sizes.storm_reloads
    report = _in_fresh_home(lambda home, marker: run_storm(home, marker, threads=threads, reloads=reloads))
    label = f"storm {threads} threads x {reloads} reloads"
    violations = len(report.wrong_runtime) + len(report.lost_calls) + len(report.unfinished_turns)
    return [
        (f"{label}: reloads/s", f"{report.reloads_per_second:.1f}/s", "informational"),
        (f"{label}: violations", str(violations), "0"),
        (
            f"{label}: servers left",
            f"{len(report.final_labels)} (expected {len(report.expected_labels)})",
            "one per cell",
        ),
    ]


def crash_rows(sizes: Sizes) -> list[Row]:
    rounds = sizes.crash_turns
    report = _in_fresh_home(lambda home, marker: run_crashes(home, marker, rounds=rounds))
    label = f"crash {rounds} kill -9 turns"
    return [
        (
            f"{label}: restart to thread loaded (median)",
            f"{statistics.median(report.recovery_seconds) * 1000:.0f} ms",
            "informational",
        ),
        (f"{label}: announced items lost or changed", str(len(report.problems)), "0"),
        (f"{label}: torn lines reported", f"{report.torn_reported}/{report.torn_lines}", "all"),
    ]


def churn_rows(sizes: Sizes) -> list[Row]:
    count = sizes.churn_connections
    report = _in_fresh_home(lambda home, marker: run_churn(home, marker, connections=count))
    label = f"churn {count} ws connections"
    return [
        (f"{label}: connections/s", f"{count / report.seconds:.0f}/s", "informational"),
        (f"{label}: fd growth", str(report.fds_after - report.fds_before), "<= 4"),
        (f"{label}: thread growth", str(report.threads_after - report.threads_before), "<= 2"),
        (f"{label}: RSS growth", f"{(report.rss_after - report.rss_before) / MIB:.1f} MiB", "< 24 MiB"),
        (f"{label}: abandoned calls released lease", str(report.old_server_stopped), "True"),
    ]


def run() -> list[Row]:
    sizes = _sizes()
    return [*fuzz_rows(sizes), *storm_rows(sizes), *crash_rows(sizes), *churn_rows(sizes)]
