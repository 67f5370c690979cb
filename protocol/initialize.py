"""Wire models of the `initialize` handshake: the client says who it is, the server where it lives.

Plain dataclasses validated by hand instead of `WireModel`: importing pydantic alone costs more
than the whole process-start -> initialize-reply budget (0.15 s), so nothing on the handshake's
path imports it. They keep WireModel's surface (`model_validate`, `to_wire`) so the dispatcher
treats them alike, and report bad input the same way (field path + reason, never the value).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema


class WireValueError(ValueError):
    """Input that does not fit a model; `str()` lists each problem as `path: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def wire_name(name: str) -> str:
    """The wire (camelCase) spelling of a Python field name, as WireModel's alias generator writes it."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class _Reader:
    """Reads fields of one JSON object (camelCase or snake_case keys), collecting problems."""

    def __init__(self, value: Any, path: str, problems: list[str]) -> None:
        self._path = path
        self._problems = problems
        self.ok = isinstance(value, dict)
        self._object: dict[str, Any] = value if isinstance(value, dict) else {}
        if not self.ok:
            self._problem(path, "Input should be an object")

    def text(self, name: str, *, required: bool) -> str | None:
        value = self._get(name, required=required)
        if value is None or isinstance(value, str):
            return value
        self._problem(self._at(name), "Input should be a valid string")
        return None

    def flag(self, name: str) -> bool:
        value = self._get(name, required=False)
        if value is None or isinstance(value, bool):
            return bool(value)
        self._problem(self._at(name), "Input should be a valid boolean")
        return False

    def texts(self, name: str) -> list[str] | None:
        value = self._get(name, required=False)
        if value is None:
            return None
        if not isinstance(value, list):
            self._problem(self._at(name), "Input should be a valid list")
            return None
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self._problem(f"{self._at(name)}.{index}", "Input should be a valid string")
        return [item for item in value if isinstance(item, str)]

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self._get(name, required=False)
        if value is None or isinstance(value, dict):
            return value
        self._problem(self._at(name), "Input should be an object")
        return None

    def raw(self, name: str, *, required: bool) -> tuple[Any, str]:
        return self._get(name, required=required), self._at(name)

    def _get(self, name: str, *, required: bool) -> Any:
        key = wire_name(name) if wire_name(name) in self._object else name
        value = self._object.get(key)
        if value is None and required and self.ok:
            reason = "Field required" if key not in self._object else "Input should not be null"
            self._problem(self._at(name), reason)
        return value

    def _at(self, name: str) -> str:
        return f"{self._path}.{wire_name(name)}" if self._path else wire_name(name)

    def _problem(self, path: str, reason: str) -> None:
        self._problems.append(f"{path}: {reason}")


def _wire_value(value: Any) -> Any:
    if isinstance(value, _HandshakeModel):
        return value.to_wire()
    if isinstance(value, list):
        return [_wire_value(item) for item in value]
    return value


class _HandshakeModel(ABC):
    """WireModel's surface without pydantic: either spelling read, unknown fields ignored, camelCase out."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @classmethod
    @abstractmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> Self | None:
        """The model read from `value` found at `path`, or None; appends each problem found."""

    @classmethod
    def model_validate(cls, value: Any) -> Self:
        """Raises WireValueError naming every offending field."""
        problems: list[str] = []
        model = cls.read(value, "", problems)
        if problems or model is None:
            raise WireValueError(problems)
        return model

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent on the wire: every field under its wire name, unset ones as null."""
        return {wire_name(item.name): _wire_value(getattr(self, item.name)) for item in fields(self)}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Lets pydantic (the registry's TypeAdapters) read and write these models the same way."""
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls.model_validate, serialization=core_schema.plain_serializer_function_ser_schema(cls.to_wire)
        )


@dataclass(frozen=True, slots=True)
class ClientInfo(_HandshakeModel):
    name: str
    version: str
    title: str | None = None

    @classmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> Self | None:
        reader = _Reader(value, path, problems)
        name = reader.text("name", required=True)
        version = reader.text("version", required=True)
        title = reader.text("title", required=False)
        if name is None or version is None:
            return None
        return cls(name=name, version=version, title=title)


@dataclass(frozen=True, slots=True)
class InitializeCapabilities(_HandshakeModel):
    """Client-declared capabilities negotiated during initialize."""

    experimental_api: bool = False
    explicit_gateway_oauth: bool = False
    extensions: dict[str, Any] | None = None
    mcp_server_openai_form_elicitation: bool = False
    opt_out_notification_methods: list[str] | None = None
    """Exact notification method names this connection does not want to receive."""
    request_attestation: bool = False
    required_human_approval: bool = False

    @classmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> Self:
        reader = _Reader(value, path, problems)
        return cls(
            experimental_api=reader.flag("experimental_api"),
            explicit_gateway_oauth=reader.flag("explicit_gateway_oauth"),
            extensions=reader.mapping("extensions"),
            mcp_server_openai_form_elicitation=reader.flag("mcp_server_openai_form_elicitation"),
            opt_out_notification_methods=reader.texts("opt_out_notification_methods"),
            request_attestation=reader.flag("request_attestation"),
            required_human_approval=reader.flag("required_human_approval"),
        )


@dataclass(frozen=True, slots=True)
class InitializeParams(_HandshakeModel):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = field(default=None)

    @classmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> Self | None:
        reader = _Reader(value, path, problems)
        raw_info, info_path = reader.raw("client_info", required=True)
        client_info = ClientInfo.read(raw_info, info_path, problems) if raw_info is not None else None
        raw_capabilities, capabilities_path = reader.raw("capabilities", required=False)
        capabilities = (
            InitializeCapabilities.read(raw_capabilities, capabilities_path, problems)
            if raw_capabilities is not None
            else None
        )
        if client_info is None:
            return None
        return cls(client_info=client_info, capabilities=capabilities)


@dataclass(frozen=True, slots=True)
class InitializeResponse(_HandshakeModel):
    user_agent: str
    codex_home: str
    """The server's home directory (`$APP_SERVER_HOME`, default `~/.app-server`)."""
    platform_family: str
    """`unix` or `windows`."""
    platform_os: str
    """`linux`, `macos` or `windows`."""

    @classmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> Self | None:
        reader = _Reader(value, path, problems)
        user_agent = reader.text("user_agent", required=True)
        codex_home = reader.text("codex_home", required=True)
        platform_family = reader.text("platform_family", required=True)
        platform_os = reader.text("platform_os", required=True)
        if user_agent is None or codex_home is None or platform_family is None or platform_os is None:
            return None
        return cls(
            user_agent=user_agent,
            codex_home=codex_home,
            platform_family=platform_family,
            platform_os=platform_os,
        )
