"""The parts of `app-server demo`: the bundled example MCP server lives in `example_server`."""
