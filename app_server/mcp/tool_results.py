"""What a `tools/call` answer must be before it is passed on.

It must be a valid `CallToolResult`, and when the tool declares an output schema, a successful
result must carry structured content that matches it: the checks the SDK's own `call_tool`
makes, done here because tool calls travel on the raw path (`direct_requests`). Compiled
validators are kept per tool and schema, since compiling costs far more than validating.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from jsonschema import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pydantic import ValidationError
from referencing import Registry

from app_server.errors import McpServerError
from app_server.mcp.catalog import WireDict
from app_server.mcp.server_log import ServerLog

PASSTHROUGH_FIELDS = ("content", "structuredContent", "isError", "_meta")


class ToolResultCheck:
    """Checks the answers of one server's tools against their definitions."""

    def __init__(self, server: str, log: ServerLog) -> None:
        self._server = server
        self._log = log
        self._validators: dict[str, tuple[object, Validator]] = {}

    def passthrough(self, tool: str, definition: WireDict | None, raw: dict[str, Any]) -> WireDict:
        """`content, structuredContent, isError, _meta` of a valid answer; raises McpServerError otherwise."""
        try:
            result = types.CallToolResult.model_validate(raw, by_name=False)
        except ValidationError:
            raise self.invalid_answer(tool) from None
        schema = definition.get("outputSchema") if definition is not None else None
        if schema is not None and not result.is_error:
            if result.structured_content is None:
                raise self.invalid_answer(tool, "no structured content, which its output schema requires")
            error = self._validator(tool, schema).iter_errors(result.structured_content)
            if (first := next(error, None)) is not None:
                self._log.append(f"[app-server] `{tool}` answered off its output schema: {first.message}")
                raise self.invalid_answer(tool, "structured content that does not match its output schema")
        dumped = result.model_dump(by_alias=True, exclude_none=True, mode="json")
        return {key: dumped[key] for key in PASSTHROUGH_FIELDS if key in dumped}

    def _validator(self, tool: str, schema: Any) -> Validator:
        cached = self._validators.get(tool)
        if cached is not None and cached[0] is schema:
            return cached[1]
        validator_class = validator_for(schema)
        try:
            validator_class.check_schema(schema)
        except SchemaError:
            raise McpServerError(
                f"MCP server `{self._server}` declares an invalid output schema for `{tool}`"
            ) from None
        # An empty registry: `$ref`s resolve within the schema, never by fetching.
        validator = validator_class(schema, registry=Registry())
        self._validators[tool] = (schema, validator)
        return validator

    def invalid_answer(self, tool: str, what: str = "an invalid result") -> McpServerError:
        return McpServerError(f"MCP server `{self._server}` answered `{tool}` with {what}")
