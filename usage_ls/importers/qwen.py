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
    Checked against the real Qwen Code 0.24.4 on 2026-12-06 (a loopback stand-in of the API):
    a `qwen -p` prompt made two API calls (the answer, then its managed-memory extractor
    sub-agent) and its chat log has an `assistant` record for the first only, but a `system`
    record with `subtype: "ui_telemetry"` and `systemPayload.uiEvent["event.name"] ==
    "qwen-code.api_response"` for each (`response_id`, `model`, `input_token_count` (cached
    included), `output_token_count`, `cached_content_token_count`, `thoughts_token_count`,
    `total_token_count`, `subagent_name`; it is written with telemetry off too). So each
    `api_response` event is a record, and an `assistant` record is one only when it is not
    the answer of such an event: its `parentUuid` names the event's record (logs of versions
    without these events keep their `assistant` records). A session's usage record, per model,
    still tops up what the chat log did not record — the difference between the record's
    totals and the chat-log records already counted for that session and model (kept in
    `<data dir>/imports-qwen-totals.json`), dated at the usage record's time. A chat log read
    after its usage record (or a resumed session) never makes anything negative: each counter
    only grows. ccusage reads only the `assistant` records: it misses the sub-agent's calls.

Mapping
    input = prompt - cached (Qwen's prompt count includes cached tokens; ccusage does not
    subtract them and counts cached tokens twice), cache reads = cached, no cache writes.
    Output: on the OpenAI path the candidates count is `completion_tokens`, which already
    includes the reasoning tokens Qwen also writes as `thoughtsTokenCount` (the total is then
    prompt + candidates): output = candidates; where the total also counts the thoughts
    (Gemini's shape), output = candidates + thoughts. project = last segment of `cwd` (usage
    record: of `project`); session = `sessionId`; feature `qwen`, with `agent=<subagent_name>
    query=subagent` for a sub-agent's calls.

Dedupe key
    Chat records: `qwen:<uuid>` (else a hash of the session, time and counts); top-ups:
    `qwen:<hash of session, model and the totals reached>`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from usage_ls.importers.base import Tool, ms_ts, project_of, short_hash
from usage_ls.importers.lines import FileResult, json_objects
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


def _tokens(prompt, cached, out, thoughts, total=None) -> dict[str, int] | None:
    if None in (prompt, cached, out, thoughts):
        return None
    cached = min(cached, prompt)
    if thoughts and total == prompt + out:  # the thoughts are inside the candidates count (OpenAI)
        thoughts = 0
    return {"inputTokens": prompt - cached, "outputTokens": out + thoughts, "cacheReadTokens": cached,
            "cacheWriteTokens": 0}  # fmt: skip


@dataclass
class _Answer:
    """An `assistant` record and the record it answers (its `parentUuid`)."""

    record: dict
    parent: str | None


API_RESPONSE = "qwen-code.api_response"


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
        for offset, obj in json_objects(path, start, result, final=final):
            where = f"{path.name}:{offset}"
            if path.name == RECORD:
                self._usage_record(obj, where, result)
                continue
            kind = obj.get("type")
            if kind == "assistant" and isinstance(obj.get("usageMetadata"), dict):
                meta = obj["usageMetadata"]
                keys = ("promptTokenCount", "cachedContentTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
                        "totalTokenCount")  # fmt: skip
                rec = self._record(obj, meta, keys, obj.get("timestamp"), obj.get("model"), path, where, result)
                if rec is not None:
                    parent = obj.get("parentUuid")
                    result.entries.append(_Answer(rec, parent if isinstance(parent, str) else None))
            elif kind == "system" and obj.get("subtype") == "ui_telemetry":
                payload = obj.get("systemPayload")
                event = payload.get("uiEvent") if isinstance(payload, dict) else None
                if not isinstance(event, dict) or event.get("event.name") != API_RESPONSE:
                    continue
                keys = ("input_token_count", "cached_content_token_count", "output_token_count",
                        "thoughts_token_count", "total_token_count")  # fmt: skip
                ts = event.get("event.timestamp") or obj.get("timestamp")
                rec = self._record(obj, event, keys, ts, event.get("model"), path, where, result)
                if rec is not None:
                    agent = event.get("subagent_name")
                    if isinstance(agent, str) and agent and agent.isprintable() and " " not in agent:
                        rec["feature"] = f"{FEATURE} agent={agent[:100]} query=subagent"
                    result.entries.append(rec)

    def _record(
        self, obj: dict, counts: dict, keys: tuple, ts_value, model, path: Path, where: str, result: FileResult
    ):
        """The record of one API response (`counts` under `keys`: prompt, cached, candidates,
        thoughts, total), without its sub-agent; None when it holds no usage."""
        total = _n(counts, keys[4]) if counts.get(keys[4]) is not None else None
        t = _tokens(*(_n(counts, k) for k in keys[:4]), total)
        if t is None:
            result.bad(where, f"{'/'.join(keys[:4])}: counts are not non-negative numbers")
            return None
        if not any(t.values()):
            return None
        ts = ms_ts(ts_value)
        if ts is None:
            result.bad(where, "usage record without a usable timestamp")
            return None
        session = str(obj.get("sessionId") or path.stem)[:200]
        model = model if isinstance(model, str) and model else "(unknown)"
        uid = obj.get("uuid") if isinstance(obj.get("uuid"), str) else short_hash(session, ts, *t.values())
        return {"id": f"qwen:{uid}"[:200], "timestamp": ts, "model": model[:200], "feature": FEATURE,
                "session": session, "project": project_of(obj.get("cwd")) or "(no project)", **t}  # fmt: skip

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
            total = _n(m, "totalTokens") if m.get("totalTokens") is not None else None
            t = _tokens(*(_n(m, k) for k in ("inputTokens", "cachedTokens", "outputTokens", "thoughtsTokens")), total)
            if t is None:
                result.bad(where, f"models.{model}: counts are not non-negative numbers")
                continue
            rec = {"model": str(model)[:200], "feature": FEATURE, "session": session,
                   "project": project_of(obj.get("project")) or "(no project)"}  # fmt: skip
            result.entries.append(Snapshot(f"qwen:{session}:{model}", ts, t, rec))

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        """API responses as they are (each also counted into its session and model's totals),
        then the usage records' top-ups. An `assistant` record whose parent is an
        `api_response` event counted now or before is that event's response, counted once."""
        base, pending = memory.setdefault("base", {}), memory.setdefault("pending", {})
        events = {e["id"] for e in entries if isinstance(e, dict)}
        records: list[dict] = []
        seen_ids: set[str] = set()
        dups = 0
        for entry in entries:
            if isinstance(entry, Snapshot):
                continue
            rec = entry.record if isinstance(entry, _Answer) else entry
            key = f"qwen:{rec['session']}:{rec['model']}"
            counted = pending.get(key) or dict(base.get(key) or {})
            ids = set(counted.get("ids", []))
            if (
                isinstance(entry, _Answer)
                and entry.parent
                and (f"qwen:{entry.parent}" in events or f"qwen:{entry.parent}" in ids)
            ):
                dups += 1  # the answer of an api_response event
                continue
            if rec["id"] in seen_ids:
                dups += 1
                continue
            seen_ids.add(rec["id"])
            if rec["id"] not in ids:  # counted once, however often the log is read again
                ids.add(rec["id"])
                for c in COUNTERS:
                    counted[c] = int(counted.get(c, 0)) + rec[c]
                counted["ids"] = sorted(ids)
                pending[key] = counted
            records.append(rec)
        topups, tdups = super().merge([e for e in entries if isinstance(e, Snapshot)], memory)
        return records + topups, dups + tdups
