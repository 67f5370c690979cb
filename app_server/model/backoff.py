"""How long to wait before retrying a model request: exponential with jitter, or what the provider asked."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retry number `attempt` (1-based): `base * 2**(attempt-1)`, ±20 % jitter so many
    clients retrying together spread out, never more than `max_delay` seconds."""

    base_delay: float = 0.2
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait; a provider's `Retry-After` wins over the schedule but is capped too."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        exponential = self.base_delay * 2.0 ** (attempt - 1)
        return min(exponential * random.uniform(0.8, 1.2), self.max_delay)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
