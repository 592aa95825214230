"""Qwen Code (QwenLM/qwen-code): its chat logs, topped up from its usage record.

Format read
    `$QWEN_DATA_DIR` (default `~/.qwen`):
    - `projects/<project>/chats/<session>.jsonl`, one `ChatRecord` per line: `{uuid,
      parentUuid, sessionId, timestamp (RFC 3339), type, model, usageMetadata, cwd, version}`;
      an `assistant` record's `usageMetadata` is Gemini-shaped: `promptTokenCount` (cached
      included), `candidatesTokenCount`, `thoughtsTokenCount`, `cachedContentTokenCount`,
      `totalTokenCount`. One record per API response.
    - `usage_record.jsonl`, one line per session: `{version, sessionId, timestamp (ms),
      startTime, project, models: {<model>: {requests, inputTokens (cached included),
      outputTokens, cachedTokens, thoughtsTokens, totalTokens}}}`, the totals of *all* the
      session's requests.

Per request or cumulative
    The chat log is per request, but checked against the real Qwen Code 0.24.4 a `qwen -p`
    prompt made two API calls and the chat log recorded only one; `usage_record.jsonl` counts
    both. So: each chat-log response is a record at its own time, and a session's usage
    record, per model, tops up what its chat log did not record — the difference between the
    record's totals and the chat-log records already counted for that session and model
    (kept in `<data dir>/imports-qwen-totals.json`), dated at the usage record's time. A chat
    log read after its usage record (or a resumed session) never makes anything negative:
    each counter only grows. ccusage reads only the chat log: it misses those calls.

Mapping
    input = prompt - cached (Qwen's prompt count includes cached tokens; ccusage does not
    subtract them and counts cached tokens twice), cache reads = cached, output = candidates
    + thoughts (reasoning is output), no cache writes. project = last segment of `cwd` (usage
    record: of `project`); session = `sessionId`; feature `qwen`.

Dedupe key
    Chat records: `qwen:<uuid>` (else a hash of the session, time and counts); top-ups:
    `qwen:<hash of session, model and the totals reached>`. `system` records (`ui_telemetry`)
    repeat usage and are not read.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from usage_ls.importers.base import Tool, ms_ts, project_of, short_hash
from usage_ls.importers.lines import FileResult, json_objects, marked_objects
from usage_ls.importers.running import COUNTERS, RunningTotals, Snapshot

FEATURE = "qwen"
RECORD = "usage_record.jsonl"


def _n(d: dict, key: str) -> int | None:
    v = d.get(key, 0)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return None
    return int(v)


def _tokens(prompt, cached, out, thoughts) -> dict[str, int] | None:
    if None in (prompt, cached, out, thoughts):
        return None
    cached = min(cached, prompt)
    return {"inputTokens": prompt - cached, "outputTokens": out + thoughts, "cacheReadTokens": cached,
            "cacheWriteTokens": 0}  # fmt: skip


class Qwen(RunningTotals, Tool):
    name = "qwen"
    feature = FEATURE
    patterns = ("*.jsonl",)

    def roots(self) -> list[Path]:
        env = os.environ.get("QWEN_DATA_DIR", "")
        base = Path(env).expanduser() if env.strip() else Path.home() / ".qwen"
        return [base / "projects", base / RECORD]

    def discover(self, paths) -> list[Path]:
        return [p for p in super().discover(paths) if p.name == RECORD or p.parent.name == "chats"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        # chat logs: only the lines with usage are parsed (not the prompts' and answers' text)
        read = json_objects if path.name == RECORD else partial(marked_objects, mark=b"usageMetadata")
        for offset, obj in read(path, start, result, final=final):
            where = f"{path.name}:{offset}"
            if path.name == RECORD:
                self._usage_record(obj, where, result)
                continue
            meta = obj.get("usageMetadata")
            if obj.get("type") != "assistant" or not isinstance(meta, dict):
                continue
            t = _tokens(*(_n(meta, k) for k in ("promptTokenCount", "cachedContentTokenCount",
                                                 "candidatesTokenCount", "thoughtsTokenCount")))  # fmt: skip
            if t is None:
                result.bad(where, "usageMetadata counts are not non-negative numbers")
                continue
            if not any(t.values()):
                continue
            ts = ms_ts(obj.get("timestamp"))
            if ts is None:
                result.bad(where, "assistant record without a usable timestamp")
                continue
            session = str(obj.get("sessionId") or path.stem)[:200]
            model = obj.get("model") if isinstance(obj.get("model"), str) and obj["model"] else "(unknown)"
            uid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else short_hash(session, ts, *t.values())
            rec = {"id": f"qwen:{uid}"[:200], "timestamp": ts, "model": model[:200], "feature": FEATURE,
                   "session": session, "project": project_of(obj.get("cwd")) or "(no project)", **t}  # fmt: skip
            result.entries.append(rec)

    def _usage_record(self, obj: dict, where: str, result: FileResult) -> None:
        models = obj.get("models")
        ts = ms_ts(obj.get("timestamp"))
        if not isinstance(models, dict) or not isinstance(obj.get("sessionId"), str):
            return
        if ts is None:
            result.bad(where, "usage record without a usable timestamp")
            return
        session = obj["sessionId"][:200]
        for model, m in models.items():
            if not isinstance(m, dict):
                continue
            t = _tokens(*(_n(m, k) for k in ("inputTokens", "cachedTokens", "outputTokens", "thoughtsTokens")))
            if t is None:
                result.bad(where, f"models.{model}: counts are not non-negative numbers")
                continue
            rec = {"model": str(model)[:200], "feature": FEATURE, "session": session,
                   "project": project_of(obj.get("project")) or "(no project)"}  # fmt: skip
            result.entries.append(Snapshot(f"qwen:{session}:{model}", ts, t, rec))

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        """Chat-log records as they are (each also counted into its session and model's
        totals), then the usage records' top-ups."""
        base, pending = memory.setdefault("base", {}), memory.setdefault("pending", {})
        records: list[dict] = []
        seen_ids: set[str] = set()
        dups = 0
        for rec in entries:
            if isinstance(rec, Snapshot):
                continue
            if rec["id"] in seen_ids:
                dups += 1
                continue
            seen_ids.add(rec["id"])
            key = f"qwen:{rec['session']}:{rec['model']}"
            counted = pending.get(key) or dict(base.get(key) or {})
            ids = set(counted.get("ids", []))
            if rec["id"] not in ids:  # counted once, however often the log is read again
                ids.add(rec["id"])
                for c in COUNTERS:
                    counted[c] = int(counted.get(c, 0)) + rec[c]
                counted["ids"] = sorted(ids)
                pending[key] = counted
            records.append(rec)
        topups, tdups = super().merge([e for e in entries if isinstance(e, Snapshot)], memory)
        return records + topups, dups + tdups
