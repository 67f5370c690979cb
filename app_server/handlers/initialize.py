"""`initialize`: the client introduces itself; the answer says which server and where its home is."""

from __future__ import annotations

import os
import sys

from app_server import __version__
from app_server.rpc.connection import ClientSession
from app_server.rpc.dispatcher import MethodTable, RequestContext
from protocol.initialize import InitializeCapabilities, InitializeParams, InitializeResponse

USER_AGENT_ORIGINATOR = "app-server"


async def initialize(ctx: RequestContext, params: InitializeParams) -> InitializeResponse:
    capabilities = params.capabilities or InitializeCapabilities()
    ctx.connection.open_session(
        ClientSession(
            client_name=params.client_info.name,
            client_version=params.client_info.version,
            opt_out_notification_methods=frozenset(capabilities.opt_out_notification_methods or ()),
        )
    )
    return InitializeResponse(
        user_agent=user_agent(params.client_info.name, params.client_info.version),
        codex_home=str(ctx.services.home),
        platform_family=platform_family(),
        platform_os=platform_os(),
    )


def user_agent(client_name: str, client_version: str) -> str:
    """`app-server/0.1.0 (Linux 6.8.0; x86_64) vscode/1.2.3`, in the shape Codex front-ends expect."""
    if hasattr(os, "uname"):
        system = os.uname()
        platform = f"{system.sysname} {system.release}; {system.machine}"
    else:
        platform = sys.platform
    return f"{USER_AGENT_ORIGINATOR}/{__version__} ({platform}) {client_name}/{client_version}"


def platform_family() -> str:
    return "windows" if sys.platform == "win32" else "unix"


def platform_os() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


def register(table: MethodTable) -> None:
    table.add("initialize", initialize, params=InitializeParams)
