"""`app-server mcp add|remove|import`: edit the `[mcp_servers]` of `<home>/config.toml` from a shell.

Exit codes: 0 done, 1 the operation failed, 2 usage error. Errors go to stderr as one line.
The config modules are imported inside the handlers so that registering these commands costs
the daemon's startup nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app_server.errors import AppServerError, InvalidParams
from app_server.home import home_dir

if TYPE_CHECKING:
    from app_server.config.editing.importing import ImportPlan
    from app_server.config.servers import McpServerConfig

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
CONFIG_FILE = "config.toml"
_IMPORT_SOURCES = ("auto", "codex", "claude", "vscode", "cursor")

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """Usage errors (unknown arguments too) as one line; with `trailing_dest` set, the words after
    `--` become that list.

    argparse cannot take `NAME [options] -- CMD ARGS...` with a `*` positional (it binds the
    positionals before reading the options after NAME), so the part after `--` is split off first.
    """

    trailing_dest: str | None = None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        split = words.index("--") if "--" in words and self.trailing_dest else len(words)
        parsed, extras = super().parse_known_args(words[:split], namespace)
        if extras:  # reported here, in one line, rather than by the top-level parser
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        if self.trailing_dest:
            setattr(parsed, self.trailing_dest, words[split + 1 :])
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[_Parser]:
    """Add `mcp` with `add`, `remove` and `import`; each sets `func(args) -> exit code`.

    Returns the `mcp` subcommand group so other commands (`list`, `login`, ...) can join it.
    """
    mcp = subparsers.add_parser(
        "mcp",
        help="manage the MCP servers in config.toml",
        description="Manage the MCP servers in config.toml.",
    )
    commands: argparse._SubParsersAction[_Parser] = mcp.add_subparsers(
        dest="mcp_command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    _register_add(commands)
    _register_remove(commands)
    _register_import(commands)
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (the words after `app-server`) and run the chosen `mcp` command."""
    parser = argparse.ArgumentParser(prog="app-server")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    handler: Handler = args.func
    return handler(args)


def config_path() -> Path:
    """The config file these commands edit."""
    return home_dir() / CONFIG_FILE


# -- add -------------------------------------------------------------------------------------------


def _register_add(commands: argparse._SubParsersAction[_Parser]) -> None:
    add = commands.add_parser(
        "add",
        help="add a server",
        usage="%(prog)s NAME [--env K=V]... [--env-var VAR]... [--cwd DIR] [--force] -- CMD [ARGS...]\n"
        "       %(prog)s NAME --url URL [--bearer-token-env-var VAR] [--header K=V]... [--force]",
        description="Add a stdio server (the command after `--`) or a streamable HTTP server (--url).",
        epilog="example: app-server mcp add docs --env-var DOCS_TOKEN -- npx -y @acme/docs-mcp",
    )
    add.trailing_dest = "server_command"
    add.add_argument("server_name", metavar="NAME", help="server name: letters, digits, `_` and `-`")
    stdio = add.add_argument_group("stdio server")
    stdio.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="set a variable (repeatable)"
    )
    stdio.add_argument(
        "--env-var",
        action="append",
        default=[],
        metavar="VAR",
        help="pass a variable of the daemon's environment through (repeatable)",
    )
    stdio.add_argument("--cwd", metavar="DIR", help="working directory of the server process")
    http = add.add_argument_group("streamable HTTP server")
    http.add_argument("--url", help="the server's MCP endpoint")
    http.add_argument("--bearer-token-env-var", metavar="VAR", help="send `Authorization: Bearer $VAR`")
    http.add_argument(
        "--header", action="append", default=[], metavar="K=V", help="send a header (repeatable)"
    )
    add.add_argument("--force", action="store_true", help="replace a server of the same name")
    add.set_defaults(func=_reporting_errors(_add))


def _add(args: argparse.Namespace) -> int:
    from app_server.config.editing.edits import add_servers, validate_server_name

    name: str = args.server_name
    validate_server_name(name)
    config = _server_from_args(args)
    path = config_path()
    add_servers(path, {name: config}, replace=args.force)
    print(f"added server `{name}` ({config.transport}) to {path}")
    return EXIT_OK


