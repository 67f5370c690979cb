"""Blocking work in a daemon thread: its result and its error reach the caller; a cancelled caller
does not wait for it."""

from __future__ import annotations

import threading

import anyio
import pytest

from app_server.daemon_thread import run_abandonable

pytestmark = pytest.mark.anyio

WAIT = 10.0


async def test_the_result_of_the_function_is_returned_from_a_daemon_thread() -> None:
    def where() -> tuple[bool, bool]:
        current = threading.current_thread()
        return current.daemon, current is threading.main_thread()

    with anyio.fail_after(WAIT):
        assert await run_abandonable(where, name="probe") == (True, False)


async def test_the_error_of_the_function_is_raised_to_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no such thing")

    with anyio.fail_after(WAIT), pytest.raises(LookupError, match="no such thing"):
        await run_abandonable(fail, name="probe")


async def test_a_cancelled_caller_returns_while_the_function_still_blocks() -> None:
    release = threading.Event()
    try:
        with anyio.fail_after(WAIT):
            with anyio.move_on_after(0.05) as scope:
                await run_abandonable(release.wait, name="blocked")
        assert scope.cancelled_caught
    finally:
        release.set()
