"""Config write methods: `config/value/write` and `config/batchWrite`."""

from __future__ import annotations

from app_server.config.writing.service import ConfigWriter
from app_server.services import RequestContext
from protocol.config_write import ConfigBatchWriteParams, ConfigValueWriteParams, ConfigWriteResponse


async def value_write(ctx: RequestContext, params: ConfigValueWriteParams) -> ConfigWriteResponse:
    """As the reference does, a single value write does not reload (`config/mcpServer/reload` does)."""
    writer = await _writer(ctx)
    return await writer.write([params], file_path=params.file_path, expected_version=params.expected_version)


async def batch_write(ctx: RequestContext, params: ConfigBatchWriteParams) -> ConfigWriteResponse:
    writer = await _writer(ctx)
    response = await writer.write(
        params.edits, file_path=params.file_path, expected_version=params.expected_version
    )
    if params.reload_user_config:
        await (await ctx.services.mcp()).reload()
    return response


async def _writer(ctx: RequestContext) -> ConfigWriter:
    core = await ctx.services.core()
    return ConfigWriter(core.home, core.configs.cli_overrides)
