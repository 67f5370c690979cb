"""The base every wire model derives from: camelCase on the wire, unknown input fields ignored."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_camel = cache(to_camel)
"""pydantic's `to_camel`, remembered: the same field names recur across models, and the
regexes it runs per field were a tenth of building the models the first replies import."""


class WireModel(BaseModel):
    """A protocol object: snake_case in Python, camelCase on the wire.

    Input accepts either spelling and ignores unknown fields (front-ends may be newer than us);
    output always uses the wire spelling.
    """

    model_config = ConfigDict(
        alias_generator=_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        # A model's validator and serializer are built on its first use, not at import: the
        # first replies (thread/start, account/read) build only the few models they touch.
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent on the wire."""
        return self.model_dump(mode="json", by_alias=True)
