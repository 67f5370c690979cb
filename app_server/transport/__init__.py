"""Transports: bytes <-> JSON text (stdio lines, WebSocket text frames, in-memory pairs); no JSON-RPC here.

Submodules are imported directly (`app_server.transport.stdio`, ...) so that serving stdio never
pays for the WebSocket stack.
"""
