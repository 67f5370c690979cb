"""Request handlers, one module per resource: params model in, result model out, no business logic.

A resource module defines `register(table: MethodTable) -> None`. `method_table()` registers
`initialize` eagerly and every other resource with `MethodTable.add_lazy`, so their protocol
models and services are imported on first use, not on the way to the `initialize` reply.
"""

from __future__ import annotations

from app_server.handlers import initialize
from app_server.rpc.dispatcher import MethodTable


def method_table() -> MethodTable:
    """Every method this server answers."""
    table = MethodTable()
    initialize.register(table)
    table.add_lazy(
        ["thread/start", "thread/resume", "thread/read", "thread/list"], "app_server.handlers.thread"
    )
    table.add_lazy(["turn/start", "turn/interrupt"], "app_server.handlers.turn")
    table.add_lazy(
        [
            "mcpServerStatus/list",
            "config/mcpServer/reload",
            "mcpServer/resource/read",
            "mcpServer/tool/call",
            "mcpServer/oauth/login",
            "mcpServer/views/read",
        ],
        "app_server.handlers.mcp",
    )
    table.add_lazy(["account/read", "account/login/start", "account/logout"], "app_server.handlers.account")
    table.add_lazy(["app/list"], "app_server.handlers.app")
    return table
