"""Cursor paging shared by the list methods: the cursor is the decimal index of the next item."""

from __future__ import annotations

from app_server.errors import InvalidParams, quoted

_MAX_CURSOR_DIGITS = 18
"""Cursors this server hands out are short; a longer one is not ours (and would overflow `int()`)."""


def page_bounds(
    cursor: str | None, limit: int | None, total: int, *, what: str
) -> tuple[int, int, str | None]:
    """(start, end, nextCursor) of one page over `total` items named `what` in errors.

    Raises InvalidParams for a cursor that is not a decimal index or lies past the end; both are
    checked before any work.
    """
    start = 0
    if cursor is not None:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > _MAX_CURSOR_DIGITS:
            raise InvalidParams(f"invalid cursor: {quoted(cursor)}")
        start = int(cursor)
        if start > total:
            raise InvalidParams(f"cursor {start} exceeds total {what} {total}")
    end = total if limit is None else min(total, start + max(limit, 1))
    return start, end, (str(end) if end < total else None)
