"""One connection to one MCP server (stdio or streamable HTTP), owned by one supervisor task for its life.

The supervisor enters the SDK `Client` in its automatic mode (a `server/discover` probe: the
stateless 2026-07-28 era when the server speaks it, else the initialize handshake), lists the
catalog, then waits for a stop request, a list change (re-list) or the child's exit; the SDK's
cancel scopes are therefore entered and exited in the same task. A list change is a
`list_changed` notification in the handshake era, an event of a `subscriptions/listen` stream
the supervisor keeps open in the 2026 era (`changes`). Startup (spawn or connect,
the handshake or the probe, the first listing) is bounded by `startup_timeout_sec`: at the
deadline a timer task reports `failed` and cancels the scope that encloses the whole life, whose
teardown (the child stopped and reaped) the supervisor then runs; the report does not wait for
it. Calls are made from the callers' own tasks, bounded by `tool_timeout_sec` (whose clock stops
while a question is open on a call's behalf); when the connection stops, its in-flight calls
fail (leases prevent that for a generation still in use).
Tool calls to a stdio child in the handshake era are written to it directly (`direct_requests`),
others go through the SDK (in the 2026 era, in rounds until the server stops asking for input:
`input_rounds`); either way the result is checked by `tool_results` before it is passed on.
The server's questions (`elicitation/create`, or a call's input requests) go to the in-flight
calls through `elicitation`; its `roots/list` is answered with the scope's working directory
(`roots`) and its log messages go to its log and stderr (`server_logging`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, cast
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp_types as types
from mcp.client import Client
from mcp.client._input_required import InputRequiredRoundsExceededError
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import Subscription
from mcp.shared.dispatcher import CallOptions, ProgressFnT
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.errors import AppServerError, InvalidParams, McpServerError, RequestFailed, quoted
from app_server.mcp.catalog import ServerCatalog, WireDict, fetch_catalog
from app_server.mcp.changes import follow, subscribed
from app_server.mcp.elicitation import CallBudget, ElicitationRouter, Elicitor
from app_server.mcp.input_rounds import call_tool_in_rounds
from app_server.mcp.oauth.challenge import parse_challenge
from app_server.mcp.roots import roots_answer
from app_server.mcp.server_log import ServerLog
from app_server.mcp.server_logging import log_receiver, request_level
from app_server.mcp.stdio.child_registry import ChildRegistry
from app_server.mcp.stdio.process import DEFAULT_MAX_MESSAGE_BYTES, LaunchSpec, StdioChild, child_environment
from app_server.mcp.tasks import RawRequest, call_as_task, requires_task
from app_server.mcp.tool_results import ToolResultCheck

logger = logging.getLogger(__name__)

ServerConfig = StdioServerConfig | HttpServerConfig
ConnectionState = Literal["starting", "ready", "failed", "cancelled"]
AuthProvider = Callable[[str, HttpServerConfig], httpx2.Auth | None]
ProgressCallback = ProgressFnT
"""`async (progress, total, message) -> None`."""
CLIENT_INFO = types.Implementation(name="app-server", version="0.1.0")
FAILURE_LOG_LINES = 20


@dataclass(frozen=True)
class RuntimeContext:
    """What a generation's connections depend on besides their config; a change restarts them."""

    cwd: Path | None = None
    """The thread's working directory (stdio servers without their own `cwd` start there)."""


