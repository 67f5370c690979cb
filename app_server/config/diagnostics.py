"""Config problems and warnings that name where they are: `file:line:col: key.path: message`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from app_server.config.locator import KeyPath
from app_server.errors import ConfigError
from protocol.notifications import ConfigWarningNotification, TextPosition, TextRange

T = TypeVar("T")

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dotted(path: Sequence[str | int]) -> str:
    """`mcp_servers.foo.args[1]`, quoting keys that are not bare: `plugins."a@b"`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else json.dumps(part)
            text += f".{key}" if text else key
    return text


class Location(BaseModel):
    """Where a key was written: a file position, or the override that set it."""

    model_config = ConfigDict(frozen=True)

    source: str
    """A file path, or an override label such as `-c mcp_servers.foo.command`."""
    shown_as: str | None = None
    """How messages name the source when not as `source`: `config.toml`, relative to the home
    directory, so error replies never reveal the server machine's paths."""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        shown = self.shown_as or self.source
        if self.line is None:
            return shown
        return f"{shown}:{self.line}:{self.column}"


class ConfigProblem(BaseModel):
    """One problem found while loading: an error, or a warning sent as `configWarning`.

    Warnings (unknown top-level key, a plugin server skipped) do not stop loading; errors do.
    """

    model_config = ConfigDict(frozen=True)

    summary: str
    """`key.path: message`."""
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.summary}" if self.location else self.summary

    def to_notification(self) -> ConfigWarningNotification:
        """The `configWarning` params for this warning."""
        location = self.location
        if location is None or location.line is None or location.column is None:
            return ConfigWarningNotification(summary=self.summary, path=location and location.source)
        point = TextPosition(line=location.line, column=location.column)
        return ConfigWarningNotification(
            summary=self.summary, path=location.source, range=TextRange(start=point, end=point)
        )


Locate = Callable[[KeyPath], Location | None]


@dataclass
class Diagnostics:
    """Collects every error and warning of one load, each placed by `locate`."""

    locate: Locate
    errors: list[ConfigProblem] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)

    def error(self, path: KeyPath, message: str) -> None:
        self.errors.append(self._problem(path, message))

    def warning(self, path: KeyPath, message: str) -> None:
        self.warnings.append(self._problem(path, message))

    def raise_errors(self) -> None:
        """Raises ConfigError listing every error, when there is any."""
        if self.errors:
            raise ConfigError([str(problem) for problem in self.errors])

    def _problem(self, path: KeyPath, message: str) -> ConfigProblem:
        summary = f"{dotted(path)}: {message}" if path else message
        return ConfigProblem(summary=summary, location=self.locate(path))

    def validation_errors(self, base: KeyPath, error: ValidationError) -> None:
        """One error per pydantic problem, at its key path under `base`, in our own words."""
        for detail in error.errors(include_url=False, include_input=False):
            self.error((*base, *detail["loc"]), describe(detail))


def describe(detail: ErrorDetails) -> str:
    """A short message for one validation problem; pydantic's own text never reaches users."""
    kind = detail["type"]
    ctx: dict[str, Any] = dict(detail.get("ctx") or {})
    messages = {
        "missing": "missing required key",
        "extra_forbidden": "unknown key",
        "string_type": "expected a string",
        "bool_type": "expected a boolean",
        "int_type": "expected an integer",
        "int_from_float": "expected an integer",
        "float_type": "expected a number",
        "tuple_type": "expected an array",
        "list_type": "expected an array",
        "dict_type": "expected a table",
        "model_type": "expected a table",
        "model_attributes_type": "expected a table",
        "literal_error": f"expected one of {ctx.get('expected')}",
        "greater_than": f"must be greater than {ctx.get('gt')}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "string_too_short": "must not be empty",
        "string_pattern_mismatch": f"must match `{ctx.get('pattern')}`",
        "https_url_with_path": "must be an https URL with a path",
        "config_rule": str(ctx.get("reason")),  # our own validators' words (`PydanticCustomError`)
    }
    return messages.get(kind, "invalid value")


def _date_as_object(value: object) -> object:
    # TOML dates and times have no JSON form; as an object they fail every field that expects a
    # string, number or array, which is what a date in this config is.
    return {"date": str(value)}


def validate_strict(adapter: TypeAdapter[T], value: Any) -> T:
    """Validate TOML/JSON data with no coercion ("yes" is not a boolean, "30" is not a number).

    Raises ValidationError.
    """
    return adapter.validate_json(json.dumps(value, default=_date_as_object), strict=True)
