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
    return table
