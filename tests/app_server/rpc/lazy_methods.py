"""Handlers named by reference in tests/app_server/rpc/test_dispatcher.py, imported on first use."""

from __future__ import annotations

from typing import Any


async def echo(_ctx: Any, _params: None) -> str:
    return "lazy"


def read_now(_ctx: Any, _params: None) -> dict[str, bool]:
    return {"now": True}
