"""OpenTelemetry -> usage records, per tool. Pure: decoded OTLP messages in, records out.

Which signal counts (one API call must be one record):

- **Claude Code, Codex, Gemini CLI** send one log event per API call; those events are the
  record (`claude_code.api_request`; `codex.sse_event` of kind `response.completed` carrying
  token counts; `gemini_cli.api_response`). Their token and cost *metrics*
  (`claude_code.token.usage`, `claude_code.cost.usage`, `codex.turn.token_usage`,
  `gemini_cli.token.usage`, and the `gen_ai.client.token.usage` Gemini CLI also sends) repeat
  the same calls in aggregate and are never counted.
- **Any other service** (Copilot Chat and CLI, GenAI-convention instrumentations): the
  `gen_ai.client.token.usage` metric (`[receive] genai = "metrics"`, the default), or instead
  `gen_ai.usage.*` attributes on its log events (`genai = "events"`) — one signal, never both.

Records carry the tool's attribution (agent, skill, plugin, MCP server, query source) in
`feature` (`claude-code agent=code-reviewer skill=pdf`), so a split by feature shows where the
money went inside an agent. docs/live.md lists every mapping and id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from usage_ls import attribution
from usage_ls.errors import describe

CLAUDE_REQUEST = "claude_code.api_request"
CODEX_SSE = "codex.sse_event"
GEMINI_RESPONSE = "gemini_cli.api_response"
TOOL_EVENTS = frozenset((CLAUDE_REQUEST, CODEX_SSE, GEMINI_RESPONSE))
GENAI_TOKENS = "gen_ai.client.token.usage"
ATTRIBUTION = (  # (OTel attribute, key in `feature`)
    ("agent.name", "agent"),
    ("gen_ai.agent.name", "agent"),
    ("skill.name", "skill"),
    ("plugin.name", "plugin"),
    ("mcp_server.name", "mcp"),
    ("query_source", "query"),
)


class Bad(ValueError):
    """A usage event whose values cannot make a record: rejected (partial success)."""


@dataclass
class Call:
    """One API call from a usage event: its record and what can tie it to the tool's own log."""

    tool: str  # "claude-code", "codex", "gemini", or the service name of a GenAI emitter
    record: dict[str, Any]
    session: str | None = None
    request_id: str | None = None  # Claude Code: equals the transcript's `requestId`


@dataclass
class Point:
    """One data point of a counted metric, before temporality: `series` identifies its time
    series, `group` the record it adds to (the series without its token type)."""

    series: str
    group: str
    temporality: int  # 1 delta, 2 cumulative
    start: int  # ns
    time: int  # ns
    value: float
    token_type: str
    model: str | None
    provider: str | None
    service: str
    feature: str


@dataclass
class Seen:
    """What one request held, for the reply and the receiver's counters."""

    calls: list[Call] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # reasons, one per rejected item
    ignored: dict[str, int] = field(default_factory=dict)  # why items were not counted -> how many

    def ignore(self, why: str, n: int = 1) -> None:
        self.ignored[why] = self.ignored.get(why, 0) + n


# -- attributes -----------------------------------------------------------------------------


def value_of(v: Any) -> Any:
    """An OTLP AnyValue as a plain Python value."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attrs_of(v.kvlist_value.values)
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attrs_of(kvs: Any) -> dict[str, Any]:
    return {kv.key: value_of(kv.value) for kv in kvs}


def tool_of(service: str) -> str | None:
    """The AI CLI a `service.name` belongs to (the ones whose per-call events we read)."""
    s = service.lower()
    if s.startswith(("claude-code", "claude_code")):
        return "claude-code"
    if s.startswith("codex"):
        return "codex"
    if s.startswith(("gemini-cli", "gemini_cli")):
        return "gemini"
    return None


def digest(*parts: Any) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _count(attrs: dict[str, Any], key: str) -> int | None:
    """A token count: int, integral float or decimal string (Codex sends strings); None if absent."""
    value = attrs.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Bad(f"{key}: expected a token count (an integer >= 0), got {describe(value)}")
    return value


def _money(attrs: dict[str, Any], key: str) -> float | None:
    value = attrs.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise Bad(f"{key}: expected a number, got {describe(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise Bad(f"{key}: expected a number >= 0, got {describe(value)}")
    return float(value)


def text_of(attrs: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None


def _when(attrs: dict[str, Any], *nanos: int) -> int | None:
    """Epoch ms of an event: `event.timestamp` (RFC 3339), else the first non-zero time."""
    stamp = attrs.get("event.timestamp")
    if isinstance(stamp, str):
        try:
            parsed = dt.datetime.fromisoformat(stamp.strip().replace("z", "Z"))
            if parsed.tzinfo is not None:
                return int(parsed.timestamp() * 1000)
        except ValueError:
            pass
    for ns in nanos:
        if ns:
            return ns // 1_000_000
    return None


def feature_of(tool: str, attrs: dict[str, Any]) -> str:
    """`tool` plus the call's attribution: `claude-code agent=code-reviewer mcp=github`."""
    return attribution.feature(tool, ((label, attrs.get(key)) for key, label in ATTRIBUTION))


