"""`config/read` and `configRequirements/read`: from config alone, never waiting for the MCP layer."""

from __future__ import annotations

import anyio.to_thread

from app_server.config import reading
from app_server.config.layers import ThreadOverrides
from app_server.services import RequestContext
from protocol.config import ConfigReadParams, ConfigReadResponse, ConfigRequirementsReadResponse


async def config_read(ctx: RequestContext, params: ConfigReadParams) -> ConfigReadResponse:
    core = await ctx.services.core()
    thread = None
    if params.thread_id is not None:  # our extension: the config as a loaded thread runs under it
        overrides = core.threads.get(params.thread_id).overrides
        thread = ThreadOverrides(params.thread_id, overrides or {})
    configs = core.configs  # read from disk in a worker: the file may be slow
    return await anyio.to_thread.run_sync(
        reading.read_config, configs.home, configs.cli_overrides, params, thread
    )


def requirements_read(_ctx: RequestContext, _params: None) -> ConfigRequirementsReadResponse:
    return reading.read_requirements()
