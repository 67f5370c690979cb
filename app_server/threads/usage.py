"""A thread's token usage: each model response's counts in the wire form, and their running total."""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.notifications import ThreadTokenUsage, TokenUsageBreakdown

if TYPE_CHECKING:
    # Only for typing: the model package pulls in httpx2, which thread reads must not pay for.
    from app_server.model.step import Usage


def breakdown_of(usage: Usage) -> TokenUsageBreakdown:
    """The wire counts of one response; a provider that gave no total counts input + output."""
    return TokenUsageBreakdown(
        total_tokens=usage.total_tokens or usage.input_tokens + usage.output_tokens,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_output_tokens=usage.reasoning_output_tokens,
    )


def added(tally: ThreadTokenUsage | None, last: TokenUsageBreakdown) -> ThreadTokenUsage:
    """The thread's usage once one more response (`last`) is counted."""
    if tally is None:
        return ThreadTokenUsage(total=last, last=last)
    total = tally.total
    summed = TokenUsageBreakdown.model_validate(
        {name: getattr(total, name) + getattr(last, name) for name in TokenUsageBreakdown.model_fields}
    )
    return ThreadTokenUsage(total=summed, last=last, model_context_window=tally.model_context_window)