def provider_of(name: str | None) -> str | None:
    """A GenAI `gen_ai.provider.name` as the price table names providers."""
    if not name:
        return None
    n = name.lower()
    if n.startswith("gcp."):
        return "google"
    if n.startswith("azure."):
        return "azure"
    if n.startswith("aws."):
        return "aws"
    return {"x_ai": "x-ai"}.get(n, n)[:100]


# -- log events -----------------------------------------------------------------------------


def event_name(record: Any, attrs: dict[str, Any]) -> str | None:
    """The event's full name: `event.name` (Claude Code puts the short name there and the full
    one in the body), the body, or the LogRecord's own `event_name`."""
    names = [attrs.get("event.name"), record.event_name]
    if record.body.WhichOneof("value") == "string_value":
        names.insert(1, record.body.string_value)
    for name in names:
        if isinstance(name, str) and name in TOOL_EVENTS:
            return name
    short = attrs.get("event.name")
    if short == "api_request" and any(isinstance(n, str) and n.startswith("claude_code.") for n in names):
        return CLAUDE_REQUEST
    return next((n for n in names if isinstance(n, str) and n), None)


def logs(request: Any, genai: str = "metrics") -> Seen:
    """Usage events of an ExportLogsServiceRequest."""
    seen = Seen()
    for resource_logs in request.resource_logs:
        resource = attrs_of(resource_logs.resource.attributes)
        service = str(resource.get("service.name") or "unknown_service")
        tool = tool_of(service)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = attrs_of(record.attributes)
                name = event_name(record, attrs)
                try:
                    call = _call(name, attrs, record, service, tool, genai)
                except Bad as exc:
                    seen.rejected.append(f"{name}: {exc}")
                    continue
                if call is None:
                    seen.ignore("not a usage event")
                elif _empty(call.record):
                    seen.ignore("no tokens")
                else:
                    seen.calls.append(call)
    return seen


