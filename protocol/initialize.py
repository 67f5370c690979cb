"""Wire models of the `initialize` handshake: the client says who it is, the server where it lives.

Plain dataclasses validated by hand instead of `WireModel`: importing pydantic alone costs more
than the whole process-start -> initialize-reply budget (0.15 s), so nothing on the handshake's
path imports it. They keep WireModel's surface (`model_validate`, `to_wire`) so the dispatcher
treats them alike, and report bad input the same way (field path + reason, never the value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self


class WireValueError(ValueError):
    """Input that does not fit a model; `str()` lists each problem as `path: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Reader:
    """Reads fields of one JSON object (camelCase or snake_case keys), collecting problems."""

    def __init__(self, value: Any, path: str, problems: list[str]) -> None:
        self._path = path
        self._problems = problems
        self.ok = isinstance(value, dict)
        self._object: dict[str, Any] = value if isinstance(value, dict) else {}
        if not self.ok:
            self._problem(path, "Input should be an object")

    def text(self, camel: str, snake: str, *, required: bool) -> str | None:
        value = self._get(camel, snake, required=required)
        if value is None or isinstance(value, str):
            return value
        self._problem(self._at(camel), "Input should be a valid string")
        return None

    def flag(self, camel: str, snake: str) -> bool:
        value = self._get(camel, snake, required=False)
        if value is None or isinstance(value, bool):
            return bool(value)
        self._problem(self._at(camel), "Input should be a valid boolean")
        return False

    def texts(self, camel: str, snake: str) -> list[str] | None:
        value = self._get(camel, snake, required=False)
        if value is None:
            return None
        if not isinstance(value, list):
            self._problem(self._at(camel), "Input should be a valid list")
            return None
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self._problem(f"{self._at(camel)}.{index}", "Input should be a valid string")
        return [item for item in value if isinstance(item, str)]

    def mapping(self, camel: str, snake: str) -> dict[str, Any] | None:
        value = self._get(camel, snake, required=False)
        if value is None or isinstance(value, dict):
            return value
        self._problem(self._at(camel), "Input should be an object")
        return None

    def raw(self, camel: str, snake: str, *, required: bool) -> tuple[Any, str]:
        return self._get(camel, snake, required=required), self._at(camel)

    def _get(self, camel: str, snake: str, *, required: bool) -> Any:
        key = camel if camel in self._object else snake
        if key not in self._object:
            if required and self.ok:
                self._problem(self._at(camel), "Field required")
            return None
        return self._object[key]

    def _at(self, name: str) -> str:
        return f"{self._path}.{name}" if self._path else name

    def _problem(self, path: str, reason: str) -> None:
        self._problems.append(f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class ClientInfo:
    name: str
    version: str
    title: str | None = None

    @classmethod
    def read(cls, value: Any, path: str, problems: list[str]) -> ClientInfo | None:
        reader = _Reader(value, path, problems)
        name = reader.text("name", "name", required=True)
        version = reader.text("version", "version", required=True)
        title = reader.text("title", "title", required=False)
        if name is None or version is None:
            return None
        return cls(name=name, version=version, title=title)


@dataclass(frozen=True, slots=True)
class InitializeCapabilities:
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
    def read(cls, value: Any, path: str, problems: list[str]) -> InitializeCapabilities:
        reader = _Reader(value, path, problems)
        return cls(
            experimental_api=reader.flag("experimentalApi", "experimental_api"),
            explicit_gateway_oauth=reader.flag("explicitGatewayOauth", "explicit_gateway_oauth"),
            extensions=reader.mapping("extensions", "extensions"),
            mcp_server_openai_form_elicitation=reader.flag(
                "mcpServerOpenaiFormElicitation", "mcp_server_openai_form_elicitation"
            ),
            opt_out_notification_methods=reader.texts(
                "optOutNotificationMethods", "opt_out_notification_methods"
            ),
            request_attestation=reader.flag("requestAttestation", "request_attestation"),
            required_human_approval=reader.flag("requiredHumanApproval", "required_human_approval"),
        )


@dataclass(frozen=True, slots=True)
class InitializeParams:
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = field(default=None)

    @classmethod
    def model_validate(cls, value: Any) -> Self:
        """Raises WireValueError naming every offending field."""
        problems: list[str] = []
        reader = _Reader(value, "", problems)
        raw_info, info_path = reader.raw("clientInfo", "client_info", required=True)
        client_info = ClientInfo.read(raw_info, info_path, problems) if raw_info is not None else None
        raw_capabilities, capabilities_path = reader.raw("capabilities", "capabilities", required=False)
        capabilities = (
            InitializeCapabilities.read(raw_capabilities, capabilities_path, problems)
            if raw_capabilities is not None
            else None
        )
        if problems or client_info is None:
            raise WireValueError(problems or ["clientInfo: Field required"])
        return cls(client_info=client_info, capabilities=capabilities)


@dataclass(frozen=True, slots=True)
class InitializeResponse:
    user_agent: str
    codex_home: str
    """The server's home directory (`$APP_SERVER_HOME`, default `~/.app-server`)."""
    platform_family: str
    """`unix` or `windows`."""
    platform_os: str
    """`linux`, `macos` or `windows`."""

    def to_wire(self) -> dict[str, Any]:
        return {
            "userAgent": self.user_agent,
            "codexHome": self.codex_home,
            "platformFamily": self.platform_family,
            "platformOs": self.platform_os,
        }
