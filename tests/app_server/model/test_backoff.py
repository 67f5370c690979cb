"""Retry delays: exponential with jitter, capped, and the provider's Retry-After honoured."""

from __future__ import annotations

from datetime import UTC, datetime

from app_server.model.backoff import Backoff, parse_retry_after


def test_delays_grow_exponentially_within_the_jitter_band_and_stop_at_the_cap() -> None:
    backoff = Backoff(base_delay=1.0, max_delay=5.0)
    for attempt, nominal in [(1, 1.0), (2, 2.0), (3, 4.0)]:
        assert 0.8 * nominal <= backoff.delay(attempt) <= 1.2 * nominal
    assert backoff.delay(10) == 5.0


def test_retry_after_wins_over_the_schedule_but_is_capped() -> None:
    backoff = Backoff(base_delay=1.0, max_delay=5.0)
    assert backoff.delay(3, retry_after=0.0) == 0.0
    assert backoff.delay(1, retry_after=60.0) == 5.0


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
