"""Shared fixtures: anyio on asyncio, and a private home directory per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


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
