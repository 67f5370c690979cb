"""The soak gate: full-size scenarios (marked `soak`) run only with `-m soak` or RELIABILITY_FULL=1."""

from __future__ import annotations

import os

import pytest

FULL_ENV = "RELIABILITY_FULL"


def soak_selected(config: pytest.Config) -> bool:
    return "soak" in (config.getoption("markexpr") or "") or os.environ.get(FULL_ENV) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip soak scenarios unless asked for; run the secrets scan after everything else it scans."""
    if not soak_selected(config):
        skip = pytest.mark.skip(reason=f"full-size soak: run with `-m soak` or {FULL_ENV}=1")
        for item in items:
            if item.get_closest_marker("soak") is not None:
                item.add_marker(skip)
    items.sort(key=lambda item: "tests/reliability/test_secrets.py" in item.nodeid)
