"""Cline, and its forks Roo Code and Kilo Code (VS Code extensions): their task histories.

Format read
    `<VS Code user dir>/globalStorage/<extension id>/tasks/<task id>/ui_messages.json`: a JSON
    array rewritten as the task goes on. Extension ids: `saoudrizwan.claude-dev` (Cline),
    `rooveterinaryinc.roo-cline` (Roo Code), `kilocode.kilo-code` (Kilo Code). VS Code user
    dirs looked at: Code, Code - Insiders, VSCodium, Cursor, Windsurf (Linux `~/.config/…`, macOS
    `~/Library/Application Support/…`, Windows `%APPDATA%\\…`), or `$USAGE_LS_VSCODE_USER_DIRS`
    (comma-separated; the extensions have no variable of their own). An entry
    `{ts, type: "say", say: "api_req_started", text}` holds, as a JSON *string* in `text`,
    `{request, tokensIn, tokensOut, cacheWrites, cacheReads, cost}` (newer: `providerId`,
    `modelId`) once the request has finished.

Mapping
    input = `tokensIn` (Cline reports input without cache, as Anthropic does), output =
    `tokensOut`, cache writes = `cacheWrites`, cache reads = `cacheReads`; `cost` is the reported
    cost. model = `modelId` (else `(unknown)`, unpriced unless a cost was reported); project =
    the working directory named in the request's environment details; session = task id;
    feature = `cline`, `roo-code` or `kilo-code`.

Dedupe key
    `<feature>:<task id>:<ts>` (the entry's own millisecond timestamp, stable across rewrites).

Pitfalls handled
    - a request still running has no token counts yet: skipped, picked up after the rewrite;
    - a file caught half-rewritten is retried on the next run instead of counted;
    - `text` that is not JSON, or entries of other kinds, record nothing.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import orjson

from usage_ls.importers.base import Tool, ms_ts, project_of
from usage_ls.importers.lines import FileResult, load_json_file

EXTENSIONS = {
    "saoudrizwan.claude-dev": "cline",
    "rooveterinaryinc.roo-cline": "roo-code",
    "kilocode.kilo-code": "kilo-code",
}
EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")
CWD = re.compile(r"Current (?:Working|Workspace) Directory \(([^)\n]+)\)")


def _user_dirs() -> list[Path]:
    env = os.environ.get("USAGE_LS_VSCODE_USER_DIRS")
    if env and env.strip():
        return [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [base / name / "User" for name in EDITORS]


class Cline(Tool):
    name = "cline"
    feature = "cline"
    patterns = ("ui_messages.json",)
    append_only = False

    def roots(self) -> list[Path]:
        return [d / "globalStorage" / ext for d in _user_dirs() for ext in EXTENSIONS]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        doc = load_json_file(path, result, final=final)
        if doc is None:
            return
        if not isinstance(doc, list):
            result.bad(path.name, "ui_messages.json is not a list")
            return
        task = path.parent.name
        feature = "cline"
        for part in path.parts:
            if part.lower() in EXTENSIONS:
                feature = EXTENSIONS[part.lower()]
        project = None
        for i, m in enumerate(doc):
            if not isinstance(m, dict) or m.get("say") != "api_req_started" or not isinstance(m.get("text"), str):
                continue
            try:
                info = orjson.loads(m["text"])
            except orjson.JSONDecodeError:
                result.bad(f"{task}[{i}]", "api_req_started text is not JSON")
                continue
            if not isinstance(info, dict):
                continue
            request = info.get("request")
            if isinstance(request, str):
                found = CWD.search(request)
                if found:
                    project = project_of(found.group(1).strip())
            if "tokensIn" not in info and "tokensOut" not in info:
                continue  # still running
            counts = [info.get(k) or 0 for k in ("tokensIn", "tokensOut", "cacheReads", "cacheWrites")]
            if any(isinstance(c, bool) or not isinstance(c, (int, float)) or c < 0 for c in counts):
                result.bad(f"{task}[{i}]", "token counts are not non-negative numbers")
                continue
            inp, out, cr, cw = (int(c) for c in counts)
            ts = ms_ts(m.get("ts"))
            if ts is None:
                result.bad(f"{task}[{i}]", "entry without a timestamp")
                continue
            if not (inp or out or cr or cw):
                continue
            model = info.get("modelId") if isinstance(info.get("modelId"), str) and info["modelId"] else "(unknown)"
            rec = {
                "id": f"{feature}:{task}:{m.get('ts')}"[:200],
                "timestamp": ts,
                "model": model,
                "project": project or "(no project)",
                "inputTokens": inp,
                "outputTokens": out,
                "cacheReadTokens": cr,
                "cacheWriteTokens": cw,
                "feature": feature,
                "session": task[:200],
            }
            if isinstance(info.get("providerId"), str) and info["providerId"]:
                rec["provider"] = info["providerId"][:100]
            cost = info.get("cost")
            if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
                rec["costUsd"] = float(cost)
            result.entries.append(rec)
