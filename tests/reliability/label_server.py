"""A stdlib-only MCP server over stdio that says which process it is, in its tool list and its answers.

`python label_server.py --label L [--stderr-flood]`: one tool, `whoami`, whose description is
"whoami of L pid P" (so the model request of a step shows which server that step leased) and whose
answer is the text "L P" (so the call shows which server answered). It starts in milliseconds,
which lets a storm spawn thousands. `--stderr-flood` writes a 1 KiB stderr line every millisecond
for the whole life of the process, a slow flood that only a daemon draining stderr survives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any


def answer(request: dict[str, Any], label: str) -> dict[str, Any] | None:
    if "id" not in request:
        return None
    method = request.get("method")
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": request["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": f"label-{label}", "version": "1.0.0"},
        }
    elif method == "tools/list":
        description = f"whoami of {label} pid {os.getpid()}"
        result = {
            "tools": [{"name": "whoami", "description": description, "inputSchema": {"type": "object"}}]
        }
    elif method == "tools/call":
        result = {"content": [{"type": "text", "text": f"{label} {os.getpid()}"}], "isError": False}
    else:
        return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "not found"}}
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def flood_stderr() -> None:
    line = "f" * 1023 + "\n"
    while True:
        sys.stderr.write(line)
        sys.stderr.flush()
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--stderr-flood", action="store_true")
    args = parser.parse_args()
    if args.stderr_flood:
        threading.Thread(target=flood_stderr, daemon=True).start()
    for line in sys.stdin:
        reply = answer(json.loads(line), args.label)
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
