"""How big each reliability scenario runs: the fast CI subset, the bench's medium size, the full size."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """One size for every scenario; the names say what is counted."""

    name: str
    fuzz_messages: int
    storm_threads: int
    storm_reloads: int
    crash_turns: int
    churn_connections: int


FAST = Sizes(
    "fast", fuzz_messages=2_000, storm_threads=5, storm_reloads=20, crash_turns=5, churn_connections=50
)
MEDIUM = Sizes(
    "medium", fuzz_messages=10_000, storm_threads=10, storm_reloads=100, crash_turns=20, churn_connections=200
)
FULL = Sizes(
    "full",
    fuzz_messages=100_000,
    storm_threads=50,
    storm_reloads=1_000,
    crash_turns=100,
    churn_connections=500,
)
