"""Claude Code's transcript lines, one at a time: which are usage, and what each says.

A usage line is an assistant message with `message.usage` (or a progress line carrying one in
`data.message.message`). `fast_entry` decodes the common shape with msgspec into just the
fields read, checking their types in C; anything unusual goes to `slow_entry`, which checks
every field with the reason a line is skipped. Both make the same `Entry` (a test holds them
to it), whose record is built (`build_record`) only for lines that survive the merge.
"""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple

import msgspec
from msgspec import UNSET, UnsetType

from usage_ls import attribution
from usage_ls.errors import describe
from usage_ls.importers.base import count, parse_ts, project_of, short_hash

FEATURE = "claude-code"
VERSION = re.compile(r"^\d+\.\d+\.\d")
NULLABLE_TOP = ("cwd", "costUSD", "version", "sessionId", "requestId", "isApiErrorMessage")
NULLABLE_USAGE = ("speed", "cache_read_input_tokens", "cache_creation_input_tokens")


class Entry(NamedTuple):
    """One usage line as a candidate for the merge (ccusage's rule, see `merge`)."""

    message_id: str | None
    request_id: str | None
    sidechain: bool
    total: int  # input + output + cache tokens
    record: object  # the record (dict), `_record`'s arguments (tuple) or, once prepared, `Prepared`
    cost: float | None  # the line's own costUSD
    cwd: str | None = None  # the line's working directory (the fast path's, to carry it on)
    # whether the line has the response's final counts: True when `message.stop_reason` is set
    # (written once the response ended), False when it is null (written while it streamed),
    # None when the line does not say
    done: bool | None = None


# per usage line: a tuple made straight into an Entry (half the time of `Entry(...)`)
new_entry = tuple.__new__


def counts(rec) -> list[int]:
    if type(rec) is tuple:  # `_record`'s arguments
        return list(rec[6:11])
    return [
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        rec["cacheWrite1hTokens"],
    ]


def as_record(rec) -> dict:
    """An entry's record: the fast path keeps `_record`'s arguments and builds the dict only
    for the lines that survive the merge (about half of them: the others repeat a response)."""
    return build_record(*rec) if type(rec) is tuple else rec


class NoUsage(str):
    pass


NO_USAGE = NoUsage("no usage")


def slow_entry(obj: dict, cwd: str | None, fallback_project: str, projects: dict | None = None):
    """(Entry, None) or (None, problem)."""
    msg = obj.get("message")
    outer = obj
    usage = msg.get("usage") if type(msg) is dict else None
    if type(usage) is not dict:
        data = obj.get("data")
        inner = data.get("message") if type(data) is dict else None
        msg = inner.get("message") if type(inner) is dict else None
        usage = msg.get("usage") if type(msg) is dict else None
        if type(usage) is not dict:
            return None, NO_USAGE
        outer = inner  # a sub-agent's message embedded in a progress line
    get = outer.get
    if None in (
        get("cwd", 0),
        get("costUSD", 0),
        get("version", 0),
        get("sessionId", 0),
        get("requestId", 0),
        get("isApiErrorMessage", 0),
    ):
        for k in NULLABLE_TOP:
            if k in outer and outer[k] is None:
                return None, f"{k} is null"
    mid = msg.get("id")
    model = msg.get("model")
    if mid is None and "id" in msg:
        return None, "message.id is null"
    if model is None and "model" in msg:
        return None, "message.model is null"
    ugets = usage.get
    if None in (ugets("speed", 0), ugets("cache_read_input_tokens", 0), ugets("cache_creation_input_tokens", 0)):
        for k in NULLABLE_USAGE:
            if k in usage and usage[k] is None:
                return None, f"usage.{k} is null"
    ts = parse_ts(get("timestamp"))
    if ts is None:
        return None, f"timestamp is not RFC 3339 with an offset, got {describe(get('timestamp'))}"
    if outer is obj:
        version = get("version")
        if version is not None and not (type(version) is str and VERSION.match(version)):
            return None, f"version is not a version number, got {describe(version)}"
        session = get("sessionId")
    else:
        session = obj.get("sessionId")
    rid = get("requestId")
    for label, value in (("sessionId", session), ("requestId", rid), ("message.id", mid), ("message.model", model)):
        if value is not None and (type(value) is not str or not value):
            return None, f"{label} is empty or not a string"
    side = get("isSidechain")
    if side is not None and type(side) is not bool:
        return None, "isSidechain is not a boolean"
    inp = ugets("input_tokens")
    out = ugets("output_tokens")
    if type(inp) is not int or type(out) is not int or inp < 0 or out < 0:
        return None, "usage.input_tokens/output_tokens missing or not a non-negative integer"
    cr = ugets("cache_read_input_tokens", 0)
    cw = ugets("cache_creation_input_tokens", 0)
    if type(cr) is not int or type(cw) is not int or cr < 0 or cw < 0:
        return None, "usage cache token count is not a non-negative integer"
    w1h = 0
    breakdown = ugets("cache_creation")
    if breakdown is not None:
        if type(breakdown) is not dict:
            return None, "usage.cache_creation is not an object"
        w5 = count(breakdown.get("ephemeral_5m_input_tokens", 0))
        w1h = count(breakdown.get("ephemeral_1h_input_tokens", 0))
        if w5 is None or w1h is None:
            return None, "usage.cache_creation counts are not non-negative integers"
        cw, w1h = cache_writes(cw, w5, w1h)
    cost = get("costUSD")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
        return None, "costUSD is not a number"
    line_cwd = get("cwd")
    if type(line_cwd) is not str:
        line_cwd = cwd
    rec = build_record(
        mid,
        rid,
        ts,
        model,
        project_for(line_cwd, fallback_project, projects),
        session,
        inp,
        out,
        cr,
        cw,
        w1h,
        cost,
        get("uuid"),
        line_feature(
            get("attributionAgent", UNSET),
            get("attributionSkill", UNSET),
            get("attributionPlugin", UNSET),
            get("attributionMcpServer", UNSET),
            side is True,
        ),
    )
    stop = msg.get("stop_reason", _NOT_SAID)
    done = None if stop is _NOT_SAID else stop is not None
    total = inp + out + cr + cw
    return Entry(mid, rid, bool(side), total, rec, None if cost is None else float(cost), None, done), None


