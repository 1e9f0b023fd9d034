#!/usr/bin/env python3
"""Negative control for the host test: runs `ax mcp serve` (argv[1:]) behind a stdio
relay that gives every tool its success schema only, dropping the error branch of
`outputSchema: {anyOf: [success, error envelope]}` — the schemas ax published before
the fix. With it, Gemini CLI hands its model "Structured content does not match the
tool's output schema" instead of our error, and the host test must fail.

  AX_HOSTS_CONTROL=strip-error-schema tests/conformance/hosts/run
"""

import json
import subprocess
import sys
import threading


def strip(schema):
    branches = schema.pop("anyOf", None)
    if branches:
        success = branches[0]
        for key, value in success.items():
            schema.setdefault(key, value)


def main():
    child = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def forward_requests():
        for line in sys.stdin.buffer:
            child.stdin.write(line)
            child.stdin.flush()
        child.stdin.close()

    threading.Thread(target=forward_requests, daemon=True).start()
    for line in child.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        tools = isinstance(message, dict) and (message.get("result") or {}).get("tools")
        if tools:
            for tool in tools:
                if isinstance(tool.get("outputSchema"), dict):
                    strip(tool["outputSchema"])
            line = (json.dumps(message) + "\n").encode("utf-8")
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
