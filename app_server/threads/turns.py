"""A running turn: steps until the model stops calling tools, one lease per step, interruptible."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import anyio

from app_server.errors import AppServerError
from app_server.mcp.runtime import RuntimeCell
from app_server.threads.ids import new_id
from app_server.threads.records import FinalTurnStatus
from app_server.threads.step import TurnScope, run_step
from protocol.items import UserInput, UserMessageItem
from protocol.notifications import ErrorNotification, TurnCompletedNotification, TurnStartedNotification
from protocol.turns import Turn

logger = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = "turn interrupted"


class TurnRunner:
    """Runs one turn of a thread. `interrupt()` cancels the model stream and in-flight MCP calls."""

    def __init__(
        self,
        scope: TurnScope,
        cell: RuntimeCell,
        user_input: Sequence[UserInput],
        recorded_input: list[dict[str, Any]],
        turn: Turn,
        *,
        client_id: str | None = None,
    ) -> None:
        """`recorded_input` is `user_input` as `user_input.recorded_content` gives it; `client_id`: the
        `clientUserMessageId` the client gave the input, kept on its userMessage."""
        self.scope = scope
        self._cell = cell
        self._input = user_input
        self._recorded_input = recorded_input
        self._client_id = client_id
        self._turn = turn
        self._cancel = anyio.CancelScope()
        self.done = anyio.Event()

    @property
    def turn_id(self) -> str:
        return self.scope.turn_id

    def interrupt(self) -> None:
        self._cancel.cancel()

    async def run(self) -> None:
        """Run to the end and record how it ended; never raises (a failure is the turn's status)."""
        status: FinalTurnStatus = "completed"
        error: dict[str, str] | None = None
        try:
            with self._cancel:
                await self._run_steps()
            if self._cancel.cancelled_caught:
                status, error = "interrupted", {"message": INTERRUPTED_MESSAGE}
        except AppServerError as exc:
            status, error = "failed", {"message": exc.message}
        except Exception:
            logger.exception("turn %s failed", self.turn_id)
            status, error = "failed", {"message": "internal error while running the turn"}
        finally:
            with anyio.CancelScope(shield=True):
                # The status first, so that it is cleared even if the turn's end cannot be recorded.
                self.scope.thread.activity.turn_ended(self.scope.events.publish, failed=status == "failed")
                turn = await self.scope.thread.complete_turn(self.turn_id, status, error)
                if status == "failed" and turn.error is not None:
                    # As Codex: the failure is also an `error` notification, before the turn ends.
                    self.scope.events.publish(
                        ErrorNotification(
                            thread_id=self.scope.thread.id,
                            turn_id=self.turn_id,
                            error=turn.error,
                            will_retry=False,
                        )
                    )
                self.scope.events.publish(
                    TurnCompletedNotification(thread_id=self.scope.thread.id, turn=turn)
                )
            self.done.set()

    async def _run_steps(self) -> None:
        self.scope.thread.activity.turn_started(self.scope.events.publish)
        self.scope.events.publish(TurnStartedNotification(thread_id=self.scope.thread.id, turn=self._turn))
        user_item = UserMessageItem(id=new_id(), client_id=self._client_id, content=list(self._input))
        recorded = {"content": self._recorded_input}
        await self.scope.start_item(user_item, recorded)
        await self.scope.complete_item(user_item, recorded)
        more = True
        while more:
            # The whole step, its calls included, runs on the runtime leased here.
            with self._cell.lease() as runtime:
                more = await run_step(self.scope, runtime)
