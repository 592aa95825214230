"""Gemini CLI: its chat recordings.

Format read
    `~/.gemini/tmp/<project>/chats/session-<time>-<id>.jsonl` (one JSON value per line; the
    folder is the project's name and holds `.project_root`, in older versions a hash),
    and the older `session-….json` (`{sessionId, projectHash, startTime, messages: [...]}`),
    rewritten whole as the chat goes on. Roots: `$GEMINI_DATA_DIR` (comma-separated, as
    ccusage reads it), else `~/.gemini/tmp`. A message with `type: "gemini"` carries `id`,
    `timestamp`, `model` and `tokens: {input, output, cached, thoughts, tool, total}`.
    JSONL files may also carry a session header (`sessionId`, `projectHash`) and a
    `{"$set": …}`-style update: anything without `tokens` is not usage. Checked against Gemini
    CLI 0.61.0 (tests/importers/test_real_tools.py).

Mapping
    `input` includes `cached` (Google's accounting): input = input - cached + tool (tool-use
    prompt tokens are billed as input), cache reads = cached, output = output + thoughts
    (reasoning is output), no cache writes. project = the working directory when the
    recording names one (`directories`/`cwd`), else the project folder's `.project_root`,
    else its name (a hash: its first 12 characters);
    session = `sessionId`; feature = `gemini`.

Dedupe key
    `gemini:<sessionId>:<message id>`. The same message id can be written again (a message
    updated as a response completes): within a read, the last one wins.

Pitfalls handled
    - a `.json` caught half-rewritten is retried on the next run instead of counted;
    - messages of other types (`user`, `info`, `error`) and zero-token messages record nothing;
    - the live watcher holds a file's last message back until the file is quiet for a second.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import orjson

from usage_ls.importers.base import Tool, ms_ts, project_of, short_hash
from usage_ls.importers.lines import FileResult, load_json_file, marked_objects

FEATURE = "gemini"


def _num(d: dict, *keys) -> int:
    for k in keys:
        v = d.get(k)
        if type(v) is int and v >= 0:
            return v
        if isinstance(v, float) and v >= 0 and v == int(v):
            return int(v)
    return 0


class Gemini(Tool):
    name = "gemini"
    feature = FEATURE
    provider = "google"
    patterns = ("*.jsonl", "*.json")
    append_only = False  # .json files are rewritten; .jsonl are re-read whole (they are small)

    def roots(self) -> list[Path]:
        env = os.environ.get("GEMINI_DATA_DIR")
        if env and env.strip():
            return [Path(p.strip()).expanduser() for p in env.split(",") if p.strip()]
        return [Path.home() / ".gemini" / "tmp"]

    def discover(self, paths) -> list[Path]:
        # only chat recordings: skip settings, logs.json and the like
        return [p for p in super().discover(paths) if p.name.startswith("session-") or p.parent.name == "chats"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        session = path.stem
        project = None
        parts = path.parts
        if "chats" in parts:
            i = parts.index("chats")
            if i > 0:
                project = _project_folder(Path(*parts[:i]))
        messages: list[dict] = []
        if path.suffix == ".json":
            doc = load_json_file(path, result, final=final)
            if doc is None:
                return
            if isinstance(doc, dict):
                session = doc.get("sessionId") or session
                project = _project(doc) or project
                msgs = doc.get("messages")
                messages = [m for m in msgs if isinstance(m, dict)] if isinstance(msgs, list) else []
            elif isinstance(doc, list):
                messages = [m for m in doc if isinstance(m, dict)]
            else:
                result.bad(path.name, "not a chat recording")
                return
        else:
            # only the header and the messages with tokens are parsed (not prompts, thoughts)
            for _offset, obj in marked_objects(path, 0, result, (b'"tokens"', b'"sessionId"'), final=final):
                if isinstance(obj.get("sessionId"), str) and "tokens" not in obj:
                    session = obj["sessionId"]
                    project = _project(obj) or project
                    continue
                messages.append(obj)
        latest: dict[str, dict] = {}
        order: list[str] = []
        for m in messages:
            if m.get("type") != "gemini" or not isinstance(m.get("tokens"), dict):
                continue
            mid = (
                m.get("id")
                if isinstance(m.get("id"), str)
                else short_hash(m.get("timestamp"), orjson.dumps(m.get("tokens")))
            )
            if mid not in latest:
                order.append(mid)
            latest[mid] = m
        if not final and order and path.suffix == ".jsonl":
            try:
                if os.stat(path).st_mtime > time.time() - 1.0:
                    order.pop()
                    result.retry = True
            except OSError:
                pass
        for mid in order:
            m = latest[mid]
            t = m["tokens"]
            inp = _num(t, "input", "prompt", "input_tokens", "prompt_tokens")
            out = _num(t, "output", "candidates", "output_tokens", "candidates_tokens")
            cached = min(_num(t, "cached", "cached_tokens"), inp)
            thoughts = _num(t, "thoughts", "thoughts_tokens", "reasoning_tokens")
            tool = _num(t, "tool", "tool_tokens")
            ts = ms_ts(m.get("timestamp"))
            if ts is None:
                result.bad(f"{path.name}:{mid}", "message without a usable timestamp")
                continue
            rec = {
                "id": f"gemini:{short_hash(session, mid)}",
                "timestamp": ts,
                "model": m.get("model") if isinstance(m.get("model"), str) and m["model"] else "gemini-2.5-pro",
                "provider": "google",
                "project": project or "(no project)",
                "inputTokens": inp - cached + tool,
                "outputTokens": out + thoughts,
                "cacheReadTokens": cached,
                "cacheWriteTokens": 0,
                "feature": FEATURE,
                "session": str(session)[:200],
            }
            if rec["inputTokens"] or rec["outputTokens"] or rec["cacheReadTokens"]:
                result.entries.append(rec)


_HASH = re.compile(r"[0-9a-f]{32,}")


def _project_folder(folder: Path) -> str:
    """The project of `~/.gemini/tmp/<folder>/chats`: the last segment of the path in its
    `.project_root` (0.61), else the folder's name (a project's name since about 0.2x), of which
    a hash (older versions: the project path's SHA-256) keeps its first 12 characters."""
    try:
        root = (folder / ".project_root").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        root = ""
    name = project_of(root) if root else None
    if name:
        return name
    return folder.name[:12] if _HASH.fullmatch(folder.name) else folder.name


def _project(doc: dict) -> str | None:
    for key in ("cwd", "projectRoot"):
        if isinstance(doc.get(key), str):
            return project_of(doc[key])
    dirs = doc.get("directories")
    if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
        return project_of(dirs[0])
    return None
