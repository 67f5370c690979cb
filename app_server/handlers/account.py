"""`account/read`, `account/login/start`, `account/logout`: the account drives the effective server view."""

from __future__ import annotations

from typing import Any

from app_server.services import RequestContext
from protocol.account import GetAccountParams, GetAccountResponse, LogoutAccountResponse


def account_read(ctx: RequestContext, _params: GetAccountParams) -> GetAccountResponse:
    return ctx.services.built_core().auth.read()


def login_start(ctx: RequestContext, params: Any) -> Any:
    core = ctx.services.built_core()
    response = core.auth.login(params)
    ctx.after_reply.append(core.schedule_reload)
    return response


def logout(ctx: RequestContext, _params: None) -> LogoutAccountResponse:
    core = ctx.services.built_core()
    response = core.auth.logout()
    ctx.after_reply.append(core.schedule_reload)
    return response