def _server_from_args(args: argparse.Namespace) -> McpServerConfig:
    """The entry the flags describe, validated; InvalidParams when they do not describe exactly one."""
    from pydantic import ValidationError

    from app_server.config.servers import HttpServerConfig, StdioServerConfig

    command: list[str] = args.server_command
    if args.url is not None and command:
        raise InvalidParams("give either --url or a command after `--`, not both")
    fields: dict[str, Any]
    model: type[StdioServerConfig] | type[HttpServerConfig]
    if args.url is not None:
        if args.env or args.env_var or args.cwd:
            raise InvalidParams("--env, --env-var and --cwd apply to stdio servers, not to --url")
        if not args.url.startswith(("http://", "https://")):
            raise InvalidParams("--url must start with http:// or https://")
        model = HttpServerConfig
        fields = {"url": args.url, "http_headers": _pairs(args.header, "--header")}
        if args.bearer_token_env_var:
            fields["bearer_token_env_var"] = args.bearer_token_env_var
    elif command:
        if args.header or args.bearer_token_env_var:
            raise InvalidParams("--header and --bearer-token-env-var apply to --url servers")
        model = StdioServerConfig
        fields = {
            "command": command[0],
            "args": command[1:],
            "env": _pairs(args.env, "--env"),
            "env_vars": args.env_var,
        }
        if args.cwd:
            fields["cwd"] = Path(args.cwd).expanduser().resolve()
    else:
        raise InvalidParams("give the server's command after `--`, or --url")
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        problem = error.errors()[0]
        raise InvalidParams(f"invalid `{problem['loc'][0]}`: {problem['msg'].lower()}") from None


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, separator, item = value.partition("=")
        if not separator or not key:
            raise InvalidParams(f"{flag} expects KEY=VALUE, got `{value}`")
        pairs[key] = item
    return pairs


# -- remove ----------------------------------------------------------------------------------------


def _register_remove(commands: argparse._SubParsersAction[_Parser]) -> None:
    remove = commands.add_parser(
        "remove",
        help="remove a server",
        description="Remove a server from config.toml, keeping the rest as is.",
    )
    remove.add_argument("server_name", metavar="NAME")
    remove.set_defaults(func=_reporting_errors(_remove))


def _remove(args: argparse.Namespace) -> int:
    from app_server.config.editing.edits import remove_server

    path = config_path()
    remove_server(path, args.server_name)
    print(f"removed server `{args.server_name}` from {path}")
    return EXIT_OK


# -- import ----------------------------------------------------------------------------------------


def _register_import(commands: argparse._SubParsersAction[_Parser]) -> None:
    importer = commands.add_parser(
        "import",
        help="import servers from Codex, Claude Code, VS Code or Cursor",
        description="Import the MCP servers of another host's config file. Servers that cannot be "
        "mapped are skipped, each with its reason.",
        epilog="sources: a Codex config.toml, a Claude Code .mcp.json or ~/.claude.json, "
        "a VS Code mcp.json, a Cursor mcp.json",
    )
    importer.add_argument("path", metavar="PATH", type=Path, help="the file to import from")
    importer.add_argument(
        "--from",
        dest="source",
        choices=_IMPORT_SOURCES,
        default="auto",
        help="the file's host (default: auto)",
    )
    importer.add_argument(
        "--dry-run", action="store_true", help="report what would be imported; write nothing"
    )
    importer.add_argument("--force", action="store_true", help="replace servers of the same name")
    importer.add_argument(
        "--rename", action="append", default=[], metavar="OLD=NEW", help="import a server under another name"
    )
    importer.set_defaults(func=_reporting_errors(_import))


def _import(args: argparse.Namespace) -> int:
    from app_server.config.editing.importing import import_servers

    plan = import_servers(
        args.path,
        config_path(),
        args.source,
        dry_run=args.dry_run,
        force=args.force,
        renames=_pairs(args.rename, "--rename"),
    )
    for line in report_lines(plan, dry_run=args.dry_run):
        print(line)
    return EXIT_OK


def report_lines(plan: ImportPlan, *, dry_run: bool) -> list[str]:
    """One line per imported server (plus its notes) and one per skipped server with its reason."""
    verb = "would import" if dry_run else "imported"
    lines: list[str] = []
    for server in plan.imported:
        replaced = ", replacing the configured one" if server.replaces_existing else ""
        lines.append(f"{verb} `{server.name}` from {server.origin} ({server.config.transport}{replaced})")
        lines.extend(f"  note: {note}" for note in server.notes)
    lines.extend(f"skipped `{server.name}` from {server.origin}: {server.reason}" for server in plan.skipped)
    summary = f"{len(plan.imported)} {verb}, {len(plan.skipped)} skipped ({plan.source} source)"
    lines.append(summary + ("; dry run, nothing written" if dry_run else ""))
    return lines


def _reporting_errors(handler: Handler) -> Handler:
    """Domain errors become one stderr line and exit code 2 (bad input) or 1 (failed), never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except InvalidParams as error:
            print(f"app-server mcp {args.mcp_command}: error: {error.message}", file=sys.stderr)
            return EXIT_USAGE
        except AppServerError as error:
            print(f"app-server mcp {args.mcp_command}: error: {error.message}", file=sys.stderr)
            return EXIT_FAILED
        except OSError as error:
            reason = f"{error.strerror or 'I/O error'}: {error.filename}"
            print(f"app-server mcp {args.mcp_command}: error: {reason}", file=sys.stderr)
            return EXIT_FAILED

    return run


if __name__ == "__main__":
    sys.exit(main())
