"""MCP OAuth: the login service, one login's flow, its loopback callback, discovery, tokens and their store.

Importing this package is cheap: it re-exports nothing. `service`, `login`, `tokens` and
`discovery` import the mcp SDK (about half a second); `credentials` and `callback` do not.
"""
