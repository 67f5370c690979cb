"""Stdio MCP servers: the child process, its pipes as SDK streams, direct requests, the pid record.

Importing this package is cheap: it re-exports nothing. `process`, `streams` and
`direct_requests` import the mcp SDK; `child_registry` does not.
"""
