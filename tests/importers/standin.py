"""A loopback stand-in for the AI providers' APIs, so that the real Claude Code, Codex and Gemini
CLI write their real logs here with usage numbers a test chose (docs/importers.md, "Tested
against the real tools").

It speaks just enough of each wire format for the tools to finish a turn:

- Anthropic Messages (`POST /v1/messages`, streamed as SSE: `message_start` carrying `usage`,
  `content_block_start/delta/stop` per block, `message_delta` with the final `output_tokens`,
  `message_stop`; a `request-id` header), and `count_tokens`;
- OpenAI Responses (`POST /v1/responses`, SSE: `response.created`, `response.output_item.added`,
  `response.output_text.delta`, `response.output_item.done`, `response.completed` carrying
  `usage`);
- Gemini (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse`: `data:` chunks, the last
  with `usageMetadata`; `:generateContent` and `:countTokens` too).
- OpenAI Chat Completions (`POST /v1/chat/completions`, for Qwen Code, opencode and pi:
  `data:` chunks, with `stream_options.include_usage` a last one with empty `choices` carrying
  `usage`, then `data: [DONE]`; a reply's ("tool_use", name, input) block becomes a tool call).

Each API has a queue of replies (`Reply`); the stand-in answers requests in order and notes
what it returned (`answered`): that is the truth the importers are compared with. A request
beyond the queue gets a small default reply (noted as well). Nothing here reaches beyond
127.0.0.1, and the tests run the tools in a network namespace that has only loopback.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """One answer. `usage` is in the API's own shape (Anthropic: `input_tokens`,
    `cache_read_input_tokens`, `cache_creation_input_tokens`, maybe `cache_creation`; OpenAI:
    `input_tokens`, `input_tokens_details`, `output_tokens`, `output_tokens_details`; Gemini:
    `usageMetadata` fields). Anthropic's `output_tokens` is sent in `message_delta` (the final
    count; `message_start` says 1, as the API does). `blocks` are Anthropic content blocks:
    ("thinking", text), ("text", text) or ("tool_use", name, input)."""

    usage: dict[str, Any]
    text: str = "Hello from the stand-in."
    blocks: list[tuple] = field(default_factory=list)
    stop_reason: str = "end_turn"
    pause: float = 0.0  # seconds between a streamed content block and the next (Anthropic)
    model: str | None = None  # the model the reply names (default: the one requested)


def _sse(events: list[tuple[str | None, dict]]) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        out.append(f"data: {json.dumps(data)}\n\n")
    return "".join(out).encode()


class StandIn:
    """The server: `start()`, then point a tool at `url`; `answered` lists what it returned."""

    def __init__(self, anthropic=(), openai=(), gemini=(), headers=None, chat=()):
        # headers sent with every answer of an API ({"anthropic": {...}}): e.g. its rate-limit headers
        self.headers: dict[str, dict[str, str]] = dict(headers or {})
        self.queues: dict[str, list[Reply]] = {
            "anthropic": list(anthropic),
            "openai": list(openai),
            "gemini": list(gemini),
            "chat": list(chat),
        }
        self.answered: list[dict] = []
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StandIn:
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._send(404, b'{"error": {"type": "not_found_error", "message": "stand-in"}}', "application/json")

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                try:
                    req = json.loads(body) if body else {}
                except ValueError:
                    req = {}
                path = self.path
                if path.startswith("/v1/messages/count_tokens"):
                    self._send(200, b'{"input_tokens": 42}', "application/json")
                elif path.startswith("/v1/messages"):
                    stand_in._anthropic(self, req)
                elif path.startswith("/v1/responses"):
                    stand_in._openai(self, req)
                elif path.startswith("/v1/chat/completions"):
                    stand_in._chat(self, req)
                elif ":countTokens" in path:
                    self._send(200, b'{"totalTokens": 42}', "application/json")
                elif "/models/" in path and "generatecontent" in path.lower():
                    stand_in._gemini(self, req, path)
                else:
                    self._send(404, b"{}", "application/json")

            def _send(self, status: int, data: bytes, ctype: str, headers: dict | None = None):
                self.send_response(status)
                self.send_header("content-type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, events: list, headers: dict, pause: float):
                """SSE events as they come (chunked), pausing after each content block."""
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for name, data in events:
                    chunk = _sse([(name, data)])
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    if name == "content_block_stop":
                        time.sleep(pause)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _next(self, api: str, default: Reply, fits=None) -> tuple[int, Reply]:
        """The request's number for this API (1, 2, ...: in the ids the reply carries) and the
        reply: the first in the queue that `fits` it, if given; requests may come at once (a
        sub-agent beside its parent)."""
        with self.lock:
            n = self.counts[api] = self.counts.get(api, 0) + 1
            queue = self.queues[api]
            i = next((i for i, r in enumerate(queue) if fits is None or fits(r)), None)
            reply = queue.pop(i) if i is not None else default
            return n, reply

    def _note(self, entry: dict) -> None:
        with self.lock:
            self.answered.append(entry)

    # -- Anthropic Messages ---------------------------------------------------------------------

    def _anthropic(self, h, req: dict) -> None:
        n, reply = self._next("anthropic", Reply({"input_tokens": 10, "output_tokens": 5}))
        model = reply.model or req.get("model") or "claude-unknown"
        mid, rid = f"msg_standin{n:04d}", f"req_standin{n:04d}"
        usage = dict(reply.usage)
        final_out = int(usage.pop("output_tokens", 0))
        start_usage = {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, **usage, "output_tokens": 1}
        blocks = reply.blocks or [("text", reply.text)]
        content = []
        events: list[tuple[str | None, dict]] = []
        for i, block in enumerate(blocks):
            kind = block[0]
            if kind == "thinking":
                start = {"type": "thinking", "thinking": "", "signature": ""}
                deltas = [
                    {"type": "thinking_delta", "thinking": block[1]},
                    {"type": "signature_delta", "signature": "c3RhbmQtaW4="},
                ]
                content.append({"type": "thinking", "thinking": block[1], "signature": "c3RhbmQtaW4="})
            elif kind == "tool_use":
                tid = f"toolu_standin{n:04d}{i}"
                start = {"type": "tool_use", "id": tid, "name": block[1], "input": {}}
                deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block[2])}]
                content.append({"type": "tool_use", "id": tid, "name": block[1], "input": block[2]})
            else:
                start = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": block[1]}]
                content.append({"type": "text", "text": block[1]})
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": start}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}) for d in deltas]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        message = {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        events.insert(0, ("message_start", {"type": "message_start", "message": message}))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": final_out},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        returned = {**start_usage, "output_tokens": final_out}
        self._note({"api": "anthropic", "model": model, "messageId": mid, "requestId": rid, "usage": returned})
        headers = {"request-id": rid, **self.headers.get("anthropic", {})}
        if req.get("stream") and reply.pause:
            h._stream(events, headers, reply.pause)
        elif req.get("stream"):
            h._send(200, _sse(events), "text/event-stream", headers)
        else:
            full = {**message, "content": content, "stop_reason": reply.stop_reason, "usage": returned}
            h._send(200, json.dumps(full).encode(), "application/json", headers)

    # -- OpenAI Responses -------------------------------------------------------------------------

    def _openai(self, h, req: dict) -> None:
        n, reply = self._next("openai", Reply({"input_tokens": 10, "output_tokens": 5}))
        model = req.get("model") or "gpt-unknown"
        rid = f"resp_standin{n:04d}"
        item = {
            "type": "message",
            "id": f"msg_standin{n:04d}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
        }
        usage = {
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
            **reply.usage,
        }
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        resp = {"id": rid, "object": "response", "created_at": 1796000000, "status": "in_progress", "model": model}
        events = [
            {"type": "response.created", "response": {**resp, "output": []}},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", "content": []},
            },
            {
                "type": "response.output_text.delta",
                "output_index": 0,
                "content_index": 0,
                "item_id": item["id"],
                "delta": reply.text,
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {
                "type": "response.completed",
                "response": {**resp, "status": "completed", "output": [item], "usage": usage},
            },
        ]
        self._note({"api": "openai", "model": model, "responseId": rid, "usage": usage})
        h._send(200, _sse([(e["type"], e) for e in events]), "text/event-stream", self.headers.get("openai"))

    # -- OpenAI Chat Completions ----------------------------------------------------------------

    def _chat(self, h, req: dict) -> None:
        """`POST /v1/chat/completions`: streamed (`data:` chunks, then, with
        `stream_options.include_usage`, a last chunk whose `choices` is empty and which carries
        `usage`, then `data: [DONE]`) or whole. `usage` in OpenAI's shape: `prompt_tokens`
        (cached included), `completion_tokens`, `prompt_tokens_details.cached_tokens`,
        `completion_tokens_details.reasoning_tokens`."""
        # a reply that calls a tool goes to a request that offers tools (not a title's)
        offers = bool(req.get("tools"))
        n, reply = self._next(
            "chat",
            Reply({"prompt_tokens": 10, "completion_tokens": 5}),
            lambda r: offers or not any(b[0] == "tool_use" for b in r.blocks),
        )
        model = reply.model or req.get("model") or "chat-unknown"
        cid = f"chatcmpl-standin{n:04d}"
        usage = dict(reply.usage)
        usage["total_tokens"] = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
        system = next((m.get("content") for m in req.get("messages") or [] if m.get("role") == "system"), None)
        # what the call was for, as its system prompt begins (a title, a sub-agent...)
        purpose = system[:60] if isinstance(system, str) else None
        self._note({"api": "chat", "model": model, "id": cid, "usage": usage, "purpose": purpose})
        base = {"id": cid, "object": "chat.completion.chunk", "created": 1796000000, "model": model}
        # a ("tool_use", name, input) block: the answer calls that tool instead of saying text
        calls = [
            {"index": i, "id": f"call_standin{n:04d}{i}", "type": "function",
             "function": {"name": b[1], "arguments": json.dumps(b[2])}}
            for i, b in enumerate(x for x in reply.blocks if x[0] == "tool_use")
        ]  # fmt: skip
        finish = "tool_calls" if calls else "stop"
        if not req.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if calls else reply.text}
            if calls:
                message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
            body = {
                **base,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            }
            h._send(200, json.dumps(body).encode(), "application/json", self.headers.get("chat"))
            return
        half = len(reply.text) // 2
        if calls:
            deltas = [{"role": "assistant", "content": None, "tool_calls": calls}]
        else:
            deltas = [{"role": "assistant", "content": reply.text[:half]}, {"content": reply.text[half:]}]
        chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (req.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": usage})
        data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        h._send(200, data.encode(), "text/event-stream", self.headers.get("chat"))

    # -- Gemini ---------------------------------------------------------------------------------

    def _gemini(self, h, req: dict, path: str) -> None:
        model = path.split("/models/", 1)[1].split(":", 1)[0]
        if "streamGenerateContent" not in path:
            # a side call (e.g. which speaker is next): answered, not part of the chat's usage
            body = {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"text": '{"next_speaker": "user", "reasoning": "done"}'}],
                        },
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
                "modelVersion": model,
            }
            self._note({"api": "gemini-side", "model": model, "usage": body["usageMetadata"]})
            h._send(200, json.dumps(body).encode(), "application/json")
            return
        n, reply = self._next("gemini", Reply({"promptTokenCount": 10, "candidatesTokenCount": 5}))
        um = dict(reply.usage)
        um["totalTokenCount"] = sum(
            um.get(k, 0)
            for k in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount")
        )
        half = len(reply.text) // 2
        chunks = [
            {
                "candidates": [{"content": {"role": "model", "parts": [{"text": reply.text[:half]}]}, "index": 0}],
                "modelVersion": model,
                "responseId": f"standin{n:04d}",
            },
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": reply.text[half:]}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": um,
                "modelVersion": model,
                "responseId": f"standin{n:04d}",
            },
        ]
        self._note({"api": "gemini", "model": model, "usage": um})
        h._send(200, _sse([(None, c) for c in chunks]), "text/event-stream")