def _empty(rec: dict[str, Any]) -> bool:
    return not any(rec.get(k) for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"))


def _call(
    name: str | None, attrs: dict[str, Any], record: Any, service: str, tool: str | None, genai: str
) -> Call | None:
    ts = _when(attrs, record.time_unix_nano, record.observed_time_unix_nano)
    if name == CLAUDE_REQUEST:
        return claude_call(attrs, ts)
    if name == CODEX_SSE:
        return codex_call(attrs, ts)
    if name == GEMINI_RESPONSE:
        return gemini_call(attrs, ts)
    if (
        tool is None
        and genai == "events"
        and ("gen_ai.usage.input_tokens" in attrs or "gen_ai.usage.output_tokens" in attrs)
    ):
        return genai_call(attrs, ts, service)
    return None


def make_record(rec_id: str, ts: int | None, model: str | None, provider: str | None, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": rec_id[:200], "model": model or "(unknown)", "provider": provider}
    if ts is not None:
        rec["timestamp"] = ts
    rec.update({k: v for k, v in fields.items() if v is not None})
    return rec


def claude_call(attrs: dict[str, Any], ts: int | None) -> Call:
    """`claude_code.api_request`: Anthropic's accounting (input excludes cache); cache writes
    are `cache_creation_tokens` (else its 5-minute and 1-hour parts); the cost Claude Code
    reports (`cost_usd_micros`, else `cost_usd`) is the record's reported cost."""
    rid = text_of(attrs, "request_id")
    session = text_of(attrs, "session.id")
    w5, w1h = _count(attrs, "cache_creation_5m_tokens"), _count(attrs, "cache_creation_1h_tokens") or 0
    writes = _count(attrs, "cache_creation_tokens")
    if writes is None:
        writes = (w5 or 0) + w1h
    micros = _count(attrs, "cost_usd_micros")
    cost = micros / 1_000_000 if micros is not None else _money(attrs, "cost_usd")
    key = rid or digest(session, attrs.get("event.sequence"), attrs.get("prompt.id"), ts)
    rec = make_record(
        f"claude-code:otel:{key}",
        ts,
        text_of(attrs, "model"),
        "anthropic",
        inputTokens=_count(attrs, "input_tokens") or 0,
        outputTokens=_count(attrs, "output_tokens") or 0,
        cacheReadTokens=_count(attrs, "cache_read_tokens") or 0,
        cacheWriteTokens=writes,
        cacheWrite1hTokens=min(w1h, writes),
        costUsd=cost,
        session=session,
        feature=feature_of("claude-code", {**attrs, "query_source": claude_query(attrs.get("query_source"))}),
    )
    return Call("claude-code", rec, session, rid)


def claude_query(source: Any) -> Any:
    """Claude Code's `query_source` as Claude Code itself classifies it for its metrics: its main
    loop (`repl_main_thread…`, `sdk` under `-p`) is `main` (left out of `feature`), a sub-agent
    (`agent:custom`, `agent:builtin`, `hook_agent`) is `subagent`; the rest (`compact`,
    `generate_session_title`…) as sent."""
    if not isinstance(source, str):
        return source
    if source.startswith("repl_main_thread") or source == "sdk":
        return "main"
    if source.startswith("agent:") or source == "hook_agent":
        return "subagent"
    return source


def codex_call(attrs: dict[str, Any], ts: int | None) -> Call | None:
    """`codex.sse_event` of kind `response.completed` with token counts (the same kind is also
    sent once without them: not usage). OpenAI's accounting, as the rollout importer: cached
    tokens are part of `input_token_count`, reasoning part of `output_token_count`."""
    if attrs.get("event.kind") != "response.completed" or "input_token_count" not in attrs:
        return None
    inp = _count(attrs, "input_token_count") or 0
    cached = min(_count(attrs, "cached_token_count") or 0, inp)
    out = _count(attrs, "output_token_count") or 0
    reasoning = _count(attrs, "reasoning_token_count")
    session = text_of(attrs, "conversation.id")
    model = text_of(attrs, "model", "slug")
    rec = make_record(
        "codex:otel:" + digest(session, attrs.get("event.timestamp") or ts, model, inp, cached, out, reasoning),
        ts,
        model,
        "openai",
        inputTokens=inp - cached,
        outputTokens=out,
        cacheReadTokens=cached,
        session=session,
        feature=feature_of("codex", attrs),
    )
    return Call("codex", rec, session)


def gemini_call(attrs: dict[str, Any], ts: int | None) -> Call:
    """`gemini_cli.api_response`: Google's accounting, as the chat-recording importer: cached
    tokens are part of `input_token_count`; tool-use prompt tokens are input; thoughts are output."""
    inp = _count(attrs, "input_token_count") or 0
    cached = min(_count(attrs, "cached_content_token_count") or 0, inp)
    tool_tokens = _count(attrs, "tool_token_count") or 0
    out = _count(attrs, "output_token_count") or 0
    thoughts = _count(attrs, "thoughts_token_count") or 0
    session = text_of(attrs, "session.id")
    model = text_of(attrs, "model")
    role = attrs.get("role")
    feature_attrs = {**attrs, "query_source": role} if isinstance(role, str) else attrs
    rec = make_record(
        "gemini:otel:"
        + digest(
            session, attrs.get("prompt_id"), attrs.get("event.timestamp") or ts, model, inp, cached, out, thoughts
        ),
        ts,
        model,
        "google",
        inputTokens=inp - cached + tool_tokens,
        outputTokens=out + thoughts,
        cacheReadTokens=cached,
        session=session,
        feature=feature_of("gemini", feature_attrs),
    )
    return Call("gemini", rec, session)


def genai_call(attrs: dict[str, Any], ts: int | None, service: str) -> Call:
    """A log event with GenAI-convention usage: `gen_ai.usage.input_tokens` includes the cache
    reads and writes it lists separately; the cost, when given, is `gen_ai.usage.cost.amount`
    (USD only), `gen_ai.usage.cost_usd` or `gen_ai.usage.cost`."""
    inp = _count(attrs, "gen_ai.usage.input_tokens") or 0
    reads = _count(attrs, "gen_ai.usage.cache_read.input_tokens") or 0
    writes = _count(attrs, "gen_ai.usage.cache_creation.input_tokens") or 0
    cost = None
    currency = attrs.get("gen_ai.usage.cost.currency")
    if currency in (None, "USD", "usd"):
        cost = _money(attrs, "gen_ai.usage.cost.amount")
    if cost is None:
        cost = _money(attrs, "gen_ai.usage.cost_usd")
    if cost is None:
        cost = _money(attrs, "gen_ai.usage.cost")
    response_id = text_of(attrs, "gen_ai.response.id")
    session = text_of(attrs, "gen_ai.conversation.id", "session.id")
    model = text_of(attrs, "gen_ai.response.model", "gen_ai.request.model")
    key = response_id or digest(session, ts, model, inp, reads, writes, attrs.get("gen_ai.usage.output_tokens"))
    rec = make_record(
        f"otel:{service[:60]}:{key}",
        ts,
        model,
        provider_of(text_of(attrs, "gen_ai.provider.name", "gen_ai.system")),
        inputTokens=max(inp - reads - writes, 0),
        outputTokens=_count(attrs, "gen_ai.usage.output_tokens") or 0,
        cacheReadTokens=reads,
        cacheWriteTokens=writes,
        costUsd=cost,
        session=session,
        feature=feature_of(service[:60], attrs),
    )
    return Call(service, rec, session)
