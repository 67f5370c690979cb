"""Model providers: stream one agent step from the OpenAI Responses API or Chat Completions.

Imported only when a turn runs (it pulls in httpx2); the scripted test/demo server lives in
`app_server.model.scripted` and is not imported from here.
"""

from app_server.model.client import ModelClient
from app_server.model.errors import ModelError
from app_server.model.provider import (
    BUILT_IN_PROVIDERS,
    OPENAI_PROVIDER,
    ProviderConfig,
    api_key_for,
    providers_from_table,
    resolve_provider,
)
from app_server.model.step import (
    AssistantMessage,
    Completed,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    HistoryItem,
    InputImage,
    MessageDone,
    Retrying,
    StepEvent,
    StepRequest,
    TextDelta,
    Usage,
    UserMessage,
)

__all__ = [
    "BUILT_IN_PROVIDERS",
    "OPENAI_PROVIDER",
    "AssistantMessage",
    "Completed",
    "FunctionCall",
    "FunctionCallOutput",
    "FunctionTool",
    "HistoryItem",
    "InputImage",
    "MessageDone",
    "ModelClient",
    "ModelError",
    "ProviderConfig",
    "Retrying",
    "StepEvent",
    "StepRequest",
    "TextDelta",
    "Usage",
    "UserMessage",
    "api_key_for",
    "providers_from_table",
    "resolve_provider",
]
