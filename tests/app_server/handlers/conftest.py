"""Daemon tests here share one daemon per module: anyio runs module-scoped async fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"
