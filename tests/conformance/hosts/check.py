#!/usr/bin/env python3
"""Judges what a host's model received for one scripted tool call.

  check.py RECEIVED_JSONL SCENARIO

RECEIVED_JSONL is the fake model server's DIR/received/NAME.jsonl: one line per tool
result the host sent its model ({"protocol", "tool", "result", "text", ...}). Prints
one line: `ok <excerpt>` or `bad <reason>: <excerpt>`, where the excerpt is the first
300 characters of what the model received (its text, else the raw result). Exit 0 on
ok, 1 otherwise.
"""

import json
import re
import sys

EXCERPT = 300
SCHEMA_MISMATCH = "does not match the tool's output schema"


def strings(value):
    """Every string in a result, depth first (Gemini hands a failed MCP call to its
    model as {"error": "MCP tool ... reported tool error ... with response: [...]"})."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    return []


def excerpt(entry):
    text = entry.get("text") or ""
    if not text.strip():
        text = "\n".join(strings(entry.get("result"))) or json.dumps(entry.get("result"))
    return " ".join(text.split())[:EXCERPT]


def judge(scenario, text, raw):
    """None when `text` is what the model should see for `scenario`, else the reason."""
    seen = text + "\n" + raw
    if SCHEMA_MISMATCH in seen or "Structured content does not match" in seen:
        return "the host replaced the result with an output-schema validation error"
    if scenario == "get_found":
        if not re.search(r'"agentId"\s*:\s*"host-probe"', text):
            return 'no "agentId": "host-probe" profile in the text'
        if "AGENT_NOT_FOUND" in seen or '"error"' in text:
            return "an error instead of the profile"
    elif scenario == "get_missing":
        if "AGENT_NOT_FOUND" not in text:
            return "no AGENT_NOT_FOUND in the text"
    elif scenario == "register_dup":
        if "AGENT_ALREADY_EXISTS" not in text:
            return "no AGENT_ALREADY_EXISTS in the text"
    elif scenario == "discuss":
        if not re.search(r'"success"\s*:\s*true', text):
            return 'no "success": true in the text'
        if not re.search(r'"discussionId"\s*:\s*"[^"]+"', text):
            return "no discussionId in the text"
        if not re.search(r'"synthesis"\s*:\s*"[^"]+', text):
            return "no synthesis in the text"
    else:
        return "unknown scenario " + scenario
    return None


def main():
    path, scenario = sys.argv[1], sys.argv[2]
    try:
        with open(path, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except OSError:
        print("bad the model never received a tool result (no %s)" % path)
        return 1
    if not lines:
        print("bad the model never received a tool result")
        return 1
    entry = lines[-1]
    # What the model sees: the flattened text, else every string of the result.
    text = entry.get("text") or ""
    if not text.strip():
        text = "\n".join(strings(entry.get("result")))
    raw = json.dumps(entry.get("result"))
    reason = judge(scenario, text, raw)
    if reason:
        print("bad %s: %s" % (reason, excerpt(entry)))
        return 1
    print("ok " + excerpt(entry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
