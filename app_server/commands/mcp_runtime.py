"""`app-server mcp list|get|login|logout`: the live state of MCP servers and their OAuth logins, from a shell.

`list` and `get` start the effective servers in this process, as the daemon's app level would,
wait for each to settle (bounded by its startup timeout), report and stop them. `login` runs
one OAuth login with the daemon's credential store and settings; `logout` only deletes stored
credentials and starts nothing. `-c key=value` given before `mcp` applies to all four.

Exit codes: 0 done, 1 the operation failed (one line on stderr), 2 usage error. `logout` of a
server without stored credentials says so and exits 0: the wanted state already holds.
Everything heavy (the mcp SDK, the core, rich) is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app_server.errors import AppServerError, RequestFailed
from app_server.home import home_dir

if TYPE_CHECKING:
    from app_server.config.servers import HttpServerConfig
    from app_server.core import AppCore
    from app_server.mcp_core import McpCore
    from protocol.views import McpServerViewEntry

EXIT_OK = 0
EXIT_FAILED = 1
NO_VALUE = "-"

Handler = Callable[[argparse.Namespace], int]


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `list`, `get`, `login` and `logout` to the `mcp` group (see `mcp_config.register`)."""
    listing = commands.add_parser(
        "list",
        help="show every server with its state, auth status and tool count",
        description="Start the effective servers, wait for each to connect or fail, and show them "
        "(servers configured but gated out of the effective view are listed as excluded).",
    )
    listing.add_argument("--json", action="store_true", help="print the mcpServerStatus/list entries")
    listing.set_defaults(func=_reporting_errors(_list))

    get = commands.add_parser(
        "get",
        help="show one server: config (secrets redacted), state, tools, auth status",
        description="Start one server, wait for it to connect or fail, and show its details.",
    )
    get.add_argument("server_name", metavar="NAME")
    get.add_argument("--json", action="store_true", help="print the details as JSON")
    get.set_defaults(func=_reporting_errors(_get))

    login = commands.add_parser(
        "login",
        help="log in to a streamable HTTP server with OAuth",
        description="Print the authorization URL (and open a browser when one is available), "
        "wait for the authorization to come back, and store the tokens.",
    )
    login.add_argument("server_name", metavar="NAME")
    login.add_argument(
        "--scopes", type=_scopes, metavar="A,B", help="scopes to request (default: the configured ones)"
    )
    login.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="SECS",
        help="how long to wait for the authorization (default 300)",
    )
    login.add_argument("--no-browser", action="store_true", help="only print the URL")
    login.set_defaults(func=_reporting_errors(_login))

    logout = commands.add_parser(
        "logout",
        help="delete a server's stored OAuth credentials",
        description="Delete the stored OAuth tokens and client registration of a server.",
    )
    logout.add_argument("server_name", metavar="NAME")
    logout.set_defaults(func=_reporting_errors(_logout))


