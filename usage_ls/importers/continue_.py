"""Continue (the IDE extension): its local token log.

Format read
    `$CONTINUE_GLOBAL_DIR/dev_data/0.2.0/tokensGenerated.jsonl` (default `~/.continue`), one JSON
    object per completion: `{model, provider, promptTokens, generatedTokens, createdAt}`
    (`createdAt` an ISO timestamp or epoch milliseconds; older files may carry `timestamp`).

Mapping
    input = `promptTokens`, output = `generatedTokens`; Continue logs no cache tokens and no
    cost, so both come from the price table. project: not logged (`(no project)`); feature =
    `continue`.

Dedupe key
    `continue:` + a hash of (createdAt, model, provider, promptTokens, generatedTokens): the log
    has no id of its own; two identical completions in the same millisecond count once.

Pitfalls handled
    - a truncated last line is left for the next run; garbage lines are counted unreadable;
    - zero-token lines record nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from usage_ls.importers.base import Tool, count, ms_ts, short_hash
from usage_ls.importers.lines import FileResult, json_objects

FEATURE = "continue"


class Continue(Tool):
    name = "continue"
    feature = FEATURE
    patterns = ("tokensGenerated.jsonl",)

    def roots(self) -> list[Path]:
        env = os.environ.get("CONTINUE_GLOBAL_DIR")
        base = Path(env).expanduser() if env and env.strip() else Path.home() / ".continue"
        return [base / "dev_data"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        for offset, obj in json_objects(path, start, result, final=final):
            inp, out = count(obj.get("promptTokens", 0)), count(obj.get("generatedTokens", 0))
            if inp is None or out is None:
                result.bad(f"{path.name}:{offset}", "promptTokens/generatedTokens are not non-negative integers")
                continue
            if not (inp or out):
                continue
            created = obj.get("createdAt", obj.get("timestamp"))
            ts = ms_ts(created)
            if ts is None:
                result.bad(f"{path.name}:{offset}", "line without a usable createdAt")
                continue
            model = obj.get("model") if isinstance(obj.get("model"), str) and obj["model"].strip() else "(unknown)"
            provider = obj.get("provider") if isinstance(obj.get("provider"), str) and obj["provider"] else None
            rec = {
                "id": "continue:" + short_hash(created, model, provider, inp, out),
                "timestamp": ts,
                "model": model,
                "inputTokens": inp,
                "outputTokens": out,
                "feature": FEATURE,
            }
            if provider:
                rec["provider"] = provider[:100]
            result.entries.append(rec)
