"""One server's catalog (tools, resources, templates), listed page by page; the model-facing tool index.

Only `codex_apps` may attribute a tool to a connector: the `connector_*` keys are stripped from the
`_meta` of every other server's tools as they are listed, so a server cannot pose as a hosted app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mcp.client import Client
from mcp_types import ServerCapabilities

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.errors import McpServerError
from app_server.mcp.apps import CODEX_APPS
from app_server.mcp.naming import model_tool_names

CONNECTOR_META_PREFIX = "connector_"

WireDict = dict[str, Any]
_Page = TypeVar("_Page")


@dataclass(frozen=True)
class ServerCatalog:
    """What one server offers, already in wire form (camelCase dicts), filtered by its tool filters."""

    tools: Mapping[str, WireDict] = field(default_factory=dict)
    """Keyed by raw tool name."""
    resources: tuple[WireDict, ...] = ()
    resource_templates: tuple[WireDict, ...] = ()
    tool_list_meta: Any = None
    """`_meta` of the first `tools/list` page."""


@dataclass(frozen=True)
class ToolRef:
    """What a model-facing tool name stands for."""

    server: str
    tool: str
    """The raw name, as sent to the server."""
    definition: WireDict


def strip_connector_meta(server: str, tool: WireDict) -> WireDict:
    """The tool (wire form) without `connector_*` keys in its `_meta`, unless `server` is `codex_apps`.

    `_meta` is dropped altogether when nothing else was in it.
    """
    meta = tool.get("_meta")
    if server == CODEX_APPS or not isinstance(meta, Mapping):
        return tool
    kept = {key: value for key, value in meta.items() if not key.startswith(CONNECTOR_META_PREFIX)}
    if len(kept) == len(meta):
        return tool
    stripped = {key: value for key, value in tool.items() if key != "_meta"}
    if kept:
        stripped["_meta"] = kept
    return stripped


def _wire(model: Any) -> WireDict:
    dumped: WireDict = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return dumped


async def _all_pages(
    server: str,
    what: str,
    fetch: Callable[[str | None], Awaitable[_Page]],
    cursor_of: Callable[[_Page], str | None],
) -> list[_Page]:
    """Follow `nextCursor` to the end; a cursor seen twice would loop forever, so it is an error."""
    pages = [await fetch(None)]
    seen: set[str] = set()
    while (cursor := cursor_of(pages[-1])) is not None:
        if cursor in seen:
            raise McpServerError(
                f"MCP server `{server}` repeated the {what} cursor {cursor!r}; listing stopped"
            )
        seen.add(cursor)
        pages.append(await fetch(cursor))
    return pages


async def fetch_catalog(
    client: Client, server: str, config: StdioServerConfig | HttpServerConfig
) -> ServerCatalog:
    """List every page of tools, resources and resource templates the server's capabilities announce.

    Raises McpServerError when a listing repeats a cursor; MCP errors of the server propagate.
    """
    capabilities: ServerCapabilities = client.server_capabilities
    tools: dict[str, WireDict] = {}
    tool_list_meta: Any = None
    if capabilities.tools is not None:
        tool_pages = await _all_pages(
            server, "tools", lambda cursor: client.list_tools(cursor=cursor), lambda page: page.next_cursor
        )
        tool_list_meta = tool_pages[0].meta
        tools = {
            tool.name: strip_connector_meta(server, _wire(tool))
            for page in tool_pages
            for tool in page.tools
            if config.tool_allowed(tool.name)
        }
    resources: list[WireDict] = []
    templates: list[WireDict] = []
    if capabilities.resources is not None:
        resource_pages = await _all_pages(
            server,
            "resources",
            lambda cursor: client.list_resources(cursor=cursor),
            lambda page: page.next_cursor,
        )
        resources = [_wire(resource) for page in resource_pages for resource in page.resources]
        template_pages = await _all_pages(
            server,
            "resource templates",
            lambda cursor: client.list_resource_templates(cursor=cursor),
            lambda page: page.next_cursor,
        )
        templates = [_wire(template) for page in template_pages for template in page.resource_templates]
    return ServerCatalog(
        tools=tools,
        resources=tuple(resources),
        resource_templates=tuple(templates),
        tool_list_meta=tool_list_meta,
    )


def build_tool_index(catalogs: Iterable[tuple[str, ServerCatalog]]) -> dict[str, ToolRef]:
    """Model-facing name -> tool, across servers (names assigned by `naming.model_tool_names`)."""
    refs = {
        (server, tool): definition
        for server, catalog in catalogs
        for tool, definition in catalog.tools.items()
    }
    names = model_tool_names(refs)
    return {names[key]: ToolRef(key[0], key[1], definition) for key, definition in refs.items()}
