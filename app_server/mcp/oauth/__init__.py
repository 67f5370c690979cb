"""MCP OAuth: the login service, one login's flow, its loopback callback, discovery, a server's
`WWW-Authenticate` challenge, tokens and their store.

Importing this package is cheap: it re-exports nothing. `service`, `login`, `tokens` and
`discovery` import the mcp SDK (about half a second); `credentials`, `callback` and `challenge`
(which the connection layer reads its refusals with) do not.
"""
