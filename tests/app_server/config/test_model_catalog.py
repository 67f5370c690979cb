"""The model catalog: the built-in OpenAI list, providers' `models = [...]`, the default, providers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_server.config.app_config import DEFAULT_MODEL, AppConfig
from app_server.config.loader import load_config
from app_server.config.model_catalog import provider_list, provider_models
from app_server.errors import ConfigError, InvalidParams
from protocol.models import Model

LOCAL = """
[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:11434/v1"
wire_api = "chat"

[[model_providers.local.models]]
id = "llama3.1"

[[model_providers.local.models]]
id = "qwen-coder"
display_name = "Qwen Coder"
default = true
reasoning_efforts = ["low", "high"]
input_modalities = ["text", "image"]

[[model_providers.local.models]]
id = "secret-preview"
hidden = true
"""


def config_from(home: Path, text: str) -> AppConfig:
    (home / "config.toml").write_text(text, encoding="utf-8")
    return load_config(home)


def defaults(models: list[Model]) -> list[str]:
    return [model.id for model in models if model.is_default]


def model_efforts(model: Model) -> list[str]:
    return [option.reasoning_effort for option in model.supported_reasoning_efforts]


def test_the_openai_list_marks_the_model_threads_run_by_default() -> None:
    models = provider_models(AppConfig(), None, include_hidden=False)
    assert [model.id for model in models] == [DEFAULT_MODEL, "gpt-5", "gpt-5-mini"]
    assert defaults(models) == [DEFAULT_MODEL]
    assert all(model.default_reasoning_effort in model_efforts(model) for model in models)


def test_config_model_is_the_default_and_is_listed_even_when_the_catalog_lacks_it(home: Path) -> None:
    listed = provider_models(config_from(home, 'model = "gpt-5"\n'), None, include_hidden=False)
    assert defaults(listed) == ["gpt-5"]

    custom = provider_models(config_from(home, 'model = "o3"\n'), "openai", include_hidden=False)
    assert [model.id for model in custom][:2] == ["o3", DEFAULT_MODEL]
    assert defaults(custom) == ["o3"]
    assert custom[0].display_name == "o3"


def test_declared_models_of_a_provider_table_are_listed_with_their_fields(home: Path) -> None:
    models = provider_models(config_from(home, LOCAL), "local", include_hidden=False)
    assert [model.id for model in models] == ["llama3.1", "qwen-coder"]
    assert defaults(models) == ["qwen-coder"]
    llama, qwen = models
    assert (llama.display_name, llama.description, llama.input_modalities) == ("llama3.1", "", ["text"])
    assert (qwen.display_name, qwen.input_modalities, model_efforts(qwen)) == (
        "Qwen Coder",
        ["text", "image"],
        ["low", "high"],
    )
    assert qwen.default_reasoning_effort == "low"


def test_hidden_models_are_listed_only_when_asked_for(home: Path) -> None:
    models = provider_models(config_from(home, LOCAL), "local", include_hidden=True)
    assert [model.id for model in models] == ["llama3.1", "qwen-coder", "secret-preview"]
    assert models[2].hidden is True


def test_the_first_declared_model_is_the_default_when_none_is_marked(home: Path) -> None:
    text = '[model_providers.p]\nbase_url = "http://h/v1"\nmodels = ["a", "b"]\n'
    assert defaults(provider_models(config_from(home, text), "p", include_hidden=False)) == ["a"]


def test_the_default_provider_is_listed_when_none_is_named(home: Path) -> None:
    config = config_from(home, 'model_provider = "local"\nmodel = "llama3.1"\n' + LOCAL)
    models = provider_models(config, None, include_hidden=False)
    assert defaults(models) == ["llama3.1"]


def test_an_unknown_provider_is_invalid_params_naming_the_table_to_add() -> None:
    with pytest.raises(InvalidParams) as caught:
        provider_models(AppConfig(), "nope", include_hidden=False)
    assert caught.value.message == "unknown model provider nope; define [model_providers.nope] in config.toml"


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ('["a", "a"]', "config.toml:3:1: model_providers.p.models: listed more than once: a"),
        (
            '[{ id = "a", default = true }, { id = "b", default = true }]',
            "config.toml:3:1: model_providers.p.models: more than one model has `default = true`",
        ),
        (
            '[{ display_name = "x" }]',
            "config.toml:3:11: model_providers.p.models[0].id: missing required key",
        ),
        ("[1]", "config.toml:3:11: model_providers.p.models[0]: expected a table"),
    ],
)
def test_bad_model_lists_are_config_errors_at_their_key(home: Path, models: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(home, f'[model_providers.p]\nbase_url = "http://h/v1"\nmodels = {models}\n')
    assert caught.value.problems == [expected]


def test_providers_are_the_built_in_one_then_the_configured_ones(home: Path) -> None:
    text = (
        'model_provider = "local"\n'
        + LOCAL
        + '[model_providers.gw]\nbase_url = "https://u:pw@gw.example/v1"\n'
        'env_key = "GW_KEY"\n'
    )
    listed = provider_list(config_from(home, text)).to_wire()
    assert listed == {
        "data": [
            {
                "id": "openai",
                "name": "OpenAI",
                "canEdit": False,
                "baseUrl": "https://api.openai.com/v1",
                "settings": {"type": "openai"},
            },
            {
                "id": "local",
                "name": "Local",
                "canEdit": True,
                "baseUrl": "http://127.0.0.1:11434/v1",
                "settings": {"type": "customGateway", "auth": {"mode": "none"}},
            },
            {
                "id": "gw",
                "name": "gw",
                "canEdit": True,
                "baseUrl": None,
                "settings": {
                    "type": "customGateway",
                    "auth": {"mode": "environmentVariable", "envKey": "GW_KEY"},
                },
            },
        ],
        "defaultProviderId": "local",
        "canChangeDefault": True,
    }
