"""Secrets taken out of a raw config tree before it goes on the wire (`config/read`).

The rule, by key path (`*` is any name):

- the values of `mcp_servers.*.env`, `mcp_servers.*.http_headers`, `model_providers.*.http_headers`
  and `model_providers.*.query_params` (names kept, each value replaced);
- `mcp_servers.*.oauth.client_secret`;
- `url` of a server and `base_url` of a provider when they carry credentials (`user:secret@host`):
  the whole value is replaced.

What names a secret's place rather than holding it (`bearer_token_env_var`, `env_vars`,
`env_http_headers`, `env_key`) is shown as it is. `mcpServer/views/read` hides the servers' part of
this from validated entries (`servers.py`'s `redacted`); this module works on raw trees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app_server.config.servers import REDACTED

_SECRET_MAPS = {"mcp_servers": ("env", "http_headers"), "model_providers": ("http_headers", "query_params")}
_URL_KEYS = {"mcp_servers": "url", "model_providers": "base_url"}


def redact_tree(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `tree` (a config layer or the merged config) with every secret value replaced."""
    redacted = dict(tree)
    for table_key, secret_maps in _SECRET_MAPS.items():
        entries = tree.get(table_key)
        if isinstance(entries, Mapping):
            redacted[table_key] = {
                name: _redact_entry(entry, secret_maps, _URL_KEYS[table_key])
                for name, entry in entries.items()
            }
    return redacted


def _redact_entry(entry: Any, secret_maps: tuple[str, ...], url_key: str) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    redacted = dict(entry)
    for key in secret_maps:
        values = entry.get(key)
        if isinstance(values, Mapping):
            redacted[key] = dict.fromkeys(values, REDACTED)
    oauth = entry.get("oauth")
    if isinstance(oauth, Mapping) and "client_secret" in oauth:
        redacted["oauth"] = {**oauth, "client_secret": REDACTED}
    url = entry.get(url_key)
    if isinstance(url, str) and _has_credentials(url):
        redacted[url_key] = REDACTED
    return redacted


def _has_credentials(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return "@" in url
