"""MCP servers: the configured / runtime / effective views, contributors, connections and runtime generations.

Importing this package is cheap; modules that need the mcp SDK import it themselves.
"""
