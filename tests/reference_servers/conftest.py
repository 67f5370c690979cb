"""Tests of real third-party MCP servers (tests/support/tools.py installs them): one daemon per module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"