_NOT_SAID = object()
_FEATURES: dict[tuple, str] = {}


def line_feature(agent, skill, plugin, mcp, subagent: bool) -> str:
    """The record's feature: `claude-code`, plus the line's own attribution (Claude Code writes
    `attributionAgent`, `attributionSkill`, `attributionPlugin`, `attributionMcpServer` on the
    assistant lines they apply to: the same names its OpenTelemetry events carry as `agent.name`,
    `skill.name`, `plugin.name`, `mcp_server.name`) and `query=subagent` for a sub-agent's line
    (a sidechain line: `<session>/subagents/agent-*.jsonl`, or inline in older versions), the words the
    OTLP receiver writes for the same call."""
    if agent is UNSET and skill is UNSET and plugin is UNSET and mcp is UNSET and not subagent:
        return FEATURE
    key = (agent, skill, plugin, mcp, subagent)
    try:
        hit = _FEATURES.get(key)
    except TypeError:  # a value that is not a string (a list...): not a name
        return line_feature(*(v if type(v) is str else UNSET for v in key[:4]), subagent)
    if hit is None:
        pairs = (("agent", agent), ("skill", skill), ("plugin", plugin), ("mcp", mcp))
        hit = attribution.feature(FEATURE, (*pairs, ("query", "subagent" if subagent else None)))
        if len(_FEATURES) < 10_000:
            _FEATURES[key] = hit
    return hit


def cache_writes(total: int, w5: int, w1h: int) -> tuple[int, int]:
    """(cache writes, of which 1-hour) from `cache_creation_input_tokens` and the
    `cache_creation` breakdown. The total is the truth: behind a gateway (Bedrock, Vertex, a
    proxy) the API may send no breakdown, and Claude Code then writes one of zeros; the
    breakdown only says which part was written for an hour, the rest is 5-minute. A total of 0
    with a breakdown takes the breakdown's sum. Claude Code's own cost (`cost-state`) counts
    the same way: checked against Claude Code 2.1.332 (tests/importers/test_real_tools.py)."""
    if not total:
        total = w5 + w1h
    return total, min(w1h, total)


def project_for(cwd, fallback: str, projects: dict | None) -> str:
    if projects is None:
        return project_of(cwd) or fallback
    project = projects.get(cwd)
    if project is None:
        project = projects[cwd] = project_of(cwd) or fallback
    return project


def build_record(mid, rid, ts, model, project, session, inp, out, cr, cw, w1h, cost, uuid, feature=FEATURE) -> dict:
    """The protocol record of one usage line (checked by the caller)."""
    rec_id, ts, model, provider, project, session, inp, out, cr, cw, w1h, cost, feature = record_fields(
        mid, rid, ts, model, project, session, inp, out, cr, cw, w1h, cost, uuid, feature
    )
    rec = {
        "id": rec_id,
        "timestamp": ts,
        "model": model,
        "provider": provider,
        "project": project,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": cr,
        "cacheWriteTokens": cw,
        "cacheWrite1hTokens": w1h,
        "feature": feature,
    }
    if session is not None:
        rec["session"] = session
    if cost is not None:
        rec["costUsd"] = cost
    return rec


