"""What a loaded thread is doing right now, as the `ThreadStatus` front-ends drive their UI from.

The status is a function of a few facts, as Codex computes it: a running turn or a pending
server request makes the thread `active` (with `waitingOnApproval` while an approval or an
elicitation waits for the user, `waitingOnUserInput` while a tool's questions do); a failed
turn leaves it in `systemError` until the next turn starts; otherwise it is `idle`. Every change
of status is reported as `thread/status/changed`, and only a change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from protocol.notifications import ThreadStatusChangedNotification
from protocol.threads import ActiveStatus, IdleStatus, SystemErrorStatus, ThreadActiveFlag, ThreadStatus

Publish = Callable[[ThreadStatusChangedNotification], None]

Question = TypeVar("Question")
Answer = TypeVar("Answer")


class ThreadActivity:
    """The facts a loaded thread's status is computed from; each change is published when it
    changes the status."""

    def __init__(self, thread_id: str) -> None:
        self._thread_id = thread_id
        self._running = False
        self._waiting: dict[ThreadActiveFlag, int] = {"waitingOnApproval": 0, "waitingOnUserInput": 0}
        self._system_error = False

    def status(self, *, turn_in_progress: bool = False) -> ThreadStatus:
        """The status now; a turn recorded as in progress reads as active even before its runner
        has started (the window between the `turn/start` reply and the turn's first event)."""
        flags = [flag for flag, count in self._waiting.items() if count > 0]
        if self._running or flags or turn_in_progress:
            return ActiveStatus(active_flags=flags)
        if self._system_error:
            return SystemErrorStatus()
        return IdleStatus()

    def turn_started(self, publish: Publish) -> None:
        self._change(publish, running=True, system_error=False)

    def turn_ended(self, publish: Publish, *, failed: bool) -> None:
        """The turn is over: nothing waits any more; a failed turn leaves the thread in `systemError`."""
        for flag in self._waiting:
            self._waiting[flag] = 0
        self._change(publish, running=False, system_error=failed or self._system_error)

    @asynccontextmanager
    async def waiting(self, flag: ThreadActiveFlag, publish: Publish) -> AsyncIterator[None]:
        """Mark the thread as waiting on the user for as long as the block runs."""
        before = self.status()
        self._waiting[flag] += 1
        self._report(publish, before)
        try:
            yield
        finally:
            before = self.status()
            self._waiting[flag] = max(self._waiting[flag] - 1, 0)
            self._report(publish, before)

    def _change(self, publish: Publish, *, running: bool, system_error: bool) -> None:
        before = self.status()
        self._running, self._system_error = running, system_error
        self._report(publish, before)

    def _report(self, publish: Publish, before: ThreadStatus) -> None:
        after = self.status()
        if after != before:
            publish(ThreadStatusChangedNotification(thread_id=self._thread_id, status=after))


def waiting_while_asked(
    ask: Callable[[Question], Awaitable[Answer]],
    activity: ThreadActivity,
    flag: ThreadActiveFlag,
    publish: Publish,
) -> Callable[[Question], Awaitable[Answer]]:
    """`ask`, with the thread marked as waiting on the user until the client answers."""

    async def asking(question: Question) -> Answer:
        async with activity.waiting(flag, publish):
            return await ask(question)

    return asking
