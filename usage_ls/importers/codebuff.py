"""Codebuff (formerly Manicode): its saved chats.

Format read
    `$CODEBUFF_DATA_DIR`, else `~/.config/manicode`, `~/.config/manicode-dev`,
    `~/.config/manicode-staging`; then `projects/<project>/chats/<chat id>/chat-messages.json`,
    a JSON array rewritten as the chat goes (`<chat id>` is an ISO time with `-` for `:`).
    An assistant message (`variant` or `role` `ai`, `agent` or `assistant`) carries its usage
    in `metadata.usage`, else `metadata.codebuff.usage`, else on the last assistant entry of
    `metadata.runState.sessionState.mainAgentState.messageHistory[].providerOptions
    [.codebuff].usage`. Checked only against other trackers' readers, not Codebuff's source
    (UNCERTAIN).

Mapping
    Accepted keys: input `inputTokens`/`input_tokens`/`promptTokens`/`prompt_tokens`, output
    `outputTokens`/`completionTokens` (and snake case), cache reads `cacheReadInputTokens`/
    `prompt_tokens_details.cached_tokens`, cache writes `cacheCreationInputTokens`/
    `cachedTokensCreated`. In the OpenAI shape (`prompt_tokens` with
    `prompt_tokens_details.cached_tokens`) the prompt count includes the cached tokens: they
    are taken out of input (ccusage and tokscale keep them in and count them twice).
    Time: `timestamp`/`createdAt` (RFC 3339 or epoch s/ms), else `metadata.timestamp`, else
    the chat id, else the file's modification time. model = `metadata.model` or
    `metadata.codebuff.model`, else `codebuff-unknown` (unpriced); project = the project
    folder; session = `<channel>/<project>/<chat id>`; feature `codebuff`. Codebuff's `credits`
    are not dollars: cost from the price table.

Dedupe key
    `codebuff:<session>:<message id>`, else a hash of the message's time, model and counts.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from usage_ls.importers.base import Tool, ms_ts, short_hash
from usage_ls.importers.lines import FileResult, load_json_file

FEATURE = "codebuff"
CHANNELS = ("manicode", "manicode-dev", "manicode-staging")
ASSISTANT = ("ai", "agent", "assistant")
CHAT_ID = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d)(\.\d+)?Z")


def _first(d: dict, *keys: str):
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def _n(v) -> int | None:
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return None
    return int(v)


def _usage(m: dict) -> dict | None:
    meta = m.get("metadata") if isinstance(m.get("metadata"), dict) else {}
    for u in (
        meta.get("usage"),
        (meta.get("codebuff") or {}).get("usage") if isinstance(meta.get("codebuff"), dict) else None,
    ):
        if isinstance(u, dict):
            return u
    state = meta.get("runState")
    for key in ("sessionState", "mainAgentState", "messageHistory"):
        state = state.get(key) if isinstance(state, dict) else None
    found = None
    for entry in state if isinstance(state, list) else []:
        opts = entry.get("providerOptions") if isinstance(entry, dict) and entry.get("role") == "assistant" else None
        if isinstance(opts, dict):
            u = opts.get("usage") if isinstance(opts.get("usage"), dict) else (opts.get("codebuff") or {}).get("usage")
            if isinstance(u, dict):
                found = u
    return found


class Codebuff(Tool):
    name = "codebuff"
    feature = FEATURE
    patterns = ("chat-messages.json",)
    append_only = False

    def roots(self) -> list[Path]:
        env = os.environ.get("CODEBUFF_DATA_DIR", "")
        if env.strip():
            return [Path(env).expanduser()]
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        return [base / c for c in CHANNELS]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        doc = load_json_file(path, result, final=final)
        if doc is None:
            return
        if not isinstance(doc, list):
            result.bad(path.name, "chat-messages.json is not a list")
            return
        chat = path.parent.name
        parts = path.parts
        project = parts[-4] if len(parts) >= 4 and parts[-3] == "chats" else "(no project)"
        channel = parts[-6] if len(parts) >= 6 and parts[-5] == "projects" else ""
        session = f"{channel}/{project}/{chat}"[:200]
        for i, m in enumerate(doc):
            if not isinstance(m, dict) or (m.get("variant") not in ASSISTANT and m.get("role") not in ASSISTANT):
                continue
            u = _usage(m)
            if u is None:
                continue
            details = u.get("prompt_tokens_details") if isinstance(u.get("prompt_tokens_details"), dict) else {}
            vals = [
                _n(_first(u, "inputTokens", "input_tokens", "promptTokens", "prompt_tokens")),
                _n(_first(u, "outputTokens", "output_tokens", "completionTokens", "completion_tokens")),
                _n(_first(u, "cacheReadInputTokens", "cache_read_input_tokens") or details.get("cached_tokens")),
                _n(_first(u, "cacheCreationInputTokens", "cache_creation_input_tokens", "cachedTokensCreated")),
            ]
            if any(v is None for v in vals):
                result.bad(f"{chat}[{i}]", "usage counts are not non-negative numbers")
                continue
            inp, out, cr, cw = (int(v or 0) for v in vals)
            if "prompt_tokens" in u and details.get("cached_tokens") is not None:
                inp = max(0, inp - cr)  # OpenAI's prompt count includes the cached tokens
            if not (inp or out or cr or cw):
                continue
            meta = m.get("metadata") if isinstance(m.get("metadata"), dict) else {}
            ts = ms_ts(_first(m, "timestamp", "createdAt")) or ms_ts(meta.get("timestamp")) or _chat_time(chat)
            if ts is None:
                try:
                    ts = path.stat().st_mtime_ns // 1_000_000
                except OSError:
                    continue
            cb = meta.get("codebuff") if isinstance(meta.get("codebuff"), dict) else {}
            model = _first(meta, "model") or cb.get("model")
            model = model if isinstance(model, str) and model else "codebuff-unknown"
            mid = m.get("id") if isinstance(m.get("id"), str) and m["id"] else short_hash(ts, model, inp, out, cr, cw)
            result.entries.append(
                {
                    "id": f"codebuff:{short_hash(session)}:{mid}"[:200],
                    "timestamp": ts,
                    "model": model[:200],
                    "project": project[:200],
                    "inputTokens": inp,
                    "outputTokens": out,
                    "cacheReadTokens": cr,
                    "cacheWriteTokens": cw,
                    "feature": FEATURE,
                    "session": session,
                }
            )


def _chat_time(chat: str) -> int | None:
    m = CHAT_ID.fullmatch(chat)
    if m is None:
        return None
    parsed = dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}{m.group(5) or ''}+00:00")
    return int(parsed.timestamp() * 1000)
