"""Configuration: config.toml, `-c` overrides, per-thread overrides, plugin `.mcp.json` files."""
