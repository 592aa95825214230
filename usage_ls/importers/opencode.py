"""opencode: the messages it stores per session.

Format read
    `$XDG_DATA_HOME/opencode/opencode.db` (default `~/.local/share/opencode`; SQLite, table
    `message(id, session_id, data)` with `data` a JSON object), or, in older versions,
    `storage/message/<session id>/msg_*.json`, one file per message. An assistant message has
    `{role: "assistant", modelID, providerID, tokens: {input, output, reasoning, cache: {read,
    write}}, cost, time: {created (ms), completed}, path: {cwd, root}}`.

Mapping
    input = `tokens.input` (opencode already keeps cache apart), output = output + reasoning,
    cache reads/writes = `tokens.cache.read`/`write`; `cost` is the reported cost when it is
    above 0 (subscription providers report 0: those are priced from the table instead).
    project = last segment of `path.root` (else `path.cwd`); session = session id; feature =
    `opencode`.

Dedupe key
    `opencode:<message id>`.

Pitfalls handled
    - a message still streaming (no `time.completed`, all-zero tokens) records nothing yet and
      is picked up once written;
    - the database is opened read-only (and `immutable` is never assumed: opencode may be
      writing); a locked or corrupt database is counted unreadable, never a crash; in WAL mode
      a write changes `opencode.db-wal`, not `opencode.db`: both are watched;
    - user messages and rows whose `data` is not JSON are skipped (the latter counted).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from usage_ls.importers.base import Tool, ms_ts, project_of
from usage_ls.importers.lines import FileResult, Vanished, load_json_file

FEATURE = "opencode"


class OpenCode(Tool):
    name = "opencode"
    feature = FEATURE
    patterns = ("opencode.db", "opencode.db-wal", "msg_*.json")
    # a folder of part files per message (the text, tool calls): half the tree, none of it read
    prune = ("storage/part",)
    append_only = False

    def roots(self) -> list[Path]:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return [base / "opencode"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        if path.name.endswith(".db-wal"):  # a write in WAL mode: read the database it belongs to
            path = path.with_name(path.name[: -len("-wal")])
            if not path.exists():
                return
        if path.suffix == ".db":
            self._read_db(path, result)
            return
        doc = load_json_file(path, result, final=final)
        if isinstance(doc, dict):
            self._message(doc, path.parent.name, path.name, result)
        elif doc is not None:
            result.bad(path.name, "message file is not a JSON object")

    def _read_db(self, path: Path, result: FileResult) -> None:
        if not path.exists():
            raise Vanished(str(path))
        import sqlite3  # here: only where there is a database (`import all` looks for one)

        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
            try:
                rows = con.execute("SELECT id, session_id, data FROM message").fetchall()
            finally:
                con.close()
        except sqlite3.Error as exc:
            result.bad(path.name, f"cannot read the database ({exc})")
            result.retry = True
            return
        for mid, session, data in rows:
            try:
                doc = orjson.loads(data)
            except (orjson.JSONDecodeError, TypeError):
                result.bad(f"{path.name}:{mid}", "message data is not JSON")
                continue
            if isinstance(doc, dict):
                doc.setdefault("id", mid)
                doc.setdefault("sessionID", session)
                self._message(doc, session, f"{path.name}:{mid}", result)

    def _message(self, doc: dict, session, where: str, result: FileResult) -> None:
        if doc.get("role") != "assistant":
            return
        tokens = doc.get("tokens")
        if not isinstance(tokens, dict):
            return
        cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
        values = [
            tokens.get("input"),
            tokens.get("output"),
            tokens.get("reasoning"),
            cache.get("read"),
            cache.get("write"),
        ]
        clean = []
        for v in values:
            v = 0 if v is None else v
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                result.bad(where, "token counts are not non-negative numbers")
                return
            clean.append(int(v))
        inp, out, reasoning, cr, cw = clean
        if not (inp or out or reasoning or cr or cw):
            return
        times = doc.get("time") if isinstance(doc.get("time"), dict) else {}
        ts = ms_ts(times.get("created"))
        if ts is None:
            result.bad(where, "message without time.created")
            return
        paths = doc.get("path") if isinstance(doc.get("path"), dict) else {}
        model = doc.get("modelID") if isinstance(doc.get("modelID"), str) and doc["modelID"] else "(unknown)"
        rec = {
            "id": f"{self.name}:{doc.get('id')}"[:200],
            "timestamp": ts,
            "model": model,
            "project": project_of(paths.get("root")) or project_of(paths.get("cwd")) or "(no project)",
            "inputTokens": inp,
            "outputTokens": out + reasoning,
            "cacheReadTokens": cr,
            "cacheWriteTokens": cw,
            "feature": self.feature,
            "session": str(doc.get("sessionID") or session)[:200],
        }
        if isinstance(doc.get("providerID"), str) and doc["providerID"]:
            rec["provider"] = doc["providerID"][:100]
        cost = doc.get("cost")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0:
            rec["costUsd"] = float(cost)
        result.entries.append(rec)


class Kilo(OpenCode):
    """Kilo CLI (Kilo-Org's fork of opencode): opencode's store under its own name,
    `$KILO_DATA_DIR` (as ccusage reads it), else `$XDG_DATA_HOME/kilo` (default
    `~/.local/share/kilo`), database `kilo.db`; ids `kilo:<message id>`, feature `kilo`.
    (The Kilo Code VS Code extension is read by `cline`, alias `kilo-code`.)"""

    name = "kilo"
    feature = "kilo"
    patterns = ("kilo.db", "kilo.db-wal", "msg_*.json")

    def roots(self) -> list[Path]:
        env = os.environ.get("KILO_DATA_DIR", "")
        if env.strip():
            return [Path(env).expanduser()]
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return [base / "kilo"]
