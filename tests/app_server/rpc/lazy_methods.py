"""A handler module registered lazily by tests/app_server/rpc/test_dispatcher.py."""

from __future__ import annotations

from app_server.rpc.dispatcher import MethodTable, RequestContext


async def echo(_ctx: RequestContext, _params: None) -> str:
    return "lazy"


def register(table: MethodTable) -> None:
    table.add("lazy/echo", echo, params=None)
