"""Factory Droid: the token totals it keeps per session.

Format read
    `$DROID_SESSIONS_DIR/**/<session id>.settings.json` (default `~/.factory/sessions`, one
    folder per working directory), a JSON object Droid rewrites as the session goes:
    `{model, providerLock, providerLockTimestamp, tokenUsage: {inputTokens, outputTokens,
    cacheCreationTokens, cacheReadTokens, thinkingTokens}}`. Beside it `<session id>.jsonl`,
    the messages, which open with a `session_start` line naming the `cwd` (checked against
    Droid 0.215.0, 2026-12-06). `~/.factory/settings.json`'s `customModels` name the model
    behind a custom model's id.

Per request or cumulative
    Cumulative: `tokenUsage` is the session's running total, one snapshot overwritten in
    place. It is turned into increments (`running.py`): each time the file is read with
    higher totals, the difference is recorded at the file's modification time (when Droid
    wrote those totals), so a session the watcher follows over several days is booked day by
    day. (ccusage books the whole session once, on its `providerLockTimestamp`.) A session an
    import sees for the first time is booked whole at its last write. `inclusiveTokenUsage`
    (which includes child sessions that have files of their own) is not read.

Mapping
    input = `inputTokens`, output = `outputTokens` + `thinkingTokens` (reasoning is output),
    cache writes = `cacheCreationTokens`, cache reads = `cacheReadTokens` (Droid keeps cache
    apart from input, Anthropic-style). model = a custom model's own (`custom_models`), else
    `model` with its `custom:` prefix and
    `[Provider]` suffix removed, in lower case (`Claude-Opus-4.5-Thinking-[Anthropic]` ->
    `claude-opus-4.5-thinking`; ccusage also turns `4.5` into `4-5`, which the price table
    does not need and which loses `glm-4.6`); provider =
    `providerLock`; session = the file name; project = the `cwd` of the sibling `.jsonl`
    (else of another session's in the same folder);
    feature `droid`.

Dedupe key
    `droid:<hash of session id and the totals reached>`. The same session id in two folders
    (a known Droid quirk, which inflated another tracker's totals a thousandfold) is one
    session: a copy's lower totals add nothing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import orjson

from usage_ls.importers.base import Tool, count, project_of
from usage_ls.importers.lines import FileResult, load_json_file
from usage_ls.importers.running import RunningTotals, Snapshot

FEATURE = "droid"
SUFFIX = ".settings.json"


def normalise(model: str) -> str:
    m = model.strip()
    m = m.removeprefix("custom:")
    return re.sub(r"-?\[[^\]]*\]$", "", m).strip("-").lower()


def custom_models(factory: Path) -> dict[str, str]:
    """Droid's ids of the user's custom models and the model each one is: `settings.json`'s
    `customModels` (`{model, displayName, ...}`, id `custom:<display name, spaces as
    dashes>-<position>`, as Droid 0.215 builds it) and the older `config.json`'s
    `custom_models` (`model_display_name`). Missing or unreadable files: none."""
    out: dict[str, str] = {}
    for name, key, label in (("config.json", "custom_models", "model_display_name"),
                             ("settings.json", "customModels", "displayName")):  # fmt: skip
        try:
            doc = orjson.loads((factory / name).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        entries = doc.get(key) if isinstance(doc, dict) else None
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("model"), str) or not entry["model"].strip():
                continue
            shown = entry.get(label)
            if isinstance(shown, str) and shown.strip():
                dashed = re.sub(r"\s+", "-", shown.strip())
                out[f"custom:{dashed}-{i}"] = entry["model"].strip()
            if isinstance(entry.get("id"), str):
                out[entry["id"]] = entry["model"].strip()
    return out


class Droid(RunningTotals, Tool):
    name = "droid"
    feature = FEATURE
    patterns = ("*" + SUFFIX,)
    append_only = False

    def roots(self) -> list[Path]:
        env = os.environ.get("DROID_SESSIONS_DIR", "")
        return [Path(env).expanduser() if env.strip() else Path.home() / ".factory" / "sessions"]

    def factory_home(self) -> Path:
        """Droid's home (`~/.factory`): where its settings name the custom models."""
        return self.roots()[0].parent

    def _custom(self) -> dict[str, str]:
        """`custom_models`, read again only when the settings changed."""
        home = self.factory_home()
        try:
            sig = tuple(
                os.stat(home / n).st_mtime_ns if (home / n).exists() else 0 for n in ("settings.json", "config.json")
            )
        except OSError:
            sig = (0, 0)
        if getattr(self, "_custom_sig", None) != (home, sig):
            self._custom_sig, self._custom_map = (home, sig), custom_models(home)
        return self._custom_map

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        doc = load_json_file(path, result, final=final)
        if doc is None:
            return
        usage = doc.get("tokenUsage") if isinstance(doc, dict) else None
        if not isinstance(usage, dict):
            return  # no usage written (Droid 0.56.3 wrote none)
        raw = [usage.get(k, 0) for k in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")]
        vals = [count(v if v is not None else 0) for v in (*raw, usage.get("thinkingTokens", 0))]
        if any(v is None for v in vals):
            result.bad(path.name, "tokenUsage counts are not non-negative integers")
            return
        inp, out, cw, cr, thinking = (int(v or 0) for v in vals)
        try:
            ts = os.stat(path).st_mtime_ns // 1_000_000
        except OSError:
            return
        model = doc.get("model")
        if isinstance(model, str) and model.startswith("custom:"):
            model = self._custom().get(model, model)
        session = path.name[: -len(SUFFIX)]
        rec = {
            "model": normalise(model)[:200] if isinstance(model, str) and model.strip() else "(unknown)",
            "project": _project(path.parent, session) or "(no project)",
            "feature": FEATURE,
            "session": session[:200],
        }
        if isinstance(doc.get("providerLock"), str) and doc["providerLock"]:
            rec["provider"] = doc["providerLock"][:100]
        totals = {"inputTokens": inp, "outputTokens": out + thinking, "cacheReadTokens": cr, "cacheWriteTokens": cw}
        result.entries.append(Snapshot(f"droid:{session}", ts, totals, rec))


def _project(folder: Path, session: str) -> str | None:
    """The `cwd` in the first lines (`session_start`) of the session's messages, else of another
    session's in the same folder (a folder is one working directory), if one says. The folder
    is listed only when the session's own messages name none (listing it for every session
    made a folder of n sessions cost n² on a first import)."""
    found, project = _cwd_in(folder / f"{session}.jsonl")
    if found:
        return project
    try:
        others = sorted(p for p in folder.glob("*.jsonl") if p.stem != session)[:3]
    except OSError:
        others = []
    for messages in others:
        found, project = _cwd_in(messages)
        if found:
            return project
    return None


def _cwd_in(messages: Path) -> tuple[bool, str | None]:
    """Whether the first 5 lines (within its first 64 KB) of a messages file name a `cwd`, and
    its project. The first 4 KB are read first: the `cwd` is in the first line, and a session's
    messages hold its whole conversation."""
    try:
        with open(messages, "rb") as f:
            head = f.read(4096)
            if len(head) == 4096:  # the complete lines read so far, then the rest if need be
                for line in head.split(b"\n")[:-1][:5]:
                    found = _cwd_of(line)
                    if found[0]:
                        return found
                if head.count(b"\n") < 5:
                    head += f.read(65536 - 4096)
    except OSError:
        return False, None
    for line in head.split(b"\n")[:5]:
        found = _cwd_of(line)
        if found[0]:
            return found
    return False, None


def _cwd_of(line: bytes) -> tuple[bool, str | None]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False, None
    if isinstance(obj, dict) and isinstance(obj.get("cwd"), str):
        return True, project_of(obj["cwd"])
    return False, None
