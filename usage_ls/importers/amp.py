"""Amp (Sourcegraph): its thread files.

Format read
    `$AMP_DATA_DIR/threads/**/T-<uuid>.json` (default `~/.local/share/amp`), one JSON
    document per thread, rewritten as the thread goes: `{id, messages: [...], usageLedger?}`.
    Two schemas, both one record per request:
    - current: an assistant message's `usage: {model, timestamp, inputTokens, outputTokens,
      cacheCreationInputTokens, cacheReadInputTokens, totalInputTokens}` (`inputTokens`
      excludes cache: input + writes + reads = `totalInputTokens`);
    - legacy: `usageLedger.events[]`: `{id, timestamp, model, credits, tokens: {input, output,
      total}, toMessageId}`, whose cache counts are on the assistant message whose
      `messageId` is `toMessageId`.
    Amp stopped writing these files around April 2026 (its threads now live on Amp's
    servers, exported with `amp threads export`, the same shape): such an export can be
    imported by naming it (`usage-ls import amp FILE`); usage-ls never runs `amp` itself
    (that would reach the network).

Mapping
    input = `inputTokens` (ledger: `tokens.input`), output = `outputTokens`, cache writes/reads
    from the message's usage; model as logged; session = thread id; project `(no project)`
    (the thread file names none for sure); feature `amp`. Amp's `credits` are not dollars:
    cost comes from the price table, as ccusage does.

Dedupe key
    `amp:<thread id>:<event id>` (ledger) or `amp:<thread id>:<messageId>` (messages). A file
    with a `usageLedger` whose `events` is empty is read from its messages (ccusage reads
    nothing from such a file).
"""

from __future__ import annotations

import os
from pathlib import Path

from usage_ls.importers.base import Tool, count, ms_ts
from usage_ls.importers.lines import FileResult, load_json_file

FEATURE = "amp"


def _counts(d: dict, keys: tuple[str, ...]) -> list[int] | None:
    vals = [count(d.get(k) or 0) for k in keys]
    return None if any(v is None for v in vals) else [int(v or 0) for v in vals]


class Amp(Tool):
    name = "amp"
    feature = FEATURE
    patterns = ("*.json",)
    append_only = False

    def roots(self) -> list[Path]:
        env = os.environ.get("AMP_DATA_DIR", "")
        base = Path(env).expanduser() if env.strip() else Path.home() / ".local" / "share" / "amp"
        return [base / "threads"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        doc = load_json_file(path, result, final=final)
        if doc is None:
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            result.bad(path.name, "not an Amp thread (no messages)")
            return
        thread = str(doc.get("id") or path.stem)[:150]
        usage_of = {}
        for m in doc["messages"]:
            if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("usage"), dict):
                usage_of[m.get("messageId")] = m["usage"]
        ledger = doc.get("usageLedger")
        events = ledger.get("events") if isinstance(ledger, dict) else None
        if isinstance(events, list) and events:
            for i, ev in enumerate(events):
                if not isinstance(ev, dict) or not isinstance(ev.get("tokens"), dict):
                    continue
                io = _counts(ev["tokens"], ("input", "output"))
                cache = usage_of.get(ev.get("toMessageId")) or {}
                cw_cr = _counts(cache, ("cacheCreationInputTokens", "cacheReadInputTokens"))
                if io is None or cw_cr is None:
                    result.bad(f"{path.name}:events[{i}]", "token counts are not non-negative integers")
                    continue
                self._add(thread, ev.get("id", i), ev.get("timestamp"), ev.get("model"), io, cw_cr, path, result)
            return
        for mid, u in usage_of.items():
            got = _counts(u, ("inputTokens", "outputTokens", "cacheCreationInputTokens", "cacheReadInputTokens"))
            if got is None:
                result.bad(f"{path.name}:{mid}", "usage counts are not non-negative integers")
                continue
            self._add(thread, mid, u.get("timestamp"), u.get("model"), got[:2], got[2:], path, result)

    def _add(self, thread, key, when, model, io, cw_cr, path: Path, result: FileResult) -> None:
        inp, out = io
        cw, cr = cw_cr
        if not (inp or out or cw or cr):
            return
        ts = ms_ts(when)
        if ts is None:
            result.bad(f"{path.name}:{key}", "usage without a usable timestamp")
            return
        result.entries.append(
            {
                "id": f"amp:{thread}:{key}"[:200],
                "timestamp": ts,
                "model": model[:200] if isinstance(model, str) and model else "(unknown)",
                "project": "(no project)",
                "inputTokens": inp,
                "outputTokens": out,
                "cacheReadTokens": cr,
                "cacheWriteTokens": cw,
                "feature": FEATURE,
                "session": thread,
            }
        )
