"""OpenClaw (formerly clawdbot / moltbot): its agents' session transcripts.

Format read
    `$OPENCLAW_DIR`, else whichever of `~/.openclaw`, `~/.clawdbot`, `~/.moltbot`,
    `~/.moldbot` exist, searched below for `agents/<agent>/sessions/<uuid>.jsonl` and the
    archived `<uuid>.jsonl.reset.<time>` (`/new` renames a transcript so since v2026.2.22) and
    `<uuid>.jsonl.deleted.<time>`; `*.bak` files are never read. Lines `{"type": "message",
    "message": {"role": "assistant", "usage": {input, output, cacheRead, cacheWrite,
    totalTokens, cost: {total}}, "timestamp" (ms or RFC 3339), "model"/"modelId",
    "provider"}}` (pi's format: OpenClaw runs on pi's agent), one per request; `{"type":
    "model_change", "provider", "modelId"}` and `{"type": "custom", "customType":
    "model-snapshot", "data": {provider, modelId}}` set the model of the lines after them.
    OpenClaw 2026.9 keeps the same lines in `agents/<agent>/agent/openclaw-agent.sqlite`
    instead (`openclaw_db.py`), read whole whenever it (or its `-wal`) changes.

Mapping
    As pi (`pi.py`): counts kept apart, `cost.total` when above 0 (a 0 is priced from the
    table); model = the message's own, else the last model change (kept across incremental
    reads); project: OpenClaw works per agent, so project = the agent's name; session = the
    file name before `.jsonl`; feature `openclaw`.

Dedupe key
    `openclaw:<hash of session, time, model and counts>`, not of the file: a transcript renamed
    to `.reset.*` after it was imported adds nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from usage_ls.importers import openclaw_db
from usage_ls.importers.base import Tool, short_hash
from usage_ls.importers.lines import FileResult, marked_objects
from usage_ls.importers.pi import assistant_record

FEATURE = "openclaw"
DB = openclaw_db.DB
HOMES = (".openclaw", ".clawdbot", ".moltbot", ".moldbot")
MARKS = (b'"usage"', b'"model_change"', b'"model-snapshot"')


def _model_of(obj: dict) -> tuple[str | None, str | None] | None:
    """(model, provider) a `model_change` / `model-snapshot` line sets, else None."""
    data = obj
    if obj.get("type") == "custom" and obj.get("customType") == "model-snapshot":
        data = obj.get("data") if isinstance(obj.get("data"), dict) else obj
    elif obj.get("type") != "model_change":
        return None
    model = data.get("modelId") or data.get("model")
    provider = data.get("provider")
    return (model if isinstance(model, str) else None, provider if isinstance(provider, str) else None)


class OpenClaw(Tool):
    name = "openclaw"
    feature = FEATURE
    patterns = ("*.jsonl", "*.jsonl.reset.*", "*.jsonl.deleted.*", DB, DB + "-wal")

    def roots(self) -> list[Path]:
        env = os.environ.get("OPENCLAW_DIR", "")
        if env.strip():
            return [Path(env).expanduser()]
        return [Path.home() / h for h in HOMES]

    def discover(self, paths) -> list[Path]:
        return [
            p
            for p in super().discover(paths)
            if (p.parent.name == "sessions" and not p.name.endswith(".bak"))
            or (p.parent.name == "agent" and p.name in (DB, DB + "-wal"))
        ]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        if path.name in (DB, DB + "-wal"):  # the agent's database (2026.9): read whole each time
            agent = path.parent.parent.name
            current: dict[str, tuple] = {}
            for session, seq, obj in openclaw_db.events(path, result):
                model, provider = current.get(session, (None, None))
                current[session] = self._event(obj, session, agent, model, provider, f"{session}:{seq}", result)
            return
        model, provider = state.get("model"), state.get("provider")
        session = path.name.split(".jsonl", 1)[0]
        agent = path.parent.parent.name if path.parent.name == "sessions" else None
        # only model changes and the lines with usage are parsed (not the conversation's text)
        for offset, obj in marked_objects(path, start, result, MARKS, final=final):
            model, provider = self._event(obj, session, agent, model, provider, f"{path.name}:{offset}", result)
        result.state = {k: v for k, v in (("model", model), ("provider", provider)) if v}

    def _event(self, obj: dict, session: str, agent, model, provider, where: str, result: FileResult) -> tuple:
        """One transcript line: a model change gives the (model, provider) of the lines after
        it; an assistant message with usage, a record. Returns the current (model, provider)."""
        change = _model_of(obj)
        if change is not None:
            return change[0] or model, change[1] or provider
        msg = obj.get("message")
        if obj.get("type") != "message" or not isinstance(msg, dict):
            return model, provider
        rec = assistant_record(msg, obj.get("timestamp"), where, result, FEATURE)
        if rec is None:
            return model, provider
        own = msg.get("modelId") or msg.get("model")
        m = own if isinstance(own, str) and own else model or "(unknown)"
        prov = msg.get("provider") if isinstance(msg.get("provider"), str) and msg["provider"] else provider
        counts = (rec["inputTokens"], rec["outputTokens"], rec["cacheReadTokens"], rec["cacheWriteTokens"])
        rec["id"] = "openclaw:" + short_hash(session, rec["timestamp"], m, *counts)
        rec.update(model=m[:200], project=(agent or "(no project)")[:200], session=session[:200])
        if prov:
            rec["provider"] = prov[:100]
        result.entries.append(rec)
        return model, provider

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        kept: dict[str, dict] = {}
        for rec in entries:
            kept.setdefault(rec["id"], rec)
        return list(kept.values()), len(entries) - len(kept)
