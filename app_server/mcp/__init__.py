"""MCP servers: the configured / runtime / effective views, contributors, connections and runtime generations.

`oauth/` logs in to HTTP servers and keeps their tokens; `stdio/` runs the child processes of stdio
servers. Importing this package is cheap; modules that need the mcp SDK import it themselves.
"""
