"""Fixtures for the thread store tests: a threads directory and ready-made journals."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_server.threads.records import ThreadSettings


@pytest.fixture
def threads_root(home: Path) -> Path:
    return home / "threads"


@pytest.fixture
def settings() -> ThreadSettings:
    return ThreadSettings(cwd="/work/project", model_provider="openai", model="gpt-5")
