#!/usr/bin/env python3
"""A fake model server for the real-CLI conformance kit (Python 3 standard library only).

It speaks the wire protocols the AI CLIs use, on 127.0.0.1 only:

  Anthropic Messages      POST <prefix>/v1/messages                 (claude)
  Gemini                  POST <prefix>/v1beta/models/M:generateContent
                          POST <prefix>/v1beta/models/M:streamGenerateContent?alt=sse
                                                                     (gemini)
  OpenAI Responses        POST <prefix>/v1/responses                (codex)
  OpenAI Chat Completions POST <prefix>/v1/chat/completions         (opencode, others)
  model lists             GET  <prefix>/v1/models, <prefix>/v1beta/models

Start it:  python3 fake_model_server.py --state-dir DIR [--port 0]
It prints "listening http://127.0.0.1:PORT" and writes PORT to DIR/port.

Scenario per request: the base URL's path prefix `/s/<scenario>[.<tag>]`, e.g.
`http://127.0.0.1:PORT/s/429once.claude-1`; without a prefix, an API key of the form
`ax-s-<scenario>[.<tag>]` (x-api-key, Authorization: Bearer, x-goog-api-key or ?key=);
else `ok`. The tag only separates counters (so each check starts afresh):

  ok          a text answer, ANSWER_TEXT, with INPUT_TOKENS / OUTPUT_TOKENS usage
  429         always 429 with `Retry-After: 1` and the API's own error body
  429once     429 (Retry-After: 1) on the first request of this scenario+tag, then ok
  500         always 500 with the API's own error body (message ERROR_500_TEXT)
  hang        accepts the request and never answers
  tool.NAME   a scripted tool call, read from DIR/scripts/NAME.json:
                {"tool": "ax_agent_get", "arguments": {...}, "answer": "final text"}
              A turn that carries no tool result answers with a call of the tool whose
              name is `tool` or ends with `_tool` / `__tool` / `.tool` among the tools
              the request offers (hosts prefix MCP tool names). A turn that carries the
              tool's result is recorded as one JSON line in DIR/received/NAME.jsonl
              ({"protocol", "tool", "call_id", "result", "text", "offered"}), where
              `result` is the result exactly as the host sent it and `text` its text
              flattened, and is answered with `answer`.

Side requests a CLI makes for itself (gemini's JSON-mode checks, title generation) are
answered without counting against a scenario: they get a plain short answer.

Every request is logged as one JSON line in DIR/requests.jsonl:
{"time", "protocol", "path", "scenario", "tag", "status", "aux", "stream", "model"}.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ANSWER_TEXT = "READY - the fake model server answered."
INPUT_TOKENS = 123
OUTPUT_TOKENS = 45
ERROR_429_TEXT = "Fake rate limit: too many requests for this key (AXFAKE-429)."
ERROR_500_TEXT = "The server had an error while processing your request (AXFAKE-500)."
RETRY_AFTER_SECONDS = 1
HANG_SECONDS = 600

STATE_DIR = "."
LOCK = threading.Lock()
COUNTERS = {}
STOP = threading.Event()


def log_request(entry):
    entry["time"] = round(time.time(), 3)
    with LOCK:
        with open(os.path.join(STATE_DIR, "requests.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def record_received(name, entry):
    folder = os.path.join(STATE_DIR, "received")
    with LOCK:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name + ".jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def load_script(name):
    path = os.path.join(STATE_DIR, "scripts", name + ".json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": "cannot read scripted tool call %s: %s" % (path, e)}


def next_count(key):
    with LOCK:
        COUNTERS[key] = COUNTERS.get(key, 0) + 1
        return COUNTERS[key]


def match_tool(wanted, offered):
    """The offered tool name for `wanted`: itself, or a host-prefixed form of it."""
    if wanted in offered:
        return wanted
    for name in offered:
        for sep in ("__", "_", ".", "-", "/"):
            if name.endswith(sep + wanted):
                return name
    return wanted


def flatten_text(value):
    """Every string under `text`/`content`/`output` keys (or the value itself)."""
    out = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, list):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for key in ("text", "content", "output", "response", "result", "llmContent"):
                if key in v:
                    walk(v[key])

    walk(value)
    return "\n".join(out)


class Turn:
    """What one request asked for, decoded by the protocol adapter."""

    def __init__(self, tool_results, offered, aux=False, json_mode=False):
        self.tool_results = tool_results  # [(call_id, tool_name, raw_result)]
        self.offered = offered  # tool names the request offered
        self.aux = aux  # a CLI-internal side request
        self.json_mode = json_mode  # the CLI asked for a JSON document


class Reply:
    """What to answer: text, or a tool call."""

    def __init__(self, text=None, tool=None, arguments=None, call_id="call_ax_1"):
        self.text = text
        self.tool = tool
        self.arguments = arguments or {}
        self.call_id = call_id


# ---------------------------------------------------------------- protocol adapters


def anthropic_turn(body):
    offered = [t.get("name", "") for t in body.get("tools") or []]
    results = []
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "user":
        content = messages[-1].get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    results.append((block.get("tool_use_id"), None, block.get("content")))
    # Claude Code's side calls (titles, topic checks) are short and offer no tools.
    aux = not offered and bool(body.get("max_tokens")) and body.get("max_tokens") <= 512
    return Turn(results, offered, aux=aux)


def gemini_turn(body):
    offered = []
    for tool in body.get("tools") or []:
        for decl in tool.get("functionDeclarations") or tool.get("function_declarations") or []:
            offered.append(decl.get("name", ""))
    results = []
    contents = body.get("contents") or []
    if contents:
        for part in contents[-1].get("parts") or []:
            response = part.get("functionResponse") if isinstance(part, dict) else None
            if response:
                results.append((response.get("id"), response.get("name"), response.get("response")))
    config = body.get("generationConfig") or {}
    json_mode = config.get("responseMimeType") == "application/json" or bool(
        config.get("responseJsonSchema") or config.get("responseSchema")
    )
    return Turn(results, offered, aux=json_mode, json_mode=json_mode)


def responses_turn(body):
    offered = []
    for tool in body.get("tools") or []:
        if tool.get("type") == "function":
            offered.append(tool.get("name", ""))
        elif tool.get("type") == "namespace":
            # codex 0.171 groups an MCP server's tools in a namespace (e.g. `mcp__ax`);
            # a call of one names the member and its namespace: offered as `NS.member`.
            for member in tool.get("tools") or []:
                offered.append("%s.%s" % (tool.get("name", ""), member.get("name", "")))
        elif tool.get("name"):
            offered.append(tool["name"])
    results = []
    items = body.get("input")
    if isinstance(items, list):
        # The results after the last user message belong to this turn.
        tail = []
        for item in items:
            if isinstance(item, dict) and item.get("type") in (None, "message") and item.get("role") == "user":
                tail = []
            elif isinstance(item, dict) and item.get("type") in ("function_call_output", "custom_tool_call_output"):
                tail.append((item.get("call_id"), None, item.get("output")))
        results = tail
    return Turn(results, offered)


def chat_turn(body):
    offered = [(t.get("function") or {}).get("name", "") for t in body.get("tools") or []]
    results = []
    messages = body.get("messages") or []
    for message in reversed(messages):
        if message.get("role") == "tool":
            results.insert(0, (message.get("tool_call_id"), message.get("name"), message.get("content")))
        else:
            break
    system = " ".join(
        m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
        for m in messages
        if m.get("role") == "system"
    ).lower()
    # opencode names its sessions with a separate small request.
    aux = not offered and "title" in system
    return Turn(results, offered, aux=aux)


def sse(handler, events):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for name, data in events:
        chunk = ""
        if name:
            chunk += "event: %s\n" % name
        chunk += "data: %s\n\n" % (data if isinstance(data, str) else json.dumps(data))
        handler.wfile.write(chunk.encode("utf-8"))
        handler.wfile.flush()
    handler.close_connection = True


def send_json(handler, status, doc, headers=()):
    raw = json.dumps(doc).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    for key, value in headers:
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(raw)


def anthropic_reply(handler, body, reply):
    model = body.get("model", "fake-model")
    usage_in = {"input_tokens": INPUT_TOKENS, "output_tokens": 0,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    if reply.tool:
        block = {"type": "tool_use", "id": "toolu_" + reply.call_id, "name": reply.tool, "input": {}}
        content = [dict(block, input=reply.arguments)]
        delta = {"type": "input_json_delta", "partial_json": json.dumps(reply.arguments)}
        stop = "tool_use"
    else:
        block = {"type": "text", "text": ""}
        content = [{"type": "text", "text": reply.text}]
        delta = {"type": "text_delta", "text": reply.text}
        stop = "end_turn"
    if not body.get("stream"):
        send_json(handler, 200, {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": dict(usage_in, output_tokens=OUTPUT_TOKENS),
        })
        return
    sse(handler, [
        ("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage_in}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                           "usage": {"output_tokens": OUTPUT_TOKENS}}),
        ("message_stop", {"type": "message_stop"}),
    ])


def anthropic_error(handler, status, message):
    kind = {429: "rate_limit_error", 500: "api_error"}.get(status, "api_error")
    headers = [("retry-after", str(RETRY_AFTER_SECONDS))] if status == 429 else []
    send_json(handler, status, {"type": "error", "error": {"type": kind, "message": message}}, headers)


def gemini_reply(handler, body, reply, stream):
    model = handler.path.split("/models/")[-1].split(":")[0]
    if reply.tool:
        parts = [{"functionCall": {"name": reply.tool, "args": reply.arguments}}]
    else:
        parts = [{"text": reply.text}]
    doc = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": OUTPUT_TOKENS,
                          "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS},
        "modelVersion": model,
        "responseId": "fake-response",
    }
    if stream:
        sse(handler, [(None, doc)])
    else:
        send_json(handler, 200, doc)


def gemini_error(handler, status, message):
    state = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}.get(status, "UNKNOWN")
    headers = [("retry-after", str(RETRY_AFTER_SECONDS))] if status == 429 else []
    send_json(handler, status, {"error": {"code": status, "message": message, "status": state}}, headers)


def responses_reply(handler, body, reply):
    model = body.get("model", "fake-model")
    if reply.tool:
        item = {"type": "function_call", "id": "fc_1", "call_id": reply.call_id, "name": reply.tool,
                "arguments": json.dumps(reply.arguments), "status": "completed"}
        namespace, dot, member = reply.tool.rpartition(".")
        if dot:  # a namespaced tool (function names never hold a dot)
            item.update(name=member, namespace=namespace)
    else:
        item = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}]}
    usage = {"input_tokens": INPUT_TOKENS, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": OUTPUT_TOKENS, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}
    response = {"id": "resp_fake", "object": "response", "created_at": int(time.time()),
                "model": model, "status": "completed", "output": [item], "usage": usage}
    if not body.get("stream"):
        send_json(handler, 200, response)
        return
    events = [
        ("response.created", {"type": "response.created",
                              "response": dict(response, status="in_progress", output=[], usage=None)}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
    ]
    if not reply.tool:
        events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1",
                                                       "output_index": 0, "content_index": 0, "delta": reply.text}))
    events += [
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": response}),
    ]
    sse(handler, events)


def openai_error(handler, status, message):
    kind = {429: "rate_limit_exceeded", 500: "server_error"}.get(status, "server_error")
    headers = [("retry-after", str(RETRY_AFTER_SECONDS))] if status == 429 else []
    send_json(handler, status, {"error": {"message": message, "type": kind, "code": kind, "param": None}}, headers)


def chat_reply(handler, body, reply):
    model = body.get("model", "fake-model")
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    usage = {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
             "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}
    if reply.tool:
        call = {"id": reply.call_id, "type": "function",
                "function": {"name": reply.tool, "arguments": json.dumps(reply.arguments)}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        delta = {"role": "assistant", "tool_calls": [dict(call, index=0)]}
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": reply.text}
        delta = {"role": "assistant", "content": reply.text}
        finish = "stop"
    if not body.get("stream"):
        send_json(handler, 200, dict(base, object="chat.completion", usage=usage,
                                     choices=[{"index": 0, "message": message, "finish_reason": finish}]))
        return
    sse(handler, [
        (None, dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": None}])),
        (None, dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": finish}])),
        (None, dict(base, choices=[], usage=usage)),
        (None, "[DONE]"),
    ])


# ---------------------------------------------------------------- the server


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ax-fake-model/1"

    def log_message(self, fmt, *args):  # quiet; requests.jsonl is the log
        pass

    def scenario(self):
        path = urlsplit(self.path).path
        segment = None
        if path.startswith("/s/"):
            segment, _, rest = path[3:].partition("/")
            path = "/" + rest
        if segment is None:
            keys = [self.headers.get("x-api-key"), self.headers.get("x-goog-api-key")]
            auth = self.headers.get("authorization") or ""
            if auth.lower().startswith("bearer "):
                keys.append(auth[7:])
            keys += parse_qs(urlsplit(self.path).query).get("key", [])
            for key in keys:
                if key and key.startswith("ax-s-"):
                    segment = key[5:]
                    break
        segment = segment or "ok"
        return segment, path

    def do_GET(self):
        _, path = self.scenario()
        if path.rstrip("/").endswith("/models"):
            names = ["fake-model", "gemini-2.5-pro", "gemini-2.5-flash", "gpt-5"]
            send_json(self, 200, {"object": "list", "data": [{"id": n, "object": "model"} for n in names],
                                  "models": [{"name": "models/" + n} for n in names]})
        else:
            send_json(self, 404, {"error": {"message": "not found: " + path}})
        log_request({"protocol": "get", "path": self.path, "status": 200})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        segment, path = self.scenario()
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        query = parse_qs(urlsplit(self.path).query)
        if path.endswith("/messages/count_tokens"):
            send_json(self, 200, {"input_tokens": INPUT_TOKENS})
            return
        if path.endswith("/messages"):
            protocol, turn = "anthropic", anthropic_turn(body)
        elif ":generateContent" in path or ":streamGenerateContent" in path:
            protocol, turn = "gemini", gemini_turn(body)
        elif ":countTokens" in path:
            send_json(self, 200, {"totalTokens": INPUT_TOKENS})
            return
        elif path.endswith("/responses"):
            protocol, turn = "responses", responses_turn(body)
        elif path.endswith("/chat/completions"):
            protocol, turn = "chat", chat_turn(body)
        else:
            send_json(self, 404, {"error": {"message": "the fake model server has no " + path}})
            log_request({"protocol": "unknown", "path": self.path, "status": 404})
            return

        name, _, tag = segment.partition(".")
        stream = bool(body.get("stream")) or ":streamGenerateContent" in path or query.get("alt") == ["sse"]
        entry = {"protocol": protocol, "path": self.path, "scenario": name, "tag": tag,
                 "aux": turn.aux, "stream": stream, "model": body.get("model") or path.split("/models/")[-1]}

        status, reply = self.decide(name, tag, segment, protocol, turn)
        entry["status"] = status
        log_request(entry)
        if status == "hang":
            STOP.wait(HANG_SECONDS)
            return
        if status != 200:
            message = ERROR_429_TEXT if status == 429 else ERROR_500_TEXT
            {"anthropic": anthropic_error, "gemini": gemini_error}.get(protocol, openai_error)(self, status, message)
            return
        if protocol == "anthropic":
            anthropic_reply(self, body, reply)
        elif protocol == "gemini":
            gemini_reply(self, body, reply, stream)
        elif protocol == "responses":
            responses_reply(self, body, reply)
        else:
            chat_reply(self, body, reply)

    def decide(self, name, tag, segment, protocol, turn):
        """(status, reply) for this request; status is an HTTP code or "hang"."""
        if turn.aux:
            # JSON-mode side requests (gemini's router and next-speaker checks) get a
            # document with every field those checks read.
            text = json.dumps({"reasoning": "fake", "next_speaker": "user", "model_choice": "flash",
                               "complexity_reasoning": "fake", "complexity_score": 1}) \
                if turn.json_mode else "Fake side answer"
            return 200, Reply(text=text)
        if name == "429":
            return 429, None
        if name == "500":
            return 500, None
        if name == "hang":
            return "hang", None
        if name == "429once" and next_count(segment) == 1:
            return 429, None
        if name == "tool":
            return 200, self.scripted(tag, protocol, turn)
        return 200, Reply(text=ANSWER_TEXT)

    def scripted(self, script_name, protocol, turn):
        script = load_script(script_name)
        if "error" in script and "tool" not in script:
            return Reply(text=script["error"])
        wanted = script.get("tool", "")
        if turn.tool_results:
            for call_id, tool_name, result in turn.tool_results:
                record_received(script_name, {
                    "protocol": protocol, "tool": tool_name or match_tool(wanted, turn.offered),
                    "call_id": call_id, "result": result, "text": flatten_text(result),
                    "offered": turn.offered,
                })
            return Reply(text=script.get("answer", "Done."))
        return Reply(tool=match_tool(wanted, turn.offered), arguments=script.get("arguments") or {},
                     call_id="call_" + str(next_count("call:" + script_name)))


def main():
    global STATE_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    STATE_DIR = os.path.abspath(args.state_dir)
    os.makedirs(STATE_DIR, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    with open(os.path.join(STATE_DIR, "port.tmp"), "w") as f:
        f.write(str(port))
    os.replace(os.path.join(STATE_DIR, "port.tmp"), os.path.join(STATE_DIR, "port"))
    print("listening http://127.0.0.1:%d" % port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
