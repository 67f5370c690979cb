"""SEP-1034 defaults: an accepted form answer is completed from its requested schema's defaults."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest

from app_server.mcp.elicitation import with_defaults

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "size": {"type": "string", "default": "medium"},
        "count": {"type": "integer", "default": 1},
        "note": {"type": "string"},
    },
}
FORM = types.ElicitRequestFormParams(message="Your order?", requested_schema=SCHEMA)


def answered(action: str, content: dict[str, Any] | None) -> types.ElicitResult:
    return with_defaults(FORM, types.ElicitResult.model_validate({"action": action, "content": content}))


def test_an_accepted_answer_gets_the_default_of_each_field_left_out() -> None:
    assert answered("accept", {"name": "Ada"}).content == {"name": "Ada", "size": "medium", "count": 1}


def test_a_field_the_user_gave_keeps_the_users_value() -> None:
    given = {"name": "Ada", "size": "large", "count": 3}
    assert answered("accept", given).content == given


def test_an_accepted_answer_with_no_content_gets_every_default() -> None:
    assert answered("accept", None).content == {"size": "medium", "count": 1}


@pytest.mark.parametrize("action", ["decline", "cancel"])
def test_an_answer_that_does_not_accept_is_left_alone(action: str) -> None:
    assert answered(action, None).content is None


def test_a_url_mode_answer_is_left_alone() -> None:
    url = types.ElicitRequestURLParams(
        message="Sign in", url="https://auth.example.test", elicitation_id="e1"
    )
    assert with_defaults(url, types.ElicitResult(action="accept")).content is None
