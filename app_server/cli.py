"""The `app-server` command: serves stdio by default, or a loopback WebSocket or Unix socket with `--listen`.

Subcommands (`demo`, `mcp ...`) plug into `build_parser`'s subparsers, each setting its own
`func(args) -> exit code` default. Logging goes to stderr before anything else: stdout belongs
to the protocol.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app_server.commands import mcp_config, mcp_runtime
from app_server.demo import runner as demo_runner

if TYPE_CHECKING:
    from app_server.handshake import EarlyHandshake, EarlySignals

Command = Callable[[argparse.Namespace], int]

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Per-request lines of the HTTP stack carry URLs (which may hold query secrets) and add nothing.
    for noisy in ("httpx2", "httpcore2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args.func
    try:
        return command(args)
    except BrokenPipeError:
        # The reader went away (`app-server mcp list | head`): stop quietly, and point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="app-server",
        description="Codex app-server protocol v2; serves stdio unless --listen is given.",
    )
    parser.add_argument(
        "--listen",
        type=_listen_url,
        metavar="stdio:// | ws://HOST:PORT | unix://[PATH]",
        help=(
            "stdio:// (the default), or serve a WebSocket instead (loopback unless a token is set), "
            "or WebSocket over a Unix socket private to the user (default PATH: "
            "<home>/app-server-control/app-server-control.sock)"
        ),
    )
    parser.add_argument(
        "--ws-token-file", type=Path, metavar="FILE", help="file holding the WebSocket bearer token"
    )
    parser.add_argument(
        "--ws-auth",
        choices=["capability-token"],
        help="how WebSocket clients authenticate (Codex's flag): the token of --ws-token-file",
    )
    parser.add_argument(
        "--ws-allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an Origin allowed to connect (repeatable; default: requests carrying any Origin are refused)",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=_positive_int,
        metavar="N",
        help="largest accepted message (default 64 MiB)",
    )
    parser.add_argument(
        "-c",
        dest="config_overrides",
        action="append",
        default=[],
        type=_override,
        metavar="KEY=VALUE",
        help="override a config value (repeatable)",
    )
    parser.set_defaults(func=run_server)
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    mcp_runtime.register(mcp_config.register(subparsers))
    demo_runner.register(subparsers)
    return parser


def _listen_url(value: str) -> str | None:
    """`stdio://` means the default, stdio; anything else is a listener URL for the server."""
    return None if value == "stdio://" else value


def run_server(args: argparse.Namespace) -> int:
    if args.ws_auth is not None and args.ws_token_file is None:
        print("app-server: --ws-auth capability-token needs --ws-token-file", file=sys.stderr)
        return EXIT_USAGE
    token = None
    if args.ws_token_file is not None:
        try:
            token = args.ws_token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            print(f"app-server: cannot read --ws-token-file: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        if not token:
            print("app-server: --ws-token-file is empty", file=sys.stderr)
            return EXIT_USAGE
    # The daemon uses no pydantic plugins; looking for them reads every installed distribution's
    # metadata when the first model is built (~20 ms on the first `thread/start`).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Before importing the event-loop stack: see app_server.handshake.
    from app_server.handshake import EarlySignals, StopRequested, handshake_before_loop
    from app_server.home import home_dir
    from app_server.transport.base import DEFAULT_MAX_MESSAGE_BYTES

    max_message_bytes = args.max_message_bytes or DEFAULT_MAX_MESSAGE_BYTES
    signals = EarlySignals()
    early = None
    if args.listen is None:
        try:
            early = handshake_before_loop(0, 1, home_dir(), max_line_bytes=max_message_bytes)
        except StopRequested as stop:
            logging.getLogger(__name__).info("received %s; shutting down", stop)
            return 0
    signals.defer()
    return _serve(args, token, max_message_bytes, early, signals)


def _serve(
    args: argparse.Namespace,
    token: str | None,
    max_message_bytes: int,
    early: EarlyHandshake | None,
    signals: EarlySignals,
) -> int:
    import anyio

    from app_server.errors import AppServerError
    from app_server.server import ServerOptions, serve

    options = ServerOptions(
        listen=args.listen,
        ws_token=token,
        ws_allowed_origins=tuple(args.ws_allowed_origin),
        max_message_bytes=max_message_bytes,
        config_overrides=tuple(args.config_overrides),
    )
    exit_code = 0
    try:
        anyio.run(serve, options, early, signals)
    except* AppServerError as group:  # raised at startup, possibly from inside the task group
        for error in group.exceptions:
            print(f"app-server: {error}", file=sys.stderr)
        exit_code = EXIT_USAGE
    # The interpreter's last collections would walk every object of the MCP stack (~0.1 s, half
    # of a fast exit); nothing the daemon leaves needs collecting, so they are skipped.
    gc.freeze()
    return exit_code


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _override(text: str) -> str:
    key, sep, _ = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return text
