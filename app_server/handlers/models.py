"""`model/list` and `modelProvider/list`: answered from config alone, never waiting for the MCP layer."""

from __future__ import annotations

from app_server.config import model_catalog
from app_server.mcp.paging import page_bounds
from app_server.services import RequestContext
from protocol.models import (
    ModelListParams,
    ModelListResponse,
    ModelProviderListParams,
    ModelProviderListResponse,
)


def model_list(ctx: RequestContext, params: ModelListParams) -> ModelListResponse:
    config = ctx.services.built_core().configs.current
    models = model_catalog.provider_models(
        config, params.model_provider, include_hidden=bool(params.include_hidden)
    )
    start, end, next_cursor = page_bounds(params.cursor, params.limit, len(models), what="models")
    return ModelListResponse(data=models[start:end], next_cursor=next_cursor)


def provider_list(ctx: RequestContext, _params: ModelProviderListParams) -> ModelProviderListResponse:
    return model_catalog.provider_list(ctx.services.built_core().configs.current)