def _scopes(text: str) -> list[str]:
    return [scope.strip() for scope in text.split(",") if scope.strip()]


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _reporting_errors(handler: Handler) -> Handler:
    """Domain errors and Ctrl-C become one stderr line and exit code 1, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        # Failures are reported in the output; log lines would only repeat them (the mcp SDK's with
        # a traceback, for errors it also raises).
        logging.getLogger().setLevel(logging.ERROR)
        logging.getLogger("mcp").setLevel(logging.CRITICAL)
        exit_code = EXIT_FAILED
        try:
            exit_code = handler(args)
        except* AppServerError as group:  # possibly raised inside a task group
            for error in group.exceptions:
                assert isinstance(error, AppServerError)
                _fail(args, error.message)
        except* KeyboardInterrupt:
            _fail(args, "cancelled")
        return exit_code

    return run


def _fail(args: argparse.Namespace, message: str) -> None:
    print(f"app-server mcp {args.mcp_command}: error: {message}", file=sys.stderr)


def _unknown(name: str) -> RequestFailed:
    return RequestFailed(f"No MCP server named '{name}' found.")


def _build_core(args: argparse.Namespace) -> tuple[AppCore, McpCore]:
    """The daemon's core and its MCP half for this home and `-c` overrides, not yet running.

    Raises ConfigError: the core itself would start with no servers rather than fail.
    """
    from app_server.config.loader import load_config
    from app_server.core import AppCore
    from app_server.events import EventBus

    home = home_dir()
    overrides: tuple[str, ...] = tuple(args.config_overrides)
    load_config(home, cli_overrides=overrides)
    core = AppCore(home, EventBus(), cli_overrides=overrides)
    return core, core.new_mcp_core(core.open_credentials())


# -- list and get ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Report:
    """One server as the views and (when it is effective) its live connection show it."""

    view: McpServerViewEntry
    """Its entry in the effective view, else in the configured one."""
    status: dict[str, Any] | None
    """Its `mcpServerStatus/list` entry; None when it is not in the effective view."""

    @property
    def state(self) -> str:
        return str(self.status["runtimeStatus"]) if self.status is not None else "excluded"


async def _inspect(args: argparse.Namespace, only: str | None) -> list[_Report]:
    """Start the effective servers (or just `only`), wait until each settled, and report on them.

    Raises RequestFailed when `only` names no server in any view, ConfigError for a broken config.
    """
    import anyio

    from app_server.mcp.client import RuntimeContext

    core, mcp = _build_core(args)
    snapshot = core.views_snapshot()
    views: dict[str, McpServerViewEntry] = {}
    for entry in [*snapshot.configured, *snapshot.effective]:
        views[entry.name] = entry  # the effective entry wins; the configured one shows what was gated out
    if only is not None and only not in views:
        raise _unknown(only)
    scope = mcp.scopes.effective(core.configs.current)
    servers = {name: config for name, config in scope.servers.items() if only in (None, name)}
    async with anyio.create_task_group() as tg:
        await tg.start(mcp.manager.run)
        cell = mcp.manager.open_cell(servers, RuntimeContext(), plugin_ids=scope.plugin_ids)
        with cell.lease() as runtime:
            await runtime.wait_started()
        entries = [entry.to_wire() for entry in (await mcp.manager.status(cell))[0]]
        tg.cancel_scope.cancel()
    statuses = {status["name"]: status for status in entries}
    return [
        _Report(view=views[name], status=statuses.get(name))
        for name in sorted(views, key=str.encode)
        if only in (None, name)
    ]


def _list(args: argparse.Namespace) -> int:
    import anyio

    reports = anyio.run(_inspect, args, None)
    if args.json:
        print(json.dumps([report.status for report in reports if report.status is not None], indent=2))
        return EXIT_OK
    if not reports:
        print("No MCP servers configured. Add one with `app-server mcp add`.")
        return EXIT_OK
    rows = [
        [
            report.view.name,
            report.view.transport,
            report.state,
            str(report.status["authStatus"]) if report.status is not None else NO_VALUE,
            str(len(report.status["tools"])) if report.state == "connected" and report.status else NO_VALUE,
        ]
        for report in reports
    ]
    _print_table(["NAME", "TRANSPORT", "STATE", "AUTH", "TOOLS"], rows)
    for report in reports:
        error = report.status.get("toolsError") if report.status is not None else None
        if error and report.state != "connected":
            print(f"{report.view.name}: {error}")
    return EXIT_OK


def _get(args: argparse.Namespace) -> int:
    import anyio

    (report,) = anyio.run(_inspect, args, args.server_name)
    if args.json:
        print(json.dumps({**report.view.to_wire(), "status": report.status}, indent=2))
        return EXIT_OK
    for line in _detail_lines(report):
        print(line)
    return EXIT_OK


def _detail_lines(report: _Report) -> list[str]:
    view, status = report.view, report.status
    provenance = view.provenance
    where = ", ".join(part for part in (provenance.file, provenance.key, provenance.plugin_id) if part)
    lines = [
        view.name,
        f"  state: {report.state}",
        f"  transport: {view.transport}",
        f"  auth: {status['authStatus'] if status is not None else NO_VALUE}",
        f"  source: {provenance.source}" + (f" ({where})" if where else ""),
    ]
    if provenance.gating:
        lines.append(f"  gating: {provenance.gating}")
    if status is not None and status.get("toolsError") and report.state != "connected":
        lines.append(f"  error: {status['toolsError']}")
    lines.append("  config:")
    lines.extend(
        f"    {key}: {json.dumps(value)}" for key, value in view.config.items() if value not in (None, [], {})
    )
    tools: dict[str, Any] = status["tools"] if status is not None else {}
    lines.append(f"  tools ({len(tools)}):" if tools else "  tools: none")
    for name in sorted(tools, key=str.encode):
        description = " ".join(str(tools[name].get("description") or "").split())
        lines.append(f"    {name}" + (f"  {description}" if description else ""))
    return lines


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; plain columns (no colour, no trailing spaces) otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in [headers, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# -- login and logout ------------------------------------------------------------------------------


def _http_server(core: AppCore, mcp: McpCore, name: str, action: str) -> HttpServerConfig:
    """The effective HTTP config of `name`.

    Raises RequestFailed for an unknown server or a stdio one.
    """
    from app_server.config.servers import HttpServerConfig

    config = mcp.scopes.effective(core.configs.current).servers.get(name)
    if config is None:
        raise _unknown(name)
    if not isinstance(config, HttpServerConfig):
        raise RequestFailed(f"OAuth {action} is only supported for streamable HTTP servers.")
    return config


def _login(args: argparse.Namespace) -> int:
    import anyio

    error = anyio.run(_run_login, args)
    if error is not None:
        raise RequestFailed(error)
    print(f"Successfully logged in to MCP server '{args.server_name}'.")
    return EXIT_OK


async def _run_login(args: argparse.Namespace) -> str | None:
    """Run one login to its end; returns None on success, else the reason it failed.

    Raises RequestFailed when the login cannot start (unknown or stdio server, no OAuth, unreachable).
    """
    import anyio

    from app_server.events import EventBus
    from app_server.mcp.oauth.credentials import open_credential_store
    from app_server.mcp.oauth.login import LoginSettings
    from app_server.mcp.oauth.service import OAuthService
    from protocol.notifications import McpServerOauthLoginCompletedNotification
    from protocol.registry import method_of

    core, mcp = _build_core(args)
    config = _http_server(core, mcp, args.server_name, "login")
    completion: dict[str, Any] = {}
    completed = anyio.Event()

    def on_event(method: str, params: dict[str, Any]) -> None:
        if method == method_of(McpServerOauthLoginCompletedNotification):
            completion.update(params)
            completed.set()

    events = EventBus()
    events.subscribe(on_event)
    service = OAuthService(
        events,
        open_credential_store(core.configs.current.mcp_oauth_credentials_store, core.home),
        LoginSettings.from_config(core.configs.current),
    )
    async with anyio.create_task_group() as tg:
        await tg.start(service.run)
        started = await service.start_login(
            args.server_name, config, scopes=args.scopes, timeout_secs=args.timeout
        )
        url = started.authorization_url
        print(f"Authorize MCP server '{args.server_name}' by opening this URL in a browser:", flush=True)
        print(url, flush=True)
        if not args.no_browser and browser_available():
            import webbrowser

            await anyio.to_thread.run_sync(webbrowser.open, url)
        await completed.wait()  # the service reports every login's end, a timeout included
        tg.cancel_scope.cancel()
    return None if completion["success"] else str(completion.get("error") or "the login failed")


def browser_available() -> bool:
    """Whether opening a browser can work: not on CI, and on X11/Wayland systems only with a display."""
    if os.environ.get("CI"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _logout(args: argparse.Namespace) -> int:
    from app_server.mcp.oauth.credentials import delete_credentials, open_credential_store

    core, mcp = _build_core(args)
    name: str = args.server_name
    config = _http_server(core, mcp, name, "logout")
    store = open_credential_store(core.configs.current.mcp_oauth_credentials_store, core.home)
    if delete_credentials(store, name, config.url):
        print(f"Removed OAuth credentials for '{name}'.")
    else:
        print(f"No OAuth credentials stored for '{name}'.")
    return EXIT_OK
