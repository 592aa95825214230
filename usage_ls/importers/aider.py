"""aider: the chat history it keeps in each repository, and its optional analytics log.

Format read
    - `.aider.chat.history.md` (in the repo root; `$AIDER_CHAT_HISTORY_FILE` moves it, as for
      aider itself). Markdown, appended to: a session starts with `# aider chat started at
      YYYY-MM-DD HH:MM:SS` (local time), the model shows in a `> Model: <name> with …` (or
      `> Main model: …`) line, and each reply ends with a blockquote like
      `> Tokens: 2.3k sent, 1.2k cache write, 1.2k cache hit, 512 received. Cost: $0.01 message,
      $0.05 session.` Counts are rounded by aider (`2.3k`), so these records are approximate.
    - `--analytics-log FILE` (`$AIDER_ANALYTICS_LOG`): JSON lines `{event, properties, user_id,
      time}`; `message_send` events carry `main_model`, `prompt_tokens`, `completion_tokens`,
      `cost`.
    With no path, the current directory's history file and the analytics log named by the
    environment are read.

Mapping
    `sent` is the whole prompt (aider adds cache hits and writes into it): input = sent - cache
    hit - cache write (never below 0), cache reads = cache hit, cache writes = cache write,
    output = received; the message cost is the reported cost. project = the folder holding the
    history file; session = the session's start time; feature = `aider`. A history reply's time
    is its session's start (aider writes no time per message), read in the configured zone.

Dedupe key
    History: `aider:` + hash(file, session start, the reply's ordinal in the session, the
    line). Analytics: `aider:` + hash(user_id, time, model, counts). Both are stable as the
    files are only appended to.

Pitfalls handled
    - `k`/`M` suffixes and thousands separators in counts; a `Tokens:` line without a cost;
    - history lines that are not token reports are not usage (not counted);
    - analytics events other than `message_send` are not usage; lines that are not JSON are
      counted unreadable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from usage_ls.importers.base import Tool, ms_ts, short_hash
from usage_ls.importers.lines import FileResult, bom_at, json_objects, read_from

FEATURE = "aider"
HISTORY = ".aider.chat.history.md"
STARTED = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)")
MODEL = re.compile(r"^> (?:Main model|Model): (\S+)")
TOKENS = re.compile(r"^> Tokens: (.*?)(?:\.\s*Cost: \$([0-9.,]+) message.*)?\s*$")
PART = re.compile(r"([0-9][0-9.,]*)\s*([kKmM]?)\s+(sent|cache write|cache hit|received)")


def _amount(number: str, suffix: str) -> int:
    value = float(number.replace(",", ""))
    return int(round(value * {"": 1, "k": 1e3, "m": 1e6}[suffix.lower()]))


class Aider(Tool):
    name = "aider"
    feature = FEATURE
    patterns = (HISTORY,)

    def roots(self) -> list[Path]:
        out = [Path(os.environ.get("AIDER_CHAT_HISTORY_FILE") or Path.cwd() / HISTORY)]
        if os.environ.get("AIDER_ANALYTICS_LOG"):
            out.append(Path(os.environ["AIDER_ANALYTICS_LOG"]))
        return out

    def discover(self, paths) -> list[Path]:
        found = super().discover(paths)
        return [
            p for p in found if p.name == HISTORY or p.suffix in (".jsonl", ".log", ".json") or p.name.endswith(".md")
        ]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        if path.name.endswith(".md"):
            self._history(path, start, state, result)
        else:
            self._analytics(path, start, result, final)

    def _history(self, path: Path, start: int, state: dict, result: FileResult) -> None:
        tz = self.tz
        if tz is None:
            from usage_ls.config import load_config

            tz = load_config().tz
        data, _st = read_from(path, start)
        end = data.rfind(b"\n") + 1  # a line being written waits for the next run
        result.end = start + end
        st = dict(state)
        text = data[bom_at(data, start) : end].decode("utf-8", "replace")
        for raw in text.splitlines():
            m = STARTED.match(raw)
            if m:
                st["started"] = m.group(1)
                st["n"] = 0
                continue
            m = MODEL.match(raw)
            if m:
                st["model"] = m.group(1).rstrip(",")
                continue
            if not raw.startswith("> Tokens:"):
                continue
            m = TOKENS.match(raw)
            parts = {kind: _amount(num, suf) for num, suf, kind in PART.findall(raw)}
            if not m or "sent" not in parts or "received" not in parts:
                result.bad(f"{path.name}", f"token line not understood ({len(raw)} characters)")
                continue
            started = st.get("started")
            if not started:
                result.bad(path.name, "token line before any '# aider chat started at'")
                continue
            st["n"] = st.get("n", 0) + 1
            when = dt.datetime.fromisoformat(started.replace(" ", "T")).replace(tzinfo=tz)
            hit, write = parts.get("cache hit", 0), parts.get("cache write", 0)
            rec = {
                "id": "aider:" + short_hash(str(path), started, st["n"], raw),
                "timestamp": int(when.timestamp() * 1000),
                "model": st.get("model") or "(unknown)",
                "project": path.parent.name or "(no project)",
                "inputTokens": max(0, parts["sent"] - hit - write),
                "outputTokens": parts["received"],
                "cacheReadTokens": hit,
                "cacheWriteTokens": write,
                "feature": FEATURE,
                "session": started,
            }
            if m.group(2):
                rec["costUsd"] = float(m.group(2).replace(",", ""))
            result.entries.append(rec)
        result.state = st

    def _analytics(self, path: Path, start: int, result: FileResult, final: bool) -> None:
        for offset, obj in json_objects(path, start, result, final=final):
            if obj.get("event") != "message_send":
                continue
            p = obj.get("properties") if isinstance(obj.get("properties"), dict) else {}
            inp, out = p.get("prompt_tokens") or 0, p.get("completion_tokens") or 0
            if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in (inp, out)):
                result.bad(f"{path.name}:{offset}", "token counts are not non-negative integers")
                continue
            ts = ms_ts(obj.get("time"))
            if ts is None:
                result.bad(f"{path.name}:{offset}", "event without a time")
                continue
            model = p.get("main_model") if isinstance(p.get("main_model"), str) and p["main_model"] else "(unknown)"
            rec = {
                "id": "aider:" + short_hash(obj.get("user_id"), obj.get("time"), model, inp, out, p.get("cost")),
                "timestamp": ts,
                "model": model,
                "inputTokens": inp,
                "outputTokens": out,
                "feature": FEATURE,
            }
            cost = p.get("cost")
            if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
                rec["costUsd"] = float(cost)
            if inp or out:
                result.entries.append(rec)
