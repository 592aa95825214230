"""Claude Code: the session transcripts it writes as JSON lines.

Format read
    `<root>/projects/<encoded cwd>/<sessionId>.jsonl`, and deeper files (`<sessionId>/subagents/
    agent-*.jsonl`): the whole tree is scanned. Roots: `$CLAUDE_CONFIG_DIR` (one path or several,
    comma-separated; each may also name its `projects/` folder), else `~/.config/claude` and
    `~/.claude`. A line carrying usage is `{timestamp, cwd, sessionId, requestId, isSidechain,
    version, costUSD?, message: {id, model, usage: {input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, cache_creation: {ephemeral_5m_input_tokens,
    ephemeral_1h_input_tokens}, speed?}}}`, whatever its `type`; newer versions also embed a
    sub-agent's messages in `progress` lines as `data.message.{timestamp, requestId,
    isSidechain, message}`. Every other line (user turns, tool results, summaries, snapshots) is
    not usage and is not even parsed.

Mapping
    input = `input_tokens` (Anthropic's count already excludes cache); cache reads =
    `cache_read_input_tokens`; cache writes = 5-minute + 1-hour parts of `cache_creation` when it
    is there (else `cache_creation_input_tokens`), of which the 1-hour part is `cacheWrite1hTokens`;
    `costUSD` (old versions) becomes the reported cost, as ccusage's default `auto` mode uses it.
    project = last segment of `cwd`; session = `sessionId`; feature = `claude-code`.

Dedupe key
    `message.id` + `requestId` (record id `claude-code:<message id>:<request id>`). One API
    response is written as several lines (one per content block): within a run the line with
    the most tokens wins. Sidechain lines (`isSidechain: true`, e.g. `/btw` side questions and
    sub-agents) may replay a parent message under a new request id: a sidechain line whose
    message id is already known is a duplicate, and a parent line wins over a sidechain copy.
    Message ids seen by earlier runs are remembered (64-bit hashes in
    `<data_dir>/imports-claude-code.npy`) so a replay written after the last import is still
    caught. Lines without a message id are never merged (id from the line's `uuid`).

Pitfalls handled (each matching ccusage 20.0.24, checked against its binary)
    - `<synthetic>` lines (local API-error messages) and zero-usage lines record nothing.
    - lines are skipped, and counted unreadable, when: not JSON; the timestamp has no offset or
      does not parse; `version` is not `N.N.N…`; `sessionId`/`requestId`/`message.id`/`model` is
      an empty string; a token count is not a non-negative integer; one of the fields ccusage's
      schema reads is `null` (cwd, costUSD, version, sessionId, requestId, isApiErrorMessage,
      message.id, message.model, usage.speed, usage.cache_read_input_tokens,
      usage.cache_creation_input_tokens). ccusage tests those nulls anywhere in the line
      (so `"id":null` inside a tool's input drops a real response); we test them where they
      belong.
    - a response still being written: the live watcher holds back the trailing lines of the
      last response until the file has been quiet for a second, so the line with the final
      token counts is the one kept.
    - transcripts are deleted after 30 days by Claude Code: import early (or watch).
    - fast mode (`usage.speed: "fast"`) is counted under the model's own name (ccusage appends
      `-fast`); its price multiplier is not applied.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import orjson

from usage_ls.importers.base import FileResult, Tool, count, json_lines, parse_ts, project_of, short_hash
from usage_ls.store import storage

FEATURE = "claude-code"
VERSION = re.compile(r"^\d+\.\d+\.\d")
USAGE_MARK = b'"usage"'
NULLABLE_TOP = ("cwd", "costUSD", "version", "sessionId", "requestId", "isApiErrorMessage")
NULLABLE_USAGE = ("speed", "cache_read_input_tokens", "cache_creation_input_tokens")
HOLD_SECONDS = 1.0


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


class ClaudeCode(Tool):
    name = "claude-code"
    feature = FEATURE
    provider = "anthropic"

    def roots(self) -> list[Path]:
        env = os.environ.get("CLAUDE_CONFIG_DIR")
        if env is not None and env.strip():
            out = []
            for raw in env.split(","):
                raw = raw.strip()
                if not raw:
                    continue
                p = Path(raw).expanduser()
                out.append(p if p.name == "projects" else p / "projects")
            return out
        home = Path.home()
        xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return [xdg / "claude" / "projects", home / ".claude" / "projects"]

    # -- one file ----------------------------------------------------------------------------

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        cwd = state.get("cwd")
        fallback_project = _project_from_path(path)
        entries = result.entries
        loads = orjson.loads
        last_usage_group = None  # (offset of its first line, key, index in entries)
        trailing_usage = False
        # the response the previous read ended on may go on here (a block still streaming then)
        open_group = state.get("open")
        continuing = open_group is not None
        grown = None  # its best counts seen in this read
        for offset, line in json_lines(path, start, result, final=final):
            if USAGE_MARK not in line:
                trailing_usage = continuing = False
                s = line.strip()
                if not (s.startswith(b"{") and s.endswith(b"}")):
                    result.bad(f"{path.name}:{offset}", "not a JSON object")
                continue
            try:
                obj = loads(line)
            except orjson.JSONDecodeError as exc:
                result.bad(f"{path.name}:{offset}", f"not JSON ({exc})")
                trailing_usage = continuing = False
                continue
            if not isinstance(obj, dict):
                result.bad(f"{path.name}:{offset}", "not a JSON object")
                trailing_usage = continuing = False
                continue
            if isinstance(obj.get("cwd"), str):
                cwd = obj["cwd"]
            entry, problem = _entry(obj, cwd, fallback_project)
            if problem:
                if problem is not _NO_USAGE:
                    result.bad(f"{path.name}:{offset}", problem)
                trailing_usage = continuing = False
                continue
            key = (entry[0], entry[1])
            if continuing and list(key) == open_group["k"]:
                counts = _counts(entry[4])
                if grown is None or sum(counts[:4]) > sum(grown[:4]):
                    grown = counts
                continue
            continuing = False
            if not (trailing_usage and last_usage_group and last_usage_group[1] == key):
                last_usage_group = (offset, key, len(entries))
            trailing_usage = True
            entries.append(entry)
        new_state: dict = {"cwd": cwd} if cwd else {}
        if grown is not None:
            base = open_group["t"]
            if sum(grown[:4]) > sum(base[:4]):
                entries.append(_delta(open_group, grown))
            if continuing:  # the file still ends inside that response
                new_state["open"] = {**open_group, "t": [max(a, b) for a, b in zip(base, grown)]}
        if not final and trailing_usage and last_usage_group is not None and entries:
            # the last response may still be streaming: keep it back until the file is quiet
            try:
                quiet = os.stat(path).st_mtime < _now() - HOLD_SECONDS
            except OSError:
                quiet = True
            if not quiet:
                del entries[last_usage_group[2] :]
                result.end = last_usage_group[0]
                new_state["held"] = True
                trailing_usage = False
        if trailing_usage and last_usage_group is not None and last_usage_group[1][0] is not None:
            # remember the response the file ends on: more of it may be written later
            group = entries[last_usage_group[2] :]
            best = max(group, key=lambda e: e[3])
            rec = best[4]
            new_state["open"] = {
                "k": list(last_usage_group[1]),
                "t": _counts(rec),
                "id": rec["id"],
                "ts": rec["timestamp"],
                "model": rec["model"],
                "project": rec["project"],
                "session": rec.get("session"),
            }
        result.state = new_state

    # -- across files ------------------------------------------------------------------------

    def load_memory(self, data_dir: Path) -> dict:
        arrays = {}
        for kind in ("all", "side"):
            path = Path(data_dir) / f"imports-claude-code-{kind}.npy"
            arr = np.zeros(0, dtype=np.uint64)
            data = None
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                pass
            if data:
                try:
                    import io

                    arr = np.load(io.BytesIO(data), allow_pickle=False).astype(np.uint64)
                except Exception:
                    arr = np.zeros(0, dtype=np.uint64)
            arrays[kind] = arr
        return {"dir": Path(data_dir), "all": arrays["all"], "side": arrays["side"], "new_all": [], "new_side": []}

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        """ccusage's rule: same message id + request id -> one response, most tokens wins; a
        sidechain line matches any line with its message id, and a parent line wins over it."""
        kept: list = []
        exact: dict[tuple, int] = {}
        by_msg: dict[str, list[int]] = {}
        dups = 0
        for e in entries:
            mid, rid, side = e[0], e[1], e[2]
            if mid is None:
                kept.append(e)
                continue
            idx = exact.get((mid, rid))
            if idx is None:
                for j in by_msg.get(mid, ()):
                    if side or kept[j][2]:
                        idx = j
                        break
            if idx is not None:
                dups += 1
                old = kept[idx]
                if _better(e, old):
                    kept[idx] = e
                    exact[(mid, rid)] = idx
                continue
            idx = len(kept)
            kept.append(e)
            exact[(mid, rid)] = idx
            by_msg.setdefault(mid, []).append(idx)
        # message ids known from earlier runs (a replay of a message imported before)
        known_all = memory["all"]
        known_side = memory["side"]
        out = []
        for e in kept:
            mid, side, rec = e[0], e[2], e[4]
            if mid is not None:
                h = _hash64(mid)
                if side and _in(known_all, h):
                    dups += 1
                    continue
                if not side and _in(known_side, h):
                    dups += 1
                    continue
                memory["new_all"].append(h)
                if side:
                    memory["new_side"].append(h)
            if rec["inputTokens"] or rec["outputTokens"] or rec["cacheReadTokens"] or rec["cacheWriteTokens"]:
                out.append(rec)
        return out, dups

    def records_done(self, memory: dict) -> None:
        for kind in ("all", "side"):
            new = memory[f"new_{kind}"]
            if not new:
                continue
            merged = np.union1d(memory[kind], np.array(new, dtype=np.uint64))
            import io

            buf = io.BytesIO()
            np.save(buf, merged, allow_pickle=False)
            storage.atomic_write(memory["dir"] / f"imports-claude-code-{kind}.npy", buf.getvalue())
            memory[kind] = merged
            memory[f"new_{kind}"] = []


def _counts(rec: dict) -> list[int]:
    return [rec["inputTokens"], rec["outputTokens"], rec["cacheReadTokens"], rec["cacheWriteTokens"], rec["cacheWrite1hTokens"]]


def _delta(group: dict, grown: list[int]):
    """A response imported while still streaming grew since: record what it added, on the
    response's own timestamp, so the ledger holds its final counts (as ccusage counts them)."""
    d = [max(0, a - b) for a, b in zip(grown, group["t"])]
    d[4] = min(d[4], d[3])
    rec = {
        "id": f"{group['id']}:+{sum(grown[:4])}"[:200],
        "timestamp": group["ts"],
        "model": group["model"],
        "provider": "anthropic",
        "project": group["project"],
        "inputTokens": d[0],
        "outputTokens": d[1],
        "cacheReadTokens": d[2],
        "cacheWriteTokens": d[3],
        "cacheWrite1hTokens": d[4],
        "feature": FEATURE,
    }
    if group.get("session"):
        rec["session"] = group["session"]
    return (None, None, False, sum(d[:4]), rec)


