"""The app-server daemon: JSON-RPC front-end protocol, agent threads, and their MCP servers."""

__version__ = "0.1.0"
