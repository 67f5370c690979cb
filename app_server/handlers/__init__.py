"""Request handlers, one module per resource: params model in, result model out, no business logic.

`HANDLERS` is the one list of the methods this server answers. `method_table()` imports a
handler's module on the first call of one of its methods, so the protocol models and services a
resource pulls in stay off the path to the `initialize` reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app_server.rpc.dispatcher import MethodTable, ParamsReader
from protocol.initialize import InitializeParams

if TYPE_CHECKING:
    from app_server.services import Services

HANDLERS: Mapping[str, str] = {
    "initialize": "initialize:initialize",
    "thread/start": "thread:thread_start",
    "thread/resume": "thread:thread_resume",
    "thread/fork": "thread:thread_fork",
    "thread/read": "thread:thread_read",
    "thread/list": "thread:thread_list",
    "thread/loaded/list": "thread_admin:thread_loaded_list",
    "thread/name/set": "thread_admin:thread_name_set",
    "thread/archive": "thread_admin:thread_archive",
    "thread/unarchive": "thread_admin:thread_unarchive",
    "thread/turns/list": "thread_pages:thread_turns_list",
    "thread/items/list": "thread_pages:thread_items_list",
    "thread/delete": "thread_admin:thread_delete",
    "thread/unsubscribe": "thread_admin:thread_unsubscribe",
    "turn/start": "turn:turn_start",
    "turn/steer": "turn:turn_steer",
    "turn/interrupt": "turn:turn_interrupt",
    "mcpServerStatus/list": "mcp:status_list",
    "config/mcpServer/reload": "mcp:reload",
    "config/read": "config:config_read",
    "configRequirements/read": "config:requirements_read",
    "config/value/write": "config_write:value_write",
    "config/batchWrite": "config_write:batch_write",
    "mcpServer/resource/read": "mcp:resource_read",
    "mcpServer/tool/call": "mcp:tool_call",
    "mcpServer/oauth/login": "mcp:oauth_login",
    "mcpServer/views/read": "mcp:views_read",
    "app/list": "app:app_list",
    "model/list": "models:model_list",
    "modelProvider/list": "models:provider_list",
    "account/read": "account:account_read",
    "account/login/start": "account:login_start",
    "account/logout": "account:logout",
}
"""Method -> its handler, `"module:function"` in this package; the methods of `protocol.registry.REQUESTS`."""


def method_table() -> MethodTable[Services]:
    """Every method this server answers."""
    handlers = {method: f"{__name__}.{reference}" for method, reference in HANDLERS.items()}
    return MethodTable(handlers, read_params=read_params)


def read_params(method: str) -> ParamsReader | None:
    """How `method`'s params are read: as `protocol.registry.REQUESTS` declares them (None: it takes none).

    `initialize` reads its hand-written model directly: through the registry it would import
    pydantic, which stays off the handshake's path.
    """
    if method == "initialize":
        return InitializeParams.model_validate
    from protocol.registry import REQUESTS

    spec = REQUESTS[method]
    return spec.parse_params if spec.params_ref is not None else None
