from __future__ import annotations

import uuid

import pytest

from app_server.errors import InvalidParams
from app_server.threads.ids import is_valid_id, new_id, require_thread_id


def test_new_ids_are_time_ordered_uuid7_strings() -> None:
    first, second = new_id(), new_id()
    assert is_valid_id(first) and first[14] == "7"
    assert first < second


def test_ids_made_in_the_same_millisecond_still_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(1000)]  # far more than one a millisecond
    assert made == sorted(made) and len(set(made)) == len(made)
    parsed = uuid.UUID(made[0])
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "",
        "..",
        "/etc/passwd",
        "01a208b1-63aa-7210-9eaf-c381ea94952b/../x",
        "01A208B1-63AA-7210-9EAF-C381EA94952B",
    ],
)
def test_anything_but_a_canonical_uuid_is_rejected_as_a_thread_id(bad: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        require_thread_id(bad)
    assert caught.value.message.startswith("invalid thread id")
