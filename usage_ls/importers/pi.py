"""pi (badlogic/pi-mono's coding agent): its session files.

Format read
    `$PI_CODING_AGENT_DIR/sessions` (pi's own variable moves its whole folder), else
    `$PI_AGENT_DIR` (ccusage's, the sessions folder itself), else `~/.pi/agent/sessions`; then
    `--<cwd with / as ->--/<time>_<uuid>.jsonl`. First line `{"type": "session", "id", "cwd",
    "timestamp", ...}`; a request's answer is `{"type": "message", "timestamp" (RFC 3339),
    "message": {"role": "assistant", "provider", "model", "usage": {input, output, cacheRead,
    cacheWrite, totalTokens, cost: {input, output, cacheRead, cacheWrite, total}}, "timestamp"
    (ms)}}`: one per LLM request (pi-ai's `Usage` type).

Mapping
    input, output, cache reads and writes as pi counts them (kept apart, Anthropic-style);
    cost = `cost.total` when above 0. pi writes `cost.total: 0` for a model it cannot price:
    such a request is priced from the table (ccusage trusts the 0 and shows $0). project =
    last segment of the header's `cwd`; session = the file name after `_`; feature `pi`.

Dedupe key
    `pi:<hash of the message's time (ms), provider, model and counts>`: a branched session's
    file repeating earlier messages (unverified) adds nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from usage_ls.importers.base import Tool, count, ms_ts, project_of, short_hash
from usage_ls.importers.lines import FileResult, marked_objects

FEATURE = "pi"
MARKS = (b'"usage"', b'"session"')  # an assistant message's usage, the header's type


def assistant_record(msg: dict, ts_value, where: str, result: FileResult, feature: str) -> dict | None:
    """The record of a pi-style assistant message (pi, OpenClaw), without its id; None (and the
    problem counted when there is one) when it is not usage."""
    usage = msg.get("usage")
    if msg.get("role") != "assistant" or not isinstance(usage, dict):
        return None
    vals = [count(usage.get(k) or 0) for k in ("input", "output", "cacheRead", "cacheWrite")]
    if any(v is None for v in vals):
        result.bad(where, "usage counts are not non-negative integers")
        return None
    inp, out, cr, cw = (int(v or 0) for v in vals)
    if not (inp or out or cr or cw):
        return None
    ts = ms_ts(msg.get("timestamp")) or ms_ts(ts_value)
    if ts is None:
        result.bad(where, "message without a usable timestamp")
        return None
    rec = {"timestamp": ts, "inputTokens": inp, "outputTokens": out, "cacheReadTokens": cr,
           "cacheWriteTokens": cw, "feature": feature}  # fmt: skip
    cost = usage.get("cost")
    total = cost.get("total") if isinstance(cost, dict) else None
    if isinstance(total, (int, float)) and not isinstance(total, bool) and total > 0:
        rec["costUsd"] = float(total)
    return rec


class Pi(Tool):
    name = "pi"
    feature = FEATURE

    def roots(self) -> list[Path]:
        own = os.environ.get("PI_CODING_AGENT_DIR", "")
        if own.strip():
            return [Path(own).expanduser() / "sessions"]
        env = os.environ.get("PI_AGENT_DIR", "")
        return [Path(env).expanduser() if env.strip() else Path.home() / ".pi" / "agent" / "sessions"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        project = state.get("project")
        session = path.stem.split("_", 1)[-1]
        # only the header and the lines with usage are parsed (not the conversation's text)
        for offset, obj in marked_objects(path, start, result, MARKS, final=final):
            if obj.get("type") == "session":
                project = project_of(obj.get("cwd")) or project
                continue
            msg = obj.get("message")
            if obj.get("type") != "message" or not isinstance(msg, dict):
                continue
            rec = assistant_record(msg, obj.get("timestamp"), f"{path.name}:{offset}", result, FEATURE)
            if rec is None:
                continue
            model = msg.get("model") if isinstance(msg.get("model"), str) and msg["model"] else "(unknown)"
            provider = msg.get("provider") if isinstance(msg.get("provider"), str) and msg["provider"] else None
            counts = (rec["inputTokens"], rec["outputTokens"], rec["cacheReadTokens"], rec["cacheWriteTokens"])
            rec["id"] = "pi:" + short_hash(rec["timestamp"], provider, model, *counts)
            rec.update(model=model[:200], project=project or "(no project)", session=session[:200])
            if provider:
                rec["provider"] = provider[:100]
            result.entries.append(rec)
        result.state = {"project": project} if project else {}

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        kept: dict[str, dict] = {}
        for rec in entries:
            kept.setdefault(rec["id"], rec)
        return list(kept.values()), len(entries) - len(kept)
