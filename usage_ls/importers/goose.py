"""Goose (block/goose): its SQLite session store.

Format read
    `sessions.db` in `$GOOSE_PATH_ROOT/data/sessions` when that variable is set, else
    `~/.local/share/goose/sessions`, `~/.local/share/Block/goose/sessions` or
    `~/Library/Application Support/goose/sessions`. Table `sessions`: `id` (`20260501_1`),
    `model_config_json` (`$.model_name`), `provider_name`, `working_dir`, `created_at`,
    `updated_at` (SQLite `CURRENT_TIMESTAMP` text, UTC without a zone), and the session's
    `accumulated_input_tokens`, `accumulated_output_tokens`, `accumulated_total_tokens`
    (older schemas: only `input_tokens`... which there hold the *last* request: read only when
    the accumulated columns are absent). Newer schemas may add `accumulated_cache_read_tokens`
    / `accumulated_cache_write_tokens` and a per-request `usage_ledger` table (not verified on
    a real database: UNCERTAIN); columns are looked up with `PRAGMA table_info`.

Per request or cumulative
    `sessions` holds running totals per session: they are turned into increments
    (`running.py`) dated at the row's `updated_at` (else `created_at`), so a session the
    watcher follows is booked day by day; one first seen by an import is booked whole at its
    last update (ccusage books it on `created_at`). When `usage_ledger` exists its rows are
    per request (`created_timestamp`, `model`, `input_tokens`, ...) and are read instead for
    the sessions they cover.

Mapping
    input = accumulated input (minus cache reads and writes when the schema has them and
    input covers them, as Goose's providers report total input: UNCERTAIN), output =
    accumulated output + (total - input - output) when the total is larger (the rest is
    reasoning, as ccusage infers); project = last segment of `working_dir`; session = `id`;
    feature `goose`.

Dedupe key
    Sessions: `goose:<hash of session id and totals reached>`; ledger rows: `goose:<hash of the
    row's session, time, model and counts>`.

Pitfalls handled
    - the database is opened read-only, never locked for writing (`running.open_ro`); a
      locked or half-written database is counted unreadable and read again next time;
    - a write in WAL mode changes `sessions.db-wal`, not `sessions.db`: both are watched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from usage_ls.importers.base import Tool, project_of, short_hash
from usage_ls.importers.lines import FileResult, Vanished
from usage_ls.importers.running import RunningTotals, Snapshot, columns, open_ro, sql_time, wal_to_db

if TYPE_CHECKING:
    import sqlite3

FEATURE = "goose"


def _n(value) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


class Goose(RunningTotals, Tool):
    name = "goose"
    feature = FEATURE
    patterns = ("sessions.db", "sessions.db-wal")
    append_only = False

    def roots(self) -> list[Path]:
        env = os.environ.get("GOOSE_PATH_ROOT", "")
        if env.strip():
            return [Path(env).expanduser() / "data" / "sessions"]
        home = Path.home()
        if sys.platform == "darwin":
            return [home / "Library" / "Application Support" / "goose" / "sessions"]
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
        return [base / "goose" / "sessions", base / "Block" / "goose" / "sessions"]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        import sqlite3  # here: only where there is a database

        db = wal_to_db(path)
        if not db.exists():
            if db != path:
                return  # a -wal left without its database: nothing to read
            raise Vanished(str(db))
        try:
            con = open_ro(db)
            try:
                self._read(con, db.name, result)
            finally:
                con.close()
        except sqlite3.Error as exc:
            result.bad(db.name, f"cannot read the database ({exc})")
            result.retry = True

    def _read(self, con: sqlite3.Connection, where: str, result: FileResult) -> None:
        have = columns(con, "sessions")
        if "id" not in have:
            result.bad(where, "no sessions table with an id column")
            return
        ledger = columns(con, "usage_ledger")
        covered: set = set()
        if {"session_id", "created_timestamp", "input_tokens", "output_tokens"} <= ledger:
            covered = self._ledger(con, ledger, where, result)

        def col(*names: str) -> str:
            for n in names:
                if n in have:
                    return n
            return "NULL"

        acc = "accumulated_input_tokens" in have
        sql = ", ".join(
            [
                "id",
                col("model_config_json"),
                col("provider_name"),
                col("working_dir"),
                col("created_at"),
                col("updated_at"),
                col("accumulated_input_tokens") if acc else col("input_tokens"),
                col("accumulated_output_tokens") if acc else col("output_tokens"),
                col("accumulated_total_tokens") if acc else col("total_tokens"),
                col("accumulated_cache_read_tokens") if acc else col("cache_read_tokens"),
                col("accumulated_cache_write_tokens") if acc else col("cache_write_tokens"),
            ]
        )
        for sid, cfg, provider, wd, created, updated, inp, out, total, cr, cw in con.execute(
            f"SELECT {sql} FROM sessions"
        ):
            if sid in covered:
                continue
            inp, out, total, cr, cw = _n(inp), _n(out), _n(total), _n(cr), _n(cw)
            if inp >= cr + cw:
                inp -= cr + cw
            out += max(0, total - (inp + cr + cw) - out) if total else 0
            if not (inp or out or cr or cw):
                continue
            ts = sql_time(updated) or sql_time(created)
            if ts is None:
                result.bad(f"{where}:{sid}", "session without created_at/updated_at")
                continue
            rec = {
                "model": _model(cfg),
                "project": project_of(wd) or "(no project)",
                "feature": FEATURE,
                "session": str(sid)[:200],
            }
            if isinstance(provider, str) and provider:
                rec["provider"] = provider[:100]
            totals = {"inputTokens": inp, "outputTokens": out, "cacheReadTokens": cr, "cacheWriteTokens": cw}
            result.entries.append(Snapshot(f"goose:{sid}", ts, totals, rec))

    def _ledger(self, con: sqlite3.Connection, have: set[str], where: str, result: FileResult) -> set:
        """Per-request rows of `usage_ledger`, as Snapshots of their own key (each is counted
        once, whole); returns the sessions they cover."""
        names = ("model", "cache_read_tokens", "cache_write_tokens", "cost")
        extra = ", ".join(n if n in have else "NULL" for n in names)
        covered = set()
        for sid, created, inp, out, model, cr, cw, cost in con.execute(
            f"SELECT session_id, created_timestamp, input_tokens, output_tokens, {extra} FROM usage_ledger"
        ):
            covered.add(sid)
            ts = sql_time(created)
            if ts is None:
                result.bad(f"{where}:usage_ledger", "row without created_timestamp")
                continue
            inp, out, cr, cw = _n(inp), _n(out), _n(cr), _n(cw)
            if inp >= cr + cw:
                inp -= cr + cw
            rec = {"model": model if isinstance(model, str) and model else "(unknown)", "feature": FEATURE}
            rec.update(session=str(sid)[:200], project="(no project)")
            totals = {"inputTokens": inp, "outputTokens": out, "cacheReadTokens": cr, "cacheWriteTokens": cw}
            key = f"goose-ledger:{short_hash(sid, created, model, inp, out, cr, cw)}"
            c = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost > 0 else None
            result.entries.append(Snapshot(key, ts, totals, rec, cost=c))
        return covered


def _model(cfg) -> str:
    try:
        doc = orjson.loads(cfg) if isinstance(cfg, (str, bytes)) else None
    except orjson.JSONDecodeError:
        doc = None
    name = doc.get("model_name") if isinstance(doc, dict) else None
    return name[:200] if isinstance(name, str) and name else "(unknown)"
