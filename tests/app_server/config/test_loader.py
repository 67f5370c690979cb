"""Loading config.toml with `-c` and thread overrides: validation, positions, defaults, warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app_server.config.app_config import DEFAULT_CHATGPT_BASE_URL, AppConfig
from app_server.config.loader import build_config, load_config, read_config_source
from app_server.config.servers import HttpServerConfig, StdioServerConfig
from app_server.errors import ConfigError


def write_config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(home: Path, text: str, **kwargs: Any) -> list[str]:
    write_config(home, text)
    with pytest.raises(ConfigError) as caught:
        load_config(home, **kwargs)
    return caught.value.problems


def test_a_missing_config_file_is_an_empty_config(home: Path) -> None:
    config = load_config(home)
    assert config == AppConfig()
    assert config.chatgpt_base_url == DEFAULT_CHATGPT_BASE_URL
    assert config.features.apps is True
    assert config.features.apps_mcp_path_override is None
    assert config.mcp_oauth_credentials_store == "auto"


def test_servers_infer_their_transport_and_get_defaults(home: Path) -> None:
    write_config(
        home,
        '[mcp_servers.local]\ncommand = "npx"\nargs = ["-y", "pkg"]\ncwd = "/srv"\n'
        '[mcp_servers.remote]\nurl = "https://example.test/mcp"\nscopes = ["read"]\n',
    )
    servers = load_config(home).mcp_servers
    local, remote = servers["local"].config, servers["remote"].config
    assert isinstance(local, StdioServerConfig)
    assert local.args == ("-y", "pkg")
    assert local.cwd == Path("/srv")
    assert (local.enabled, local.required, local.startup_timeout_sec, local.tool_timeout_sec) == (
        True,
        False,
        30.0,
        300.0,
    )
    assert isinstance(remote, HttpServerConfig)
    assert remote.scopes == ("read",)


def test_a_pre_registered_oauth_client_loads_with_its_secret(home: Path) -> None:
    write_config(
        home,
        '[mcp_servers.remote]\nurl = "https://example.test/mcp"\n'
        'oauth = { client_id = "app-1", client_secret = "s3cret" }\n',
    )
    remote = load_config(home).mcp_servers["remote"].config
    assert isinstance(remote, HttpServerConfig) and remote.oauth is not None
    assert remote.oauth.client_id == "app-1"
    assert remote.oauth.client_secret is not None
    assert remote.oauth.client_secret.get_secret_value() == "s3cret"


def test_configured_entries_record_file_and_key(home: Path) -> None:
    path = write_config(home, '[mcp_servers.docs]\ncommand = "npx"\n')
    provenance = load_config(home).mcp_servers["docs"].provenance
    assert (provenance.source, provenance.file, provenance.key) == ("config", str(path), "mcp_servers.docs")


def test_startup_timeout_ms_maps_onto_seconds(home: Path) -> None:
    write_config(home, '[mcp_servers.a]\ncommand = "x"\nstartup_timeout_ms = 1500\n')
    assert load_config(home).mcp_servers["a"].config.startup_timeout_sec == 1.5


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('command = "x"\nurl = "http://h"', "3:1: mcp_servers.s.url: `url` is not supported for stdio"),
        (
            'command = "x"\nhttp_headers = { A = "b" }',
            "mcp_servers.s.http_headers: `http_headers` is not supported for stdio",
        ),
        (
            'url = "http://h"\nenv = { A = "b" }',
            "3:1: mcp_servers.s.env: `env` is not supported for streamable_http",
        ),
        ('url = "http://h"\nargs = []', "mcp_servers.s.args: `args` is not supported for streamable_http"),
        ('command = "x"\ncolour = "red"', "3:1: mcp_servers.s.colour: unknown key"),
        ('command = "x"\nbearer_token = "t"', "mcp_servers.s.bearer_token: unknown key; put the token"),
        ("enabled = true", "1:14: mcp_servers.s: expected `command` (stdio) or `url` (streamable_http)"),
        ('command = "x"\nenabled = "yes"', "3:1: mcp_servers.s.enabled: expected a boolean"),
        ('command = "x"\nargs = ["a", 2]', "3:14: mcp_servers.s.args[1]: expected a string"),
        ('command = "x"\nstartup_timeout_sec = "30"', "mcp_servers.s.startup_timeout_sec: expected a number"),
        ('command = "x"\ntool_timeout_sec = 0', "mcp_servers.s.tool_timeout_sec: must be greater than 0"),
        (
            'command = "x"\nstartup_timeout_sec = 1\nstartup_timeout_ms = 5',
            "mcp_servers.s.startup_timeout_ms: give",
        ),
        (
            'command = "x"\nstartup_timeout_ms = 1.5',
            "mcp_servers.s.startup_timeout_ms: expected a positive integer",
        ),
        (
            'command = "x"\ndefault_tools_approval_mode = "never"',
            "mcp_servers.s.default_tools_approval_mode: expected one of",
        ),
        (
            'command = "x"\ntools.t.approval_mode = "ask"',
            "3:9: mcp_servers.s.tools.t.approval_mode: expected one of",
        ),
        ('command = "x"\ntools.t.colour = 1', "mcp_servers.s.tools.t.colour: unknown key"),
        ('command = "x"\nenabled_tools = "a"', "mcp_servers.s.enabled_tools: expected an array"),
        ('command = "x"\nenv = { A = 1 }', "3:9: mcp_servers.s.env.A: expected a string"),
        ('command = "x"\ncwd = 1979-05-27', "mcp_servers.s.cwd: expected a string"),
        ('url = "u"\noauth = { client_secret = "s" }', "mcp_servers.s.oauth.client_id: missing required key"),
        ('url = "u"\noauth = { client_id = "c", colour = 1 }', "mcp_servers.s.oauth.colour: unknown key"),
        (
            'command = "x"\noauth = { client_id = "c" }',
            "mcp_servers.s.oauth: `oauth` is not supported for stdio",
        ),
    ],
)
def test_each_invalid_server_key_is_one_clear_problem_naming_file_line_and_key(
    home: Path, table: str, expected: str
) -> None:
    problems = problems_of(home, f"[mcp_servers.s]\n{table}\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith("config.toml:")
    assert expected in problems[0]


def test_bad_server_names_are_rejected(home: Path) -> None:
    problems = problems_of(home, '[mcp_servers."a b"]\ncommand = "x"\n')
    message = "server names may only contain letters, digits, `_` and `-`"
    assert problems == [f'config.toml:1:14: mcp_servers."a b": {message}']


def test_all_problems_are_reported_at_once(home: Path) -> None:
    problems = problems_of(
        home,
        '[mcp_servers.a]\ncommand = "x"\nurl = "u"\n[mcp_servers.b]\nurl = "u"\ncwd = "/"\nfoo = 1\n'
        "[features]\napps = 1\n",
    )
    assert len(problems) == 4


def test_a_syntax_error_names_file_line_and_column(home: Path) -> None:
    problems = problems_of(home, 'model = "x"\n[mcp_servers.a]\ncommand = \n')
    assert problems[0].startswith("config.toml:3:11: invalid TOML")


def test_unknown_top_level_keys_are_warnings_with_positions(home: Path) -> None:
    path = write_config(home, 'model = "gpt"\nfancy_mode = "never"\n[profiles.fast]\nmodel = "m"\n')
    config = load_config(home)
    assert config.model == "gpt"
    summaries = [(w.summary, w.location and (w.location.line, w.location.column)) for w in config.warnings]
    assert summaries == [
        ("fancy_mode: unknown key; ignored", (2, 1)),
        ("profiles: unknown key; ignored", (3, 2)),
    ]
    notification = config.warnings[0].to_notification().to_wire()
    assert notification["path"] == str(path)
    assert notification["range"]["start"] == {"line": 2, "column": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('mcp_oauth_credentials_store = "vault"', "mcp_oauth_credentials_store: expected one of"),
        ("mcp_oauth_callback_port = 70000", "mcp_oauth_callback_port: must be at most 65535"),
        ('mcp_oauth_callback_port = "80"', "mcp_oauth_callback_port: expected an integer"),
        ('chatgpt_base_url = "ftp://x"', "chatgpt_base_url: must match"),
        ("model = 5", "model: expected a string"),
        ("features = 1", "features: expected a table"),
        ('[features]\napps = "on"', "features.apps: expected a boolean"),
        (
            "[features]\napps_mcp_path_override = 3",
            "features.apps_mcp_path_override: expected a boolean or a table",
        ),
        (
            '[features.apps_mcp_path_override]\npath = ""',
            "features.apps_mcp_path_override.path: expected a non-empty",
        ),
        (
            '[features.apps_mcp_path_override]\nroute = "/x"',
            "features.apps_mcp_path_override.route: unknown key",
        ),
        ("[plugins.p]\nenabled = 0", "plugins.p.enabled: expected a boolean"),
        (
            'mcp_oauth_client_metadata_url = "http://example.com/client.json"',
            "mcp_oauth_client_metadata_url: must be an https URL with a path",
        ),
        ('mcp_oauth_client_metadata_url = "https://example.com/"', "must be an https URL with a path"),
        (
            '[model_providers.local]\nwire_api = "grpc"\nbase_url = "http://h"',
            "model_providers.local.wire_api: expected one of",
        ),
        ('[model_providers.local]\nenv_key = "K"', "model_providers.local.base_url: missing required key"),
        (
            '[model_providers.local]\nbase_url = "http://h"\nrequest_max_retries = -1',
            "request_max_retries: must be at least 0",
        ),
    ],
)
def test_global_keys_are_validated(home: Path, text: str, expected: str) -> None:
    problems = problems_of(home, text + "\n")
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_global_keys_load(home: Path) -> None:
    write_config(
        home,
        'model_provider = "local"\nmcp_oauth_credentials_store = "file"\nmcp_oauth_callback_port = 5555\n'
        'mcp_oauth_callback_url = "http://127.0.0.1:5555/cb"\nchatgpt_base_url = "http://localhost:8080"\n'
        'mcp_oauth_client_metadata_url = "https://app.example/oauth/client.json"\n'
        'apps_mcp_product_sku = "sku-1"\n[plugins."p@market"]\nenabled = false\n'
        '[model_providers.local]\nbase_url = "http://127.0.0.1:1/v1"\nwire_api = "chat"\nname = "Local"\n',
    )
    config = load_config(home)
    assert (config.model_provider, config.mcp_oauth_credentials_store, config.mcp_oauth_callback_port) == (
        "local",
        "file",
        5555,
    )
    assert config.chatgpt_base_url == "http://localhost:8080"
    assert config.mcp_oauth_client_metadata_url == "https://app.example/oauth/client.json"
    assert config.apps_mcp_product_sku == "sku-1"
    assert config.plugins["p@market"].enabled is False
    assert config.model_providers["local"].as_table() == {
        "name": "Local",
        "base_url": "http://127.0.0.1:1/v1",
        "wire_api": "chat",
    }


@pytest.mark.parametrize(
    ("features", "path"),
    [
        ("", None),
        ("apps_mcp_path_override = false", None),
        ("apps_mcp_path_override = true", "/ps/mcp"),
        ("apps_mcp_path_override = { enabled = true }", "/ps/mcp"),
        ('apps_mcp_path_override = { path = "/custom/mcp" }', "/custom/mcp"),
        ('apps_mcp_path_override = { path = "custom/mcp" }', "/custom/mcp"),
        ('apps_mcp_path_override = { enabled = false, path = "/custom/mcp" }', None),
    ],
)
def test_apps_mcp_path_override_forms(home: Path, features: str, path: str | None) -> None:
    write_config(home, f"[features]\n{features}\n")
    assert load_config(home).features.apps_mcp_path_override == path


def test_unknown_features_are_warnings(home: Path) -> None:
    write_config(home, "[features]\nweb_search = true\n")
    assert [w.summary for w in load_config(home).warnings] == [
        "features.web_search: unknown feature; ignored"
    ]


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ('mcp_servers.docs.command="uvx"', lambda c: c.mcp_servers["docs"].config.command == "uvx"),
        ('mcp_servers.docs.args=["a", "b"]', lambda c: c.mcp_servers["docs"].config.args == ("a", "b")),
        ("features.apps=false", lambda c: c.features.apps is False),
        ("model=gpt-5.1 codex", lambda c: c.model == "gpt-5.1 codex"),
        ('mcp_servers.new={url="http://h"}', lambda c: c.mcp_servers["new"].config.url == "http://h"),
    ],
)
def test_cli_overrides_apply_over_the_file(home: Path, override: str, check: Any) -> None:
    write_config(home, '[mcp_servers.docs]\ncommand = "npx"\nenv = { A = "b" }\n')
    config = load_config(home, cli_overrides=[override])
    assert check(config)
    docs = config.mcp_servers["docs"].config
    assert isinstance(docs, StdioServerConfig)
    assert docs.env == {"A": "b"}


def test_a_problem_set_by_a_cli_override_names_the_override(home: Path) -> None:
    problems = problems_of(
        home, '[mcp_servers.docs]\ncommand = "npx"\n', cli_overrides=["mcp_servers.docs.env.X=1.5"]
    )
    assert problems == ["-c mcp_servers.docs.env.X: mcp_servers.docs.env.X: expected a string"]


def test_an_override_value_that_is_not_one_toml_value_is_a_string(home: Path) -> None:
    assert load_config(home, cli_overrides=["model=1\nb=2"]).model == "1\nb=2"


def test_a_server_declared_only_by_an_override_names_it_as_its_file(home: Path) -> None:
    config = load_config(home, cli_overrides=['mcp_servers.x.command="y"'])
    assert config.mcp_servers["x"].provenance.file == "-c mcp_servers.x.command"


@pytest.mark.parametrize("override", ["novalue", "=3", "a..b=1", "[a]=1", "a\nb=1"])
def test_malformed_cli_overrides_are_rejected(home: Path, override: str) -> None:
    with pytest.raises(ConfigError):
        load_config(home, cli_overrides=[override])


def test_thread_overrides_apply_over_cli_overrides_with_dotted_or_nested_keys(home: Path) -> None:
    write_config(home, '[mcp_servers.docs]\ncommand = "npx"\n[features]\nweb_search = true\n')
    config = load_config(
        home,
        cli_overrides=["features.apps=false", 'mcp_servers.docs.command="uvx"'],
        thread_overrides={"features": {"apps": True}, "mcp_servers.docs.args": ["--fast"]},
    )
    docs = config.mcp_servers["docs"].config
    assert isinstance(docs, StdioServerConfig)
    assert (config.features.apps, docs.command, docs.args) == (True, "uvx", ("--fast",))


def test_a_thread_override_problem_names_the_thread_config(home: Path) -> None:
    problems = problems_of(home, "", thread_overrides={"mcp_servers": {"x": {"url": 5}}})
    assert problems == ["thread config `mcp_servers`: mcp_servers.x.url: expected a string"]


def test_an_override_does_not_take_the_blame_for_a_file_problem_next_to_it(home: Path) -> None:
    problems = problems_of(
        home, "[mcp_servers.a]\ncommand = 3\n", cli_overrides=["mcp_servers.a.enabled=false"]
    )
    assert problems == ["config.toml:2:1: mcp_servers.a.command: expected a string"]


def test_thread_configs_built_from_one_source_never_reread_or_mutate_it(home: Path) -> None:
    write_config(home, '[mcp_servers.docs]\ncommand = "npx"\n')
    source = read_config_source(home)
    write_config(home, "this is [ not toml")
    first = build_config(source, thread_overrides={"mcp_servers.docs.command": "uvx"})
    second = build_config(source)
    assert first.mcp_servers["docs"].config.command == "uvx"  # type: ignore[union-attr]
    assert second.mcp_servers["docs"].config.command == "npx"  # type: ignore[union-attr]