def _now() -> float:
    import time

    return time.time()


def _in(arr: np.ndarray, h: int) -> bool:
    if not len(arr):
        return False
    i = int(np.searchsorted(arr, np.uint64(h)))
    return i < len(arr) and int(arr[i]) == h


def _better(cand, old) -> bool:
    if cand[2] != old[2]:
        return bool(old[2])  # a parent line beats a sidechain copy
    if cand[3] != old[3]:
        return cand[3] > old[3]
    c_cost = cand[4].get("costUsd") or 0.0
    o_cost = old[4].get("costUsd") or 0.0
    return c_cost > o_cost


def _project_from_path(path: Path) -> str:
    parts = path.parts
    try:
        i = len(parts) - 1 - parts[::-1].index("projects")
        encoded = parts[i + 1]
    except (ValueError, IndexError):
        return "(no project)"
    return encoded.rstrip("-").rsplit("-", 1)[-1] or encoded


class _NoUsage(str):
    pass


_NO_USAGE = _NoUsage("no usage")


def _entry(obj: dict, cwd: str | None, fallback_project: str):
    """(message id, request id, sidechain, total tokens, record) or (None, problem)."""
    msg = obj.get("message")
    outer = obj
    if not (isinstance(msg, dict) and isinstance(msg.get("usage"), dict)):
        data = obj.get("data")
        inner = data.get("message") if isinstance(data, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("message"), dict) and isinstance(inner["message"].get("usage"), dict):
            outer = inner  # a sub-agent's message embedded in a progress line
            msg = inner["message"]
        else:
            return None, _NO_USAGE
    for k in NULLABLE_TOP:
        if k in outer and outer[k] is None:
            return None, f"{k} is null"
    for k in ("id", "model"):
        if k in msg and msg[k] is None:
            return None, f"message.{k} is null"
    usage = msg["usage"]
    for k in NULLABLE_USAGE:
        if k in usage and usage[k] is None:
            return None, f"usage.{k} is null"
    ts = parse_ts(outer.get("timestamp"))
    if ts is None:
        return None, f"timestamp {str(outer.get('timestamp'))[:40]!r} is not RFC 3339 with an offset"
    version = outer.get("version") if outer is obj else None
    if version is not None and not (isinstance(version, str) and VERSION.match(version)):
        return None, f"version {str(version)[:20]!r} is not a version number"
    session = outer.get("sessionId") if outer is obj else obj.get("sessionId")
    rid = outer.get("requestId")
    mid = msg.get("id")
    model = msg.get("model")
    for label, value in (("sessionId", session), ("requestId", rid), ("message.id", mid), ("message.model", model)):
        if value is not None and (not isinstance(value, str) or not value):
            return None, f"{label} is empty or not a string"
    side = outer.get("isSidechain")
    if side is not None and not isinstance(side, bool):
        return None, "isSidechain is not a boolean"
    inp = count(usage.get("input_tokens"))
    out = count(usage.get("output_tokens"))
    if inp is None or out is None:
        return None, "usage.input_tokens/output_tokens missing or not a non-negative integer"
    cr = usage.get("cache_read_input_tokens", 0)
    cw = usage.get("cache_creation_input_tokens", 0)
    cr, cw = count(cr), count(cw)
    if cr is None or cw is None:
        return None, "usage cache token count is not a non-negative integer"
    w1h = 0
    breakdown = usage.get("cache_creation")
    if breakdown is not None:
        if not isinstance(breakdown, dict):
            return None, "usage.cache_creation is not an object"
        w5 = count(breakdown.get("ephemeral_5m_input_tokens", 0))
        w1h = count(breakdown.get("ephemeral_1h_input_tokens", 0))
        if w5 is None or w1h is None:
            return None, "usage.cache_creation counts are not non-negative integers"
        cw = w5 + w1h
    cost = outer.get("costUSD")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
        return None, "costUSD is not a number"
    line_cwd = outer.get("cwd") if isinstance(outer.get("cwd"), str) else cwd
    if mid is not None:
        rec_id = f"claude-code:{mid}:{rid if rid is not None else '-'}"
    else:
        rec_id = f"claude-code:line:{outer.get('uuid') or short_hash(ts, session, inp, out, cr, cw)}"
    if len(rec_id) > 200:
        rec_id = "claude-code:h:" + short_hash(rec_id)
    rec = {
        "id": rec_id,
        "timestamp": ts,
        "model": model or "(unknown)",
        "provider": "anthropic",
        "project": project_of(line_cwd) or fallback_project,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": cr,
        "cacheWriteTokens": cw,
        "cacheWrite1hTokens": w1h,
        "feature": FEATURE,
    }
    if session:
        rec["session"] = session[:200]
    if cost is not None:
        rec["costUsd"] = float(cost)
    return (mid, rid, bool(side), inp + out + cr + cw, rec), None
