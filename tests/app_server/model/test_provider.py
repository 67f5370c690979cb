"""Provider config from `[model_providers.*]` tables, the built-in `openai`, and API key choice."""

from __future__ import annotations

import pytest

from app_server.errors import ConfigError
from app_server.model.provider import OPENAI_PROVIDER, api_key_for, providers_from_table, resolve_provider


def test_the_built_in_openai_provider_speaks_responses_with_the_openai_key() -> None:
    providers = providers_from_table({})
    assert providers == {"openai": OPENAI_PROVIDER}
    assert OPENAI_PROVIDER.base_url == "https://api.openai.com/v1"
    assert OPENAI_PROVIDER.wire_api == "responses"
    assert OPENAI_PROVIDER.env_key == "OPENAI_API_KEY"
    assert (OPENAI_PROVIDER.request_max_retries, OPENAI_PROVIDER.stream_max_retries) == (4, 5)


def test_a_configured_provider_is_validated_and_named_by_its_table_key() -> None:
    table = {
        "ollama": {
            "name": "Ollama (display name, ignored)",
            "base_url": "http://localhost:11434/v1",
            "wire_api": "chat",
            "request_max_retries": 1,
            "http_headers": {"X-A": "b"},
            "query_params": {"api-version": "2025-01-01"},
            "env_key_instructions": "unknown keys are ignored",
        }
    }
    ollama = resolve_provider("ollama", providers_from_table(table))
    assert ollama.name == "ollama"
    assert ollama.wire_api == "chat"
    assert ollama.request_max_retries == 1
    assert ollama.stream_max_retries == 5
    assert ollama.query_params == {"api-version": "2025-01-01"}


def test_every_invalid_provider_table_is_reported_with_its_key() -> None:
    table = {
        "a": {"base_url": "http://x", "wire_api": "grpc"},
        "b": {"wire_api": "chat", "request_max_retries": -1},
        "c": "not a table",
        "openai": {"base_url": "https://elsewhere.example/v1"},
    }
    with pytest.raises(ConfigError) as raised:
        providers_from_table(table)
    problems = raised.value.problems
    assert any(p.startswith("model_providers.a.wire_api:") for p in problems)
    assert any(p.startswith("model_providers.b.base_url:") for p in problems)
    assert any(p.startswith("model_providers.b.request_max_retries:") for p in problems)
    assert "model_providers.c: expected a table" in problems
    assert "model_providers.openai: the built-in provider 'openai' cannot be redefined" in problems


def test_an_unknown_provider_name_says_which_table_to_add() -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_provider("nope", providers_from_table({}))
    assert "define [model_providers.nope] in config.toml" in raised.value.message


def test_the_account_key_wins_for_openai_and_env_key_is_the_fallback() -> None:
    environ = {"OPENAI_API_KEY": "sk-env", "OTHER_KEY": " sk-other ", "BLANK": "  "}
    assert api_key_for(OPENAI_PROVIDER, "sk-account", environ) == "sk-account"
    assert api_key_for(OPENAI_PROVIDER, None, environ) == "sk-env"
    assert api_key_for(OPENAI_PROVIDER, None, {}) is None
    other = providers_from_table({"x": {"base_url": "http://x", "env_key": "OTHER_KEY"}})["x"]
    assert api_key_for(other, "sk-account", environ) == "sk-other"
    blank = providers_from_table({"y": {"base_url": "http://y", "env_key": "BLANK"}})["y"]
    assert api_key_for(blank, None, environ) is None
    keyless = providers_from_table({"z": {"base_url": "http://z"}})["z"]
    assert api_key_for(keyless, "sk-account", environ) is None
