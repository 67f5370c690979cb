"""Shared fixtures: anyio on asyncio, a private home directory per test, the third-party test tools."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tools import Tools, ToolsUnavailable, install


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh `$APP_SERVER_HOME` for the test."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("APP_SERVER_HOME", str(path))
    yield path


@pytest.fixture(scope="session")
def third_party() -> Tools:
    """Node 22, the MCP conformance suite and the third-party MCP servers (tests/support/tools.py),
    installed on first use. Where they cannot be installed the test is skipped, saying why; in CI
    (`CI=true`) it errors instead, so CI never passes without running them."""
    try:
        return install()
    except ToolsUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the third-party test tools must be installed in CI: {error}")
        pytest.skip(f"the third-party test tools could not be installed: {error}")