def http_origin(url: str) -> str | None:
    """`scheme://host[:port]` of a URL: no credentials, path, query or fragment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _root_cause(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class McpConnection:
    """A live (or starting, or failed) connection to one server; see the module docstring."""

    connect_mode: ClassVar[Literal["auto", "legacy"]] = "auto"
    """The SDK's era negotiation; `legacy` (the handshake alone) is what bench/bench_eras.py compares."""

    def __init__(
        self,
        name: str,
        config: ServerConfig,
        context: RuntimeContext,
        *,
        registry: ChildRegistry | None = None,
        auth_for: AuthProvider | None = None,
        on_state: Callable[[McpConnection], None] | None = None,
        on_catalog_changed: Callable[[McpConnection], None] | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        connection_id: str = "",
    ) -> None:
        self.name = name
        self.connection_id = connection_id
        """Names this connection (its process) in status and views, unique in the daemon."""
        self.config = config
        self.context = context
        self.state: ConnectionState = "starting"
        self.error: str | None = None
        self.auth_required = False
        self.missing_scope: str | None = None
        """The scope a 403 `insufficient_scope` asked for, until the next call error reports it."""
        self.catalog: ServerCatalog | None = None
        self.server_info: WireDict | None = None
        self.server_capabilities: WireDict | None = None
        self.protocol_version: str | None = None
        """Negotiated as the client connects: a 2026 version (the stateless era) or a handshake-era one."""
        self.log = ServerLog()
        self._tool_results = ToolResultCheck(name, self.log)
        self.pid: int | None = None
        self.settled = anyio.Event()
        """Set once startup ended: ready, failed or cancelled."""
        self.closed = anyio.Event()
        """Set once the connection is fully closed (child reaped)."""
        self.holders = 0
        """How many generations hold this connection; the last one to let go stops it."""
        self._registry = registry
        self._auth_for = auth_for
        self._on_state = on_state
        self._on_catalog_changed = on_catalog_changed
        self._max_message_bytes = max_message_bytes
        self._client: Client | None = None
        self._life = anyio.CancelScope()
        self._wake = anyio.Event()
        self._stop_requested = False
        self._relist_requested = False
        self._child: StdioChild | None = None
        self._elicitations = ElicitationRouter(self.log)

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def stop(self) -> None:
        """Ask the supervisor to close the connection (returns at once; await `closed` to know it is done)."""
        self._stop_requested = True
        if self.state == "starting":
            self._life.cancel()
        self._wake.set()

    async def run(self) -> None:
        """The supervisor: the only task that enters and exits this connection's SDK client.

        A startup cut short (deadline, garbage on stdout) is reported `failed` at that moment, by
        `_abandon_startup`; the teardown that follows (the child stopped and reaped) runs here.
        """
        try:
            async with anyio.create_task_group() as tg:
                deadline = anyio.CancelScope()
                tg.start_soon(self._time_out_startup, deadline)
                try:
                    with self._life:
                        async with self._open_client() as client, self._subscribed(client) as changes:
                            catalog = await fetch_catalog(client, self.name, self.config)
                            if self.state != "starting":
                                return  # abandoned as the catalog came in: torn down on the way out
                            deadline.cancel()
                            self._become_ready(client, catalog)
                            await self._serve(client, changes)
                finally:
                    deadline.cancel()
        except Exception as exc:
            if self.state != "failed":  # an abandoned startup has said why already
                self._fail(self._describe(_root_cause(exc)))
        finally:
            self._client = None
            if self.state == "starting":
                self._set_state("cancelled", None)
            self.settled.set()
            if self.state == "failed":
                self._log_failure()
            self.closed.set()

    async def _time_out_startup(self, deadline: anyio.CancelScope) -> None:
        with deadline:
            await anyio.sleep(self.config.startup_timeout_sec)
            timeout = self.config.startup_timeout_sec
            self._abandon_startup(
                f"MCP client for `{self.name}` timed out after {timeout:g} seconds. Add or adjust "
                f"`startup_timeout_sec` in your config.toml for `[mcp_servers.{self.name}]`."
            )

    def _abandon_startup(self, error: str) -> None:
        """Report `failed` now (settling the waiters) and cut the startup short; `run` tears it down."""
        if self.state == "starting" and not self._stop_requested:
            self._set_state("failed", error)
            self._life.cancel()

    @contextlib.asynccontextmanager
    async def _open_client(self) -> AsyncIterator[Client]:
        async with contextlib.AsyncExitStack() as stack:
            if isinstance(self.config, StdioServerConfig):
                self._child = StdioChild(
                    self._launch_spec(self.config),
                    log=self.log,
                    registry=self._registry,
                    on_garbage=self._on_garbage,
                    max_message_bytes=self._max_message_bytes,
                )
                transport: Any = self._child
            else:
                http = await stack.enter_async_context(self._http_client(self.config))
                transport = streamable_http_client(self.config.url, http_client=http)
            client = Client(
                transport,
                mode=self.connect_mode,
                cache=None,
                log_level=self.config.log_level,
                client_info=CLIENT_INFO,
                message_handler=self._on_message,
                elicitation_callback=self._elicitations.answer,
                list_roots_callback=roots_answer(self.context.cwd or Path.cwd()),
                logging_callback=log_receiver(self.name, self.log),
            )
            entered = await stack.enter_async_context(client)
            self.protocol_version = entered.protocol_version
            await request_level(entered, self.config.log_level, self.log)
            yield entered

    def _launch_spec(self, config: StdioServerConfig) -> LaunchSpec:
        cwd = config.cwd or self.context.cwd or Path.home()
        environment = child_environment(config.env, config.env_vars)
        return LaunchSpec(config.command, config.args, environment, cwd, self.name)

    def _http_client(self, config: HttpServerConfig) -> httpx2.AsyncClient:
        headers = dict(config.http_headers)
        for header, variable in config.env_http_headers.items():
            if value := os.environ.get(variable):
                headers[header] = value
        if config.bearer_token_env_var is not None:
            token = os.environ.get(config.bearer_token_env_var)
            if not token:
                raise RequestFailed(
                    f"environment variable `{config.bearer_token_env_var}` for MCP server `{self.name}` "
                    "is not set"
                )
            headers["Authorization"] = f"Bearer {token}"
        auth = self._auth_for(self.name, config) if self._auth_for is not None else None

        async def note_status(response: httpx2.Response) -> None:
            if response.status_code == 401:
                self.auth_required = True
            challenge = parse_challenge(response)
            if challenge is not None and challenge.insufficient_scope:
                self.missing_scope = challenge.scope or ""

        return httpx2.AsyncClient(
            headers=headers,
            auth=auth,
            timeout=httpx2.Timeout(30.0, read=300.0),
            event_hooks={"response": [note_status]},
        )

    def _become_ready(self, client: Client, catalog: ServerCatalog) -> None:
        self._client = client
        self.catalog = catalog
        self.pid = self._child.pid if self._child is not None else None
        info = client.server_info
        self.server_info = info.model_dump(by_alias=True, exclude_none=True, mode="json") if info else None
        self.server_capabilities = client.server_capabilities.model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        self._set_state("ready", None)

    @property
    def stateless_era(self) -> bool:
        """Whether the connection speaks the 2026-07-28 era (no server requests, no notifications
        outside a call or a subscription)."""
        return self.protocol_version in MODERN_PROTOCOL_VERSIONS

    def _subscribed(self, client: Client) -> contextlib.AbstractAsyncContextManager[Subscription | None]:
        """The 2026 era's change subscription (`changes`), open before the first listing."""
        if not self.stateless_era:
            return contextlib.nullcontext()
        return subscribed(client, self.log)

    async def _serve(self, client: Client, changes: Subscription | None) -> None:
        async with anyio.create_task_group() as tg:
            if self._child is not None:
                tg.start_soon(self._wake_on_exit, self._child)
            if changes is not None:
                tg.start_soon(follow, client, changes, self._request_relist, self.log)
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                if self.stopping:
                    break
                if self._child is not None and self._child.exited.is_set():
                    self._client = None
                    self._fail(f"MCP server `{self.name}` exited")
                    break
                if self._relist_requested:
                    self._relist_requested = False
                    await self._relist(client)
            tg.cancel_scope.cancel()

    async def _wake_on_exit(self, child: StdioChild) -> None:
        await child.exited.wait()
        self._wake.set()

    def _request_relist(self) -> None:
        self._relist_requested = True
        self._wake.set()

    async def _relist(self, client: Client) -> None:
        with anyio.move_on_after(self.config.startup_timeout_sec):
            try:
                self.catalog = await fetch_catalog(client, self.name, self.config)
            except (MCPError, McpServerError, ValidationError):
                self.log.append("[app-server] re-listing after list_changed failed; the old catalog stays")
                return
            if self._on_catalog_changed is not None:
                self._on_catalog_changed(self)

    async def _on_message(self, message: Any) -> None:
        """The handshake era's list changes; in the 2026 era the subscription's events also come
        through here as notifications, and `changes` has them already."""
        if self.stateless_era:
            return
        if isinstance(message, types.ToolListChangedNotification | types.ResourceListChangedNotification):
            self._request_relist()

    def _log_failure(self) -> None:
        """The daemon's log (never the wire) gets the reason and the last lines the server wrote."""
        tail = self.log.lines()[-FAILURE_LOG_LINES:]
        written = "; the last lines it wrote:" + "".join(f"\n    {line}" for line in tail) if tail else ""
        logger.warning("%s%s", self.error, written)

    def _on_garbage(self) -> None:
        self._abandon_startup(f"MCP server `{self.name}` wrote output to stdout that is not JSON-RPC")

    def _set_state(self, state: ConnectionState, error: str | None) -> None:
        self.state = state
        self.error = error
        if state != "starting":
            self.settled.set()
        if self._on_state is not None:
            self._on_state(self)

    def _fail(self, error: str) -> None:
        if self.state in ("starting", "ready"):
            self._set_state("failed", error)

    def _describe(self, exc: BaseException) -> str:
        """A readable reason with no third-party exception text, path or secret in it."""
        name = self.name
        if isinstance(exc, AppServerError):
            return exc.message
        if isinstance(exc, FileNotFoundError):
            return f"MCP server `{name}` could not be launched: command not found"
        if isinstance(exc, PermissionError):
            return f"MCP server `{name}` could not be launched: permission denied"
        if self.auth_required:
            return f"MCP server `{name}` requires authentication"
        if isinstance(exc, MCPError):
            if self._child is not None and self._child.exited.is_set():
                return f"MCP server `{name}` exited during startup"
            return f"MCP server `{name}` failed to initialize: {exc.message}"
        if isinstance(exc, httpx2.TransportError | httpx2.HTTPStatusError) and isinstance(
            self.config, HttpServerConfig
        ):
            return f"MCP server `{name}` could not be reached at {http_origin(self.config.url)}"
        logger.warning("MCP server %s failed to start", name, exc_info=exc)
        return f"MCP server `{name}` failed to start"

    # ---- requests ----------------------------------------------------------------------------

    async def wait_settled(self) -> None:
        """Until startup has finished; once it has, returns without yielding to the event loop
        (every call and read passes here, and a needless yield costs a loop turn each time)."""
        if not self.settled.is_set():
            await self.settled.wait()

    def _connected_client(self) -> Client:
        if self._client is None:
            reason = f": {self.error}" if self.error else ""
            raise RequestFailed(f"MCP server `{self.name}` is not connected{reason}")
        return self._client

    async def call_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        elicit: Elicitor | None = None,
    ) -> WireDict:
        """Call a tool by its raw name; returns `content, structuredContent, isError, _meta` as sent.

        `elicit` answers the server's elicitations while the call is in flight (module docstring).
        A tool whose `execution.taskSupport` is `"required"` runs as a task (`tasks`).

        Raises InvalidParams when the tool is filtered out, McpServerError for an error answered by
        the server (its code, message and data), RequestFailed on timeout or a lost connection.
        """
        if not self.config.tool_allowed(tool):
            raise InvalidParams(f"tool '{quoted(tool)}' is disabled for MCP server '{self.name}'")
        client = self._connected_client()
        params: dict[str, Any] = {"name": tool}
        if arguments is not None:
            params["arguments"] = dict(arguments)
        if meta is not None:
            params["_meta"] = dict(meta)
        definition = self.catalog.tools.get(tool) if self.catalog is not None else None
        budget = CallBudget(self.config.tool_timeout_sec)
        try:
            with budget.scope, self._elicitations.routed_to(elicit, budget):
                if requires_task(definition):
                    raw = await self._call_as_task(client, params, progress)
                else:
                    raw = await self._send_tool_call(client, params, progress)
        except MCPError as exc:
            raise self._call_error(exc, f"tool `{tool}`") from None
        except ValidationError:
            raise self._tool_results.invalid_answer(tool) from None
        except InputRequiredRoundsExceededError:
            raise RequestFailed(
                f"MCP server `{self.name}` kept asking for input on tool `{tool}`: the call was given up"
            ) from None
        if budget.scope.cancelled_caught:
            raise self._timeout_error(f"calling tool `{tool}`")
        return self._tool_results.passthrough(tool, definition, raw)

    async def _call_as_task(
        self, client: Client, params: dict[str, Any], progress: ProgressCallback | None
    ) -> dict[str, Any]:
        """A required-task tool's call (`tasks`), on the raw path: the stdio child's direct requests,
        else the SDK's dispatcher (its typed `tools/call` refuses the `CreateTaskResult` answer)."""
        if self._child is not None and self._child.requests is not None:
            requests = self._child.requests
            send: RawRequest = requests.request
            token: str | None = requests.new_token()
        else:
            send, token = _dispatcher_requests(client), None
        return await call_as_task(
            send, self.name, params, self.server_capabilities, progress=progress, progress_token=token
        )

    async def _send_tool_call(
        self, client: Client, params: dict[str, Any], progress: ProgressCallback | None
    ) -> dict[str, Any]:
        """The raw result: written straight to a stdio child (`direct_requests`), else through the SDK."""
        if self.stateless_era:
            return await call_tool_in_rounds(client, params, progress)
        if self._child is not None and self._child.requests is not None:
            return await self._child.requests.request("tools/call", params, on_progress=progress)
        result = await client.session.send_request(
            types.CallToolRequest(params=types.CallToolRequestParams.model_validate(params)),
            types.CallToolResult,
            progress_callback=progress,
        )
        return result.model_dump(by_alias=True, exclude_none=True, mode="json")

    async def read_resource(self, uri: str, *, meta: Mapping[str, Any] | None = None) -> WireDict:
        """Read one resource, passing its `_meta` on; returns `{contents}`. Raises like `call_tool`."""
        client = self._connected_client()
        try:
            with anyio.fail_after(self.config.tool_timeout_sec), self._elicitations.routed_to(None, None):
                result = await client.read_resource(uri, meta=_request_meta(meta))
        except TimeoutError:
            raise self._timeout_error(f"reading `{uri}`") from None
        except MCPError as exc:
            raise self._call_error(exc, f"reading `{uri}`") from None
        except ValidationError:
            raise McpServerError(f"MCP server `{self.name}` answered with an invalid resource") from None
        dumped = result.model_dump(by_alias=True, exclude_none=True, mode="json")
        return {"contents": dumped.get("contents", [])}

    def _timeout_error(self, what: str) -> RequestFailed:
        return RequestFailed(
            f"MCP server `{self.name}` timed out {what} after {self.config.tool_timeout_sec:g} seconds. "
            f"Add or adjust `tool_timeout_sec` in your config.toml for `[mcp_servers.{self.name}]`."
        )

    def _call_error(self, exc: MCPError, what: str) -> AppServerError:
        if self.missing_scope is not None:
            scope, self.missing_scope = self.missing_scope, None
            return RequestFailed(
                f"MCP server `{self.name}` refused {what}: it requires the OAuth scope `{quoted(scope)}` "
                f"(insufficient_scope); log in again (mcpServer/oauth/login) to grant it"
            )
        if exc.code == types.CONNECTION_CLOSED and exc.message == "Connection closed":
            return RequestFailed(f"MCP server `{self.name}` closed the connection during {what}")
        return McpServerError(exc.message, code=exc.code, data=exc.data)


def _dispatcher_requests(client: Client) -> RawRequest:
    """Raw requests through the SDK session's dispatcher (HTTP); progress only on a request's own token."""
    dispatcher = client.session._dispatcher

    async def send(
        method: str,
        params: Mapping[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
        progress_token: str | None = None,
    ) -> dict[str, Any]:
        options: CallOptions = {} if on_progress is None else {"on_progress": on_progress}
        return await dispatcher.send_raw_request(method, params, options)

    return send


def _request_meta(meta: Mapping[str, Any] | None) -> types.RequestParamsMeta | None:
    return cast(types.RequestParamsMeta, dict(meta)) if meta is not None else None
