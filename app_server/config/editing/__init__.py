"""Writing config.toml from the command line: adding and removing `[mcp_servers]` entries, importing others'.

Only `app-server mcp add|remove|import` uses this package; the daemon only reads config.
"""
