"""JSON-RPC 2.0 over one connection: decoding, initialize gate, dispatch, server->client requests, errors."""
