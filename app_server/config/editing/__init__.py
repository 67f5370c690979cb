"""Writing config.toml: `app-server mcp add|remove|import`, the daemon's "always approve" of a tool,
and the atomic write and inter-process lock that `app_server.config.writing` shares.
"""
