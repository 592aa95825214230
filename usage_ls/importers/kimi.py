"""Kimi CLI (MoonshotAI/kimi-cli): its wire logs.

Format read
    `$KIMI_SHARE_DIR` (default `~/.kimi`; ccusage's `KIMI_DATA_DIR` is honoured too) then
    `sessions/<md5 of the working dir>/<session id>/wire.jsonl`, and the same deeper
    (`subagents/<id>/wire.jsonl`, `agents/<agent>/wire.jsonl`). First line `{"type":
    "metadata", "protocol_version"}`; usage lines `{"timestamp": <unix seconds, float>,
    "message": {"type": "StatusUpdate", "payload": {"token_usage": {input_other, output,
    input_cache_read, input_cache_creation}, "message_id"}}}`, documented upstream as the usage
    of the current step: one line per API call. A subagent's steps are written twice: in its
    own `subagents/<id>/wire.jsonl` and, wrapped as `{"type": "SubagentEvent", "payload":
    {"event": {"type": "StatusUpdate", ...}}}`, in its parent's log.

Mapping
    input = `input_other` (uncached), output = `output`, cache reads = `input_cache_read`,
    cache writes = `input_cache_creation`. The log names no model: `default_model` of
    `config.toml` (resolved through its `[models.<name>]` table's `model` when there is one),
    else `model` of the older `config.json`; when that is missing or is the plan's alias
    `kimi-for-coding`, the model behind it is used as ccusage does: `kimi-k2.5` before
    2026-04-20T15:28:10Z, `kimi-k2.6` after (ccusage #1106). project: the working directory in
    `kimi.json`'s `work_dirs` whose md5 names the session's folder (`<kaos>_<md5>` for a
    directory of a non-local KAOS: kimi-cli 1.52.0's `metadata.py`, read 2026-12-06), else
    `(no project)`; session = the session folder; feature `kimi`.

Dedupe key
    `kimi:<hash of message_id and the counts>` (ccusage's key), else of the session, time and
    counts. A subagent's step has the same key in both places it is written: counted once
    (ccusage reads neither copy and undercounts subagents).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path

import orjson

from usage_ls.importers.base import Tool, count, project_of, short_hash
from usage_ls.importers.lines import FileResult, json_objects

FEATURE = "kimi"
K26_FROM_MS = 1776698890072  # 2026-04-20T15:28:10.072Z
ALIAS = "kimi-for-coding"


class Kimi(Tool):
    name = "kimi"
    feature = FEATURE
    patterns = ("wire.jsonl",)

    def __init__(self) -> None:
        self._model: str | None = None
        self._projects: dict[str, str] | None = None

    def home(self) -> Path:
        for var in ("KIMI_SHARE_DIR", "KIMI_DATA_DIR"):
            env = os.environ.get(var, "")
            if env.strip():
                return Path(env).expanduser()
        return Path.home() / ".kimi"

    def roots(self) -> list[Path]:
        return [self.home() / "sessions"]

    def configured_model(self) -> str:
        if self._model is None:
            self._model = ""
            home = self.home()
            try:
                cfg = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
                name = cfg.get("default_model")
                models = cfg.get("models") if isinstance(cfg.get("models"), dict) else {}
                entry = models.get(name) if isinstance(name, str) else None
                if isinstance(entry, dict) and isinstance(entry.get("model"), str):
                    name = entry["model"]
                self._model = name if isinstance(name, str) else ""
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                try:
                    old = orjson.loads((home / "config.json").read_bytes())
                    self._model = (
                        old.get("model") if isinstance(old, dict) and isinstance(old.get("model"), str) else ""
                    )
                except (OSError, orjson.JSONDecodeError):
                    pass
        return self._model

    def project(self, folder: str) -> str | None:
        if self._projects is None:
            self._projects = {}
            try:
                doc = orjson.loads((self.home() / "kimi.json").read_bytes())
                dirs = doc.get("work_dirs") if isinstance(doc, dict) else None
                for d in dirs if isinstance(dirs, list) else []:
                    path = d.get("path") if isinstance(d, dict) else d
                    if isinstance(path, str):
                        digest = hashlib.md5(path.encode()).hexdigest()
                        self._projects[digest] = project_of(path) or path
                        kaos = d.get("kaos") if isinstance(d, dict) else None
                        if isinstance(kaos, str) and kaos:  # a directory of another KAOS (not local)
                            self._projects[f"{kaos}_{digest}"] = project_of(path) or path
            except (OSError, orjson.JSONDecodeError):
                pass
        return self._projects.get(folder)

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        parts = path.parts
        i = len(parts) - 1 - parts[::-1].index("sessions") if "sessions" in parts else len(parts) - 3
        folder = parts[i + 1] if i + 1 < len(parts) else ""
        session = parts[i + 2] if i + 2 < len(parts) - 1 else path.parent.name
        project = self.project(folder) or "(no project)"
        for offset, obj in json_objects(path, start, result, final=final):
            msg = obj.get("message")
            if not isinstance(msg, dict):
                continue
            if msg.get("type") == "SubagentEvent" and isinstance(msg.get("payload"), dict):
                msg = msg["payload"].get("event")  # a subagent's step, also in its own log
                if not isinstance(msg, dict):
                    continue
            payload = msg.get("payload")
            if msg.get("type") != "StatusUpdate" or not isinstance(payload, dict):
                continue
            usage = payload.get("token_usage")
            if not isinstance(usage, dict):
                continue
            keys = ("input_other", "output", "input_cache_read", "input_cache_creation")
            vals = [count(usage.get(k) or 0) for k in keys]
            if any(v is None for v in vals):
                result.bad(f"{path.name}:{offset}", "token_usage counts are not non-negative integers")
                continue
            inp, out, cr, cw = (int(v or 0) for v in vals)
            if not (inp or out or cr or cw):
                continue
            t = obj.get("timestamp")
            if isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0:
                result.bad(f"{path.name}:{offset}", "StatusUpdate without a usable timestamp")
                continue
            ts = int(t * 1000) if t < 10_000_000_000 else int(t)
            mid = payload.get("message_id")
            key = (
                short_hash(mid, inp, out, cr, cw) if isinstance(mid, str) and mid else short_hash(session, ts, inp, out)
            )
            model = self.configured_model()
            if not model or model == ALIAS:
                model = "kimi-k2.6" if ts >= K26_FROM_MS else "kimi-k2.5"
            result.entries.append(
                {
                    "id": f"kimi:{key}",
                    "timestamp": ts,
                    "model": model[:200],
                    "provider": "moonshotai",
                    "project": project,
                    "inputTokens": inp,
                    "outputTokens": out,
                    "cacheReadTokens": cr,
                    "cacheWriteTokens": cw,
                    "feature": FEATURE,
                    "session": session[:200],
                }
            )

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        kept: dict[str, dict] = {}
        for rec in entries:
            kept.setdefault(rec["id"], rec)
        return list(kept.values()), len(entries) - len(kept)
