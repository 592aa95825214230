"""Hermes Agent (NousResearch/hermes-agent): its SQLite state database.

Format read
    `$HERMES_HOME/state.db` (default `~/.hermes`). Table `sessions`: `id`, `source`, `model`,
    `billing_provider`, `started_at`, `ended_at` (epoch seconds, REAL), `input_tokens`,
    `output_tokens`, `cache_read_tokens`, `cache_write_tokens`, `reasoning_tokens`,
    `estimated_cost_usd`, `actual_cost_usd`: the session's running totals. Newer versions
    (`hermes_state_usage.py`) add `session_daily_usage(session_id, day, <the same counters>,
    estimated_cost_usd, actual_cost_usd, api_call_count)`, where `day` is
    `date('now', 'localtime')` when the usage was written, and `session_model_usage`
    (per session and model). Columns are looked up with `PRAGMA table_info`.

Per request or cumulative
    Cumulative both: a `sessions` row per session, a `session_daily_usage` row per session and
    day, each growing as requests are added. Both are turned into increments (`running.py`).
    Where a session has day rows, they are read (one key per session and day, dated at noon
    of that day in the ledger's zone, which is taken to be the machine's: UNCERTAIN), so a
    multi-day session is booked day by day even on a first import; otherwise its `sessions`
    row is, dated at `ended_at`, or for a session still open at the database's last write.
    (ccusage reads only `sessions` and books a session on its `started_at` day.)

Mapping
    input = `input_tokens`, cache reads/writes = `cache_read_tokens`/`cache_write_tokens`
    (Hermes keeps cache apart from input), output = `output_tokens` (`reasoning_tokens` are a
    part of it: hermes-agent 0.19.0's `normalize_usage` takes output from the API's
    `output_tokens`/`completion_tokens` and reasoning from their details). Cost: `actual_cost_usd` when
    above 0, else `estimated_cost_usd` when above 0, else priced from the table (a recorded 0
    is subscription usage, not free: ccusage does the same). model = the session's single
    model in `session_model_usage` when there is one, else `sessions.model`; provider =
    `billing_provider`; project = last segment of `sessions.cwd` (0.19.0), else `(no
    project)` (older versions kept no working directory); session =
    `id`; feature `hermes`.

Dedupe key
    `hermes:<hash of the session (and day) and the totals reached>`.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from usage_ls.importers.base import Tool, project_of
from usage_ls.importers.lines import FileResult, Vanished
from usage_ls.importers.running import RunningTotals, Snapshot, columns, open_ro, wal_to_db

if TYPE_CHECKING:
    import sqlite3

FEATURE = "hermes"
COUNTS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _n(v) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else 0


def _cost(actual, estimated) -> float | None:
    for v in (actual, estimated):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            return float(v)
    return None


class Hermes(RunningTotals, Tool):
    name = "hermes"
    feature = FEATURE
    patterns = ("state.db", "state.db-wal")
    append_only = False

    def roots(self) -> list[Path]:
        env = os.environ.get("HERMES_HOME", "")
        home = Path(env).expanduser() if env.strip() else Path.home() / ".hermes"
        return [home / "state.db", home / "state.db-wal"]  # not the rest of Hermes' home

    def discover(self, paths) -> list[Path]:
        return [p for p in super().discover(paths) if p.name.startswith("state.db")]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        import sqlite3  # here: only where there is a database

        db = wal_to_db(path)
        if not db.exists():
            if db != path:
                return
            raise Vanished(str(db))
        try:
            written = int(max(db.stat().st_mtime, path.stat().st_mtime) * 1000)
            con = open_ro(db)
            try:
                self._read(con, db.name, written, result)
            finally:
                con.close()
        except sqlite3.Error as exc:
            result.bad(db.name, f"cannot read the database ({exc})")
            result.retry = True

    def _read(self, con: sqlite3.Connection, where: str, written: int, result: FileResult) -> None:
        have = columns(con, "sessions")
        if "id" not in have:
            result.bad(where, "no sessions table with an id column")
            return

        def cols(names, table_cols) -> str:
            return ", ".join(n if n in table_cols else "NULL" for n in names)

        models: dict = {}
        smu = columns(con, "session_model_usage")
        if {"session_id", "model"} <= smu:
            for sid, model in con.execute("SELECT session_id, model FROM session_model_usage"):
                models.setdefault(sid, set()).add(model)
        sessions = {}
        # Hermes 0.19 keeps each session's working directory
        cwds = dict(con.execute("SELECT id, cwd FROM sessions")) if "cwd" in have else {}
        names = (
            "model",
            "billing_provider",
            "started_at",
            "ended_at",
            *COUNTS,
            "actual_cost_usd",
            "estimated_cost_usd",
        )
        for row in con.execute(f"SELECT id, {cols(names, have)} FROM sessions"):
            sid, model, provider = row[0], row[1], row[2]
            only = models.get(sid)
            if only and len(only) == 1:
                model = next(iter(only))
            rec = {"model": model if isinstance(model, str) and model else "(unknown)", "feature": FEATURE,
                   "project": project_of(cwds.get(sid)) or "(no project)", "session": str(sid)[:200]}  # fmt: skip
            if isinstance(provider, str) and provider:
                rec["provider"] = provider[:100]
            sessions[sid] = (rec, row)
        daily = columns(con, "session_daily_usage")
        by_day = set()
        if {"session_id", "day", "input_tokens"} <= daily:
            dnames = (*COUNTS, "actual_cost_usd", "estimated_cost_usd")
            for sid, day, *v in con.execute(f"SELECT session_id, day, {cols(dnames, daily)} FROM session_daily_usage"):
                ts = self._noon(day)
                if ts is None:
                    result.bad(f"{where}:session_daily_usage", f"day is not a date ({str(day)[:20]!r})")
                    continue
                by_day.add(sid)
                rec = sessions[sid][0] if sid in sessions else {"model": "(unknown)", "feature": FEATURE,
                                                                "project": "(no project)", "session": str(sid)[:200]}  # fmt: skip
                self._snap(f"hermes:{sid}:{day}", ts, v, rec, result)
        for sid, (rec, row) in sessions.items():
            if sid in by_day:
                continue
            ended = row[4]
            ts = int(ended * 1000) if isinstance(ended, (int, float)) and ended > 0 else written
            self._snap(f"hermes:{sid}", ts, row[5:], rec, result)

    def _snap(self, key: str, ts: int, v, rec: dict, result: FileResult) -> None:
        inp, out, cr, cw = (_n(x) for x in v[:4])
        cost = _cost(v[4], v[5])
        if not (inp or out or cr or cw or cost):
            return
        totals = {"inputTokens": inp, "outputTokens": out, "cacheReadTokens": cr, "cacheWriteTokens": cw}
        result.entries.append(Snapshot(key, ts, totals, rec, cost=cost))

    def _noon(self, day) -> int | None:
        try:
            d = dt.date.fromisoformat(str(day))
        except ValueError:
            return None
        return int(dt.datetime(d.year, d.month, d.day, 12, tzinfo=self.tz or dt.UTC).timestamp() * 1000)