def record_fields(mid, rid, ts, model, project, session, inp, out, cr, cw, w1h, cost, uuid, feature=FEATURE) -> tuple:
    """The protocol fields of one usage line (None: the record leaves it out): id, timestamp,
    model, provider, project, session, the four token counts and the 1-hour part, cost, feature
    (`claude-code` and the line's attribution words: `line_feature`)."""
    if mid is not None:
        rec_id = f"claude-code:{mid}:{rid if rid is not None else '-'}"
    else:
        rec_id = f"claude-code:line:{uuid or short_hash(ts, session, inp, out, cr, cw)}"
    if len(rec_id) > 200:
        rec_id = "claude-code:h:" + short_hash(rec_id)
    return (
        rec_id,
        ts,
        model or "(unknown)",
        "anthropic",
        project,
        session[:200] if session else None,
        inp,
        out,
        cr,
        cw,
        w1h,
        None if cost is None else float(cost),
        feature,
    )


# -- the fast path: most lines, decoded without building what is not read ---------------------


# Types that msgspec checks in C: a line whose fields are not plainly well-formed (a null, a
# negative or non-integer count, an empty id...) fails to decode and goes the slow way, which
# finds the reason. (Fields only tested for null stay `object`.)
_Count = Annotated[int, msgspec.Meta(ge=0)]
_Name = Annotated[str, msgspec.Meta(min_length=1)]


class _CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: _Count = 0
    ephemeral_1h_input_tokens: _Count = 0


class _Usage(msgspec.Struct):
    input_tokens: _Count | UnsetType = UNSET
    output_tokens: _Count | UnsetType = UNSET
    cache_read_input_tokens: _Count = 0
    cache_creation_input_tokens: _Count = 0
    cache_creation: _CacheCreation | None = None
    speed: object = UNSET


class _Message(msgspec.Struct):
    id: _Name | UnsetType = UNSET
    model: _Name | UnsetType = UNSET
    usage: _Usage | None | UnsetType = UNSET
    stop_reason: object = UNSET


class _Line(msgspec.Struct):
    message: _Message | None | UnsetType = UNSET
    cwd: str | UnsetType = UNSET
    sessionId: _Name | UnsetType = UNSET
    requestId: _Name | UnsetType = UNSET
    isSidechain: bool | UnsetType = UNSET
    version: str | UnsetType = UNSET
    costUSD: Annotated[float, msgspec.Meta(ge=0)] | UnsetType = UNSET
    isApiErrorMessage: object = UNSET
    timestamp: str | UnsetType = UNSET
    agentId: object = UNSET
    attributionAgent: object = UNSET
    attributionSkill: object = UNSET
    attributionPlugin: object = UNSET
    attributionMcpServer: object = UNSET


_decode_line = msgspec.json.Decoder(_Line).decode
_GOOD_VERSIONS: set[str] = set()


def good_version(version) -> bool:
    if type(version) is str and VERSION.match(version):
        if len(_GOOD_VERSIONS) < 10_000:
            _GOOD_VERSIONS.add(version)
        return True
    return False


def fast_entry(line: bytes, cwd, fallback_project: str, projects: dict):
    """`_entry` for a plain assistant line whose fields are all well-formed, decoded with
    msgspec (only the fields read here are built, not the message's content). Returns
    (..._entry's tuple, the line's cwd) or None: anything unusual goes the slow way, where
    every check and its reason live."""
    try:
        o = _decode_line(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    msg = o.message
    if type(msg) is not _Message:
        return None
    u = msg.usage
    mid, rid, model = msg.id, o.requestId, msg.model
    if (
        type(u) is not _Usage
        or mid is UNSET
        or rid is UNSET
        or model is UNSET
        or o.isApiErrorMessage is None
        or u.speed is None
    ):
        return None
    inp, out, cr, cw = u.input_tokens, u.output_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens
    if inp is UNSET or out is UNSET:
        return None
    w1h = 0
    breakdown = u.cache_creation
    if breakdown is not None:
        w1h = breakdown.ephemeral_1h_input_tokens
        if not cw:
            cw = breakdown.ephemeral_5m_input_tokens + w1h
        elif w1h > cw:
            w1h = cw
    version, cost = o.version, o.costUSD
    if not (version is UNSET or version in _GOOD_VERSIONS or good_version(version)):
        return None
    if cost is UNSET:
        cost = None
    ts = parse_ts(o.timestamp)
    if ts is None:
        return None
    if o.cwd is not UNSET:
        cwd = o.cwd
    session = o.sessionId
    if session is UNSET:
        session = None
    rec = (
        mid,
        rid,
        ts,
        model,
        project_for(cwd, fallback_project, projects),
        session,
        inp,
        out,
        cr,
        cw,
        w1h,
        cost,
        None,
        line_feature(
            o.attributionAgent,
            o.attributionSkill,
            o.attributionPlugin,
            o.attributionMcpServer,
            o.isSidechain is True,
        ),
    )
    stop = msg.stop_reason
    done = None if stop is UNSET else stop is not None
    return new_entry(Entry, (mid, rid, o.isSidechain is True, inp + out + cr + cw, rec, cost, cwd, done))
