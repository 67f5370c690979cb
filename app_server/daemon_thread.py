"""Blocking work the daemon's exit must not wait for: run in a daemon thread, abandoned on cancel.

`anyio.to_thread.run_sync(..., abandon_on_cancel=True)` stops waiting but leaves a non-daemon
worker thread, which the interpreter joins at exit: closing stdin during the mcp SDK's import
would still wait for the whole import. A daemon thread is not joined; a cancelled caller never
sees the result, so nothing half-built is used.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

T = TypeVar("T")


async def run_abandonable(function: Callable[[], T], *, name: str) -> T:
    """`function()` in a new daemon thread named `name`; its result or exception once it ends.

    Cancelling the caller returns at once; the thread runs on unobserved (or dies with the process).
    """
    token = anyio.lowlevel.current_token()
    done = anyio.Event()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)
        with contextlib.suppress(RuntimeError):  # the event loop has ended: nobody waits any more
            anyio.from_thread.run_sync(done.set, token=token)

    threading.Thread(target=work, name=name, daemon=True).start()
    await done.wait()
    if failure:
        raise failure[0]
    return outcome[0]
