"""`app-server demo`: the daemon, an example MCP server and a scripted model, shown working together.

Nothing to set up: everything runs from a temporary home on loopback and is gone afterwards.
Exit codes: 0 the demo showed step 1 answered by runtime A and step 2 by runtime B after a reload,
1 it did not (the output says why), 130 interrupted. This module only parses arguments; the demo
itself (rich, the mcp SDK via the scripted model) is imported when it runs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_PROVEN = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

_DESCRIPTION = (
    "Start the daemon over stdio with a bundled example MCP server and a scripted model on loopback, "
    "then walk through initialize, server status, a thread whose turn calls a tool, a config reload "
    "during a model step (that step's call is answered by the old runtime, the next step's by the new "
    "one), and status again."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo` command; it sets `func(args) -> exit code`."""
    demo = subparsers.add_parser("demo", help="see the app-server at work, nothing to set up")
    _configure(demo)


def run_demo(argv: list[str] | None = None) -> int:
    """Parse `argv` (the words after `app-server demo`) and run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="app-server demo")
    _configure(parser)
    args = parser.parse_args(argv)
    return _run(args)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.description = _DESCRIPTION
    parser.set_defaults(func=_run)


def _run(_args: argparse.Namespace) -> int:
    import logging

    import anyio
    from rich.console import Console

    from app_server.demo.report import Report
    from app_server.demo.walkthrough import walk_through

    # The scripted model runs in this process; its uvicorn start-up chatter is not part of the story.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    exit_code = EXIT_FAILED
    try:
        exit_code = EXIT_PROVEN if anyio.run(walk_through, Report(Console(highlight=False))) else EXIT_FAILED
    except* KeyboardInterrupt:
        print("app-server demo: interrupted", file=sys.stderr)
        exit_code = EXIT_INTERRUPTED
    except* SystemExit:  # rich's answer to a closed stdout (`app-server demo | head`): stop quietly
        exit_code = EXIT_FAILED
    return exit_code


if __name__ == "__main__":
    sys.exit(run_demo())
