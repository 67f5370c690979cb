"""Field shapes shared by the wire models: optional-but-not-nullable fields, raw JSON, secrets."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import Field, PlainSerializer, SecretStr

T = TypeVar("T")


def _is_none(value: object) -> bool:
    return value is None


Omittable = Annotated[T | None, Field(exclude_if=_is_none)]
"""A field the reference marks `name?: T` (optional, not nullable): left out of the output when None.

Fields typed `T | null` stay plain `T | None` and are written as `null`.
"""

JsonValue = Any
"""Any JSON value, passed through untouched (the reference's `JSON`)."""

JsonObject = dict[str, Any]
"""A JSON object passed through untouched (the reference's `object`)."""

MetaField = Annotated[JsonValue, Field(alias="_meta", exclude_if=_is_none)]
"""An optional `_meta?: JSON` field: aliased to its underscore wire name, omitted when None."""

NullableMetaField = Annotated[JsonValue, Field(alias="_meta")]
"""A `_meta` field the reference types as nullable or required JSON: written as `null` when None."""


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


Secret = Annotated[SecretStr, PlainSerializer(_reveal, return_type=str)]
"""A credential sent by the client: hidden from reprs and logs, written verbatim on the wire."""
