"""Configuration: config.toml, `-c` overrides, per-thread overrides, plugin `.mcp.json` files.

The daemon only reads configuration; `editing/` is what writes config.toml, for the command line.
"""
