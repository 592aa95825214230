"""GitHub Copilot CLI: its session store, OpenTelemetry files and session events.

Checked against the real Copilot CLI 1.0.102 (2026-12-06, BYOK against a loopback stand-in of
the Anthropic API: tests/importers/test_real_vendor_tools.py).

Format read (all under `$COPILOT_HOME`, default `~/.copilot`)
    1. `session-store.db` (SQLite, always written), table `assistant_usage_events(id,
       session_id, turn_index, agent_id, parent_tool_call_id, model, copilot_usage_model,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       total_nano_aiu, request_multiplier, ..., api_endpoint, created_at)`: one row per API
       request (a tool call and the answer after it are two), joined to `sessions(id, cwd)`.
       `input_tokens` includes both cache buckets; `created_at` is ISO 8601 with `Z`.
    2. OpenTelemetry file export at `$COPILOT_OTEL_FILE_EXPORTER_PATH` (1.0.102 writes none
       without it; `otel/*.jsonl` is read too), only where the user turned it on. A span with
       `gen_ai.operation.name` `chat` is one request; its `gen_ai.usage.input_tokens` includes
       `cache_read.input_tokens` and `cache_write.input_tokens` (older files: `cache_creation`);
       a log record `gen_ai.client.inference.operation.details` is read when no chat span has
       its trace. `invoke_agent` spans sum a prompt's requests and are not read.
    3. `session-state/<session id>/events.jsonl`: `session.shutdown` events with
       `data.modelMetrics.<model>.usage{inputTokens (both caches included), outputTokens,
       cacheReadTokens, cacheWriteTokens}` (and `totalNanoAiu`). The same file has a
       `session.usage_record` per request: only its `isByok` is taken (the store has the same
       requests), with `apiCallId` (= a span's `gen_ai.response.id`) and the tokens to join by.

Per request or cumulative
    1 and 2 are per request; 3 is per session, written when a session ends. A resumed
    session's later shutdown repeats the earlier figures (running totals, as 1.0.102 writes
    them); older versions are said to write segments: usage-ls checks each file — figures
    that never decrease from one shutdown to the next are running totals, otherwise the
    segments are summed — and turns them into increments (`running.py`).
    The store comes first: a session it has is not read from the OTel file (which repeats the
    same requests under other ids) nor from its shutdowns. Shutdown events are read only for
    sessions that neither 1 nor 2 recorded (remembered, with the store's sessions, in
    `imports-copilot-cli-covered.json`). (ccusage 20.0.24 reads 2 and 3, not 1.)

Mapping
    input = input - cache reads - cache writes, output = output (reasoning is part of it),
    cost = `total_nano_aiu` / 1e11 dollars (1 AI unit = 1 AI Credit = $0.01) when recorded,
    else priced from the table; credits = AI units; billing `premium` (Copilot plan usage), or
    `byok` for a request made with the user's own key (list price, no credits): as its usage
    record says (a span joined by its call id, a store row by session and tokens), else as the
    row or span looks (no AI-credit figure at a 0x multiplier: 1.0.102's own-key requests); a
    shutdown's figures when every usage record of the model since the shutdown before says so;
    model = `copilot_usage_model`/`model` (`gen_ai.response.model`, else
    `gen_ai.request.model`); project = last segment of the session's `cwd`; session = the
    session id (`gen_ai.conversation.id`); feature `copilot-cli`.

Dedupe key
    `copilot-cli:db:<row id>`, `copilot-cli:otel:<traceId>:<spanId>`; shutdowns: the session,
    model and totals reached.
    The billing is no part of an id: an own-key request imported as `premium` before
    2026-12-07 is a duplicate now and stays as it was stored.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import orjson

from usage_ls import fileio
from usage_ls.importers.base import Tool, ms_ts, project_of
from usage_ls.importers.lines import FileResult, json_objects, marked_objects
from usage_ls.importers.running import RunningTotals, Snapshot, columns, open_ro, sql_time, wal_to_db

if TYPE_CHECKING:
    import sqlite3

FEATURE = "copilot-cli"
STORE = "session-store.db"
DB_ID, OTEL_ID = "copilot-cli:db:", "copilot-cli:otel:"
CALL = "_apiCallId"  # a span's call id, kept on its record from `read` to `merge`


# one literal search for the common start (three marks of their own: 3 searches of each file)
SESSION_MARKS = re.compile(rb'"session\.(?:start|shutdown|usage_record)"')


class Call(NamedTuple):
    """A request's `session.usage_record`: whether it was made with the user's own key."""

    session: str
    when: object  # its `timestamp`, parsed only to choose between two with the same tokens
    tokens: tuple[int, int, int, int]  # input without the caches, output, cache reads, cache writes
    call_id: str | None  # `apiCallId`: a chat span's `gen_ai.response.id`
    byok: bool


def _n(v) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else 0


def _attrs(raw) -> dict:
    """OTel attributes as a dict: already one, or OTLP's `[{key, value: {intValue: ...}}]`."""
    if isinstance(raw, dict):
        return raw
    out = {}
    for kv in raw if isinstance(raw, list) else []:
        if isinstance(kv, dict) and isinstance(kv.get("value"), dict):
            v = next(iter(kv["value"].values()), None)
            out[kv.get("key")] = int(v) if isinstance(v, str) and v.isdigit() else v
    return out


def _end_ms(obj: dict) -> int | None:
    end = obj.get("endTime")
    if isinstance(end, list) and len(end) == 2 and all(isinstance(x, int) for x in end):
        return end[0] * 1000 + end[1] // 1_000_000
    for key in ("endTimeUnixNano", "timeUnixNano"):
        v = obj.get(key)
        if isinstance(v, (int, str)) and str(v).isdigit():
            return int(v) // 1_000_000
    return ms_ts(obj.get("timestamp"))


class CopilotCli(RunningTotals, Tool):
    name = "copilot-cli"
    feature = FEATURE
    patterns = (STORE, STORE + "-wal", "*.jsonl")
    append_only = False  # shutdowns are judged over the whole file; the store is a database

    def home(self) -> Path:
        env = os.environ.get("COPILOT_HOME", "")
        return Path(env).expanduser() if env.strip() else Path.home() / ".copilot"

    def roots(self) -> list[Path]:
        home = self.home()
        roots = [home / STORE, home / (STORE + "-wal"), home / "otel", home / "session-state"]
        env = os.environ.get("COPILOT_OTEL_FILE_EXPORTER_PATH", "")
        return roots + ([Path(env).expanduser()] if env.strip() else [])

    def discover(self, paths) -> list[Path]:
        env = os.environ.get("COPILOT_OTEL_FILE_EXPORTER_PATH", "")
        exporter = Path(env).expanduser().resolve() if env.strip() else None
        return [
            p
            for p in super().discover(paths)
            if p.name.startswith(STORE) or p.name == "events.jsonl" or p.parent.name == "otel" or p == exporter
        ]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        import sqlite3  # here: only where there is a database

        if path.name.startswith(STORE):
            db = wal_to_db(path)
            if db.exists():
                try:
                    con = open_ro(db)
                    try:
                        self._store(con, result)
                    finally:
                        con.close()
                except sqlite3.Error as exc:
                    result.bad(db.name, f"cannot read the database ({exc})")
                    result.retry = True
            return
        if path.name == "events.jsonl":
            self._shutdowns(path, result, final)
            return
        self._otel(path, result, final)

    def _record(self, rid: str, ts: int, model, session, inp: int, out: int, cr: int, cw: int, byok: bool) -> dict:
        return {"id": rid[:200], "timestamp": ts, "model": model[:200] if isinstance(model, str) and model else "(unknown)",
                "billing": "byok" if byok else "premium", "inputTokens": inp, "outputTokens": out,
                "cacheReadTokens": cr, "cacheWriteTokens": cw, "feature": FEATURE,
                "session": str(session or "")[:200] or None}  # fmt: skip

    def _store(self, con: sqlite3.Connection, result: FileResult) -> None:
        have = columns(con, "assistant_usage_events")
        if not {"id", "session_id", "input_tokens", "output_tokens"} <= have:
            return
        names = (
            "copilot_usage_model",
            "model",
            "cache_read_tokens",
            "cache_write_tokens",
            "total_nano_aiu",
            "request_multiplier",
            "created_at",
        )
        # no usage record to say (`merge`): a row with no AI-credit figure at a 0x multiplier
        # was not plan usage (1.0.102's own-key rows; a plan row has its AI credits, 0 included)
        guess = {"total_nano_aiu", "request_multiplier"} <= have
        cols = ", ".join(f"e.{n}" if n in have else "NULL" for n in names)
        cwd = "s.cwd" if "cwd" in columns(con, "sessions") else "NULL"
        join = "LEFT JOIN sessions s ON s.id = e.session_id" if cwd != "NULL" else ""
        sql = f"SELECT e.id, e.session_id, e.input_tokens, e.output_tokens, {cols}, {cwd} FROM assistant_usage_events e {join}"
        for rid, sid, inp, out, umodel, model, cr, cw, aiu, mult, created, wd in con.execute(sql):
            ts = sql_time(created)
            if ts is None:
                result.bad(f"{STORE}:{rid}", "row without a usable created_at")
                continue
            cr, cw = _n(cr), _n(cw)
            byok = guess and aiu is None and mult == 0
            rec = self._record(
                f"{DB_ID}{rid}", ts, umodel or model, sid, max(0, _n(inp) - cr - cw), _n(out), cr, cw, byok
            )
            rec["project"] = project_of(wd) or "(no project)"
            if _n(aiu):
                rec["costUsd"], rec["credits"] = _n(aiu) / 1e11, _n(aiu) / 1e9
            if rec["inputTokens"] or rec["outputTokens"] or cr or cw:
                result.entries.append(rec)

    def _otel(self, path: Path, result: FileResult, final: bool) -> None:
        spans, logs, traces = [], [], set()
        for offset, obj in json_objects(path, 0, result, final=final):
            a = _attrs(obj.get("attributes"))
            if a.get("gen_ai.operation.name") == "chat" and "spanId" in obj:
                spans.append((offset, obj, a))
                traces.add(obj.get("traceId"))
            elif a.get("event.name") == "gen_ai.client.inference.operation.details":
                logs.append((offset, obj, a))
        for offset, obj, a in spans + [x for x in logs if x[1].get("traceId") not in traces]:
            ts = _end_ms(obj)
            if ts is None:
                result.bad(f"{path.name}:{offset}", "span without a usable end time")
                continue
            cr = _n(a.get("gen_ai.usage.cache_read.input_tokens"))
            cw = _n(a.get("gen_ai.usage.cache_write.input_tokens") or a.get("gen_ai.usage.cache_creation.input_tokens"))
            inp, out = max(0, _n(a.get("gen_ai.usage.input_tokens")) - cr - cw), _n(a.get("gen_ai.usage.output_tokens"))
            model = a.get("gen_ai.response.model") or a.get("gen_ai.request.model")
            rid = f"{OTEL_ID}{obj.get('traceId')}:{obj.get('spanId') or offset}"
            # as a store row: no AI-credit figure at a 0x multiplier (`merge` asks the usage records)
            byok = a.get("github.copilot.cost") == 0 and "github.copilot.nano_aiu" not in a
            rec = self._record(rid, ts, model, a.get("gen_ai.conversation.id"), inp, out, cr, cw, byok)
            rec["project"] = "(no project)"
            if isinstance(a.get("gen_ai.response.id"), str):
                rec[CALL] = a["gen_ai.response.id"]  # the usage record's apiCallId; taken off in `merge`
            if inp or out or cr or cw:
                result.entries.append(rec)

    def _shutdowns(self, path: Path, result: FileResult, final: bool) -> None:
        session = path.parent.name
        seen: dict[str, list[tuple[int, dict[str, int], float, bool]]] = {}
        project = None
        since: dict[str, list[bool]] = {}  # per model: `isByok` of the requests since the last shutdown
        # only the session's start, usage records and shutdowns are parsed (not the messages' text)
        for offset, obj in marked_objects(path, 0, result, SESSION_MARKS, final=final):
            data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
            kind = obj.get("type")
            if kind == "session.start":
                ctx = data.get("context") if isinstance(data.get("context"), dict) else data
                project = project_of(ctx.get("cwd")) or project
            elif kind == "session.usage_record":
                self._call(session, obj, data, since, result)
            if kind != "session.shutdown" or not isinstance(data.get("modelMetrics"), dict):
                continue
            ts = ms_ts(obj.get("timestamp"))
            if ts is None:
                result.bad(f"{path.name}:{offset}", "session.shutdown without a usable timestamp")
                continue
            for model, m in data["modelMetrics"].items():
                u = m.get("usage") if isinstance(m, dict) and isinstance(m.get("usage"), dict) else {}
                cr, cw = _n(u.get("cacheReadTokens")), _n(u.get("cacheWriteTokens"))
                totals = {"inputTokens": max(0, _n(u.get("inputTokens")) - cr - cw), "cacheReadTokens": cr,
                          "outputTokens": _n(u.get("outputTokens")), "cacheWriteTokens": cw}  # fmt: skip
                # the shutdown does not say (1.0.102: `provider` null, "unknown"); the requests
                # since the one before do: own-key when every one of this model's was
                byok = bool(since.get(model)) and all(since[model])
                seen.setdefault(model, []).append(
                    (ts, totals, _n(m.get("totalNanoAiu") or data.get("totalNanoAiu")), byok)
                )
            since = {}
        for model, shots in seen.items():
            running = all(all(b[1][c] >= a[1][c] for c in b[1]) for a, b in itertools.pairwise(shots))
            acc = {c: 0 for c in shots[0][1]}
            aiu = 0
            for ts, totals, nano, byok in shots:
                acc = dict(totals) if running else {c: acc[c] + totals[c] for c in acc}
                aiu = nano if running else aiu + nano
                rec = {"model": str(model)[:200], "billing": "byok" if byok else "premium", "feature": FEATURE,
                       "session": session[:200], "project": project or "(no project)"}  # fmt: skip
                cost = aiu / 1e11 if aiu and not byok else None
                result.entries.append(Snapshot(f"copilot-cli:{session}:{model}", ts, acc, rec, cost=cost))

    def _call(self, session: str, obj: dict, data: dict, since: dict[str, list[bool]], result: FileResult) -> None:
        """A `session.usage_record`: a `Call` for `merge`, and its `isByok` for the next shutdown."""
        u = data.get("usage")
        byok = u.get("isByok") if isinstance(u, dict) else None
        if not isinstance(byok, bool):
            return  # older records do not say: booked as their source says
        cr, cw = _n(u.get("cacheReadTokens")), _n(u.get("cacheWriteTokens"))
        tokens = (max(0, _n(u.get("inputTokens")) - cr - cw), _n(u.get("outputTokens")), cr, cw)
        call_id = u.get("apiCallId")
        result.entries.append(
            Call(session, obj.get("timestamp"), tokens, call_id if isinstance(call_id, str) else None, byok)
        )
        since.setdefault(str(u.get("model")), []).append(byok)

    # -- across sources ---------------------------------------------------------------------

    def _billing(self, records: list[dict], calls: list[Call]) -> None:
        """Book each request as its usage record says: a span by its `gen_ai.response.id` (the
        record's `apiCallId`), a store row (no call id) by its session and tokens, the nearest
        in time if several have the same; a request without one keeps its source's guess."""
        by_id = {c.call_id: c.byok for c in calls if c.call_id}
        by_use: dict[tuple, list[Call]] = {}
        for c in calls:
            by_use.setdefault((c.session, c.tokens), []).append(c)
        sessions = {c.session for c in calls}
        for rec in records:  # (the whole store each time it changed: a set lookup for most rows)
            byok = by_id.get(rec.pop(CALL, None))
            if byok is None:
                if rec["session"] not in sessions:
                    continue
                tokens = (rec["inputTokens"], rec["outputTokens"], rec["cacheReadTokens"], rec["cacheWriteTokens"])
                near = by_use.get((rec["session"], tokens))
                if not near:
                    continue
                byok = near[0].byok
                if any(c.byok != byok for c in near):
                    byok = min(near, key=lambda c: abs((ms_ts(c.when) or 0) - rec["timestamp"])).byok
            rec["billing"] = "byok" if byok else "premium"
            if byok:  # at list price and no plan credits, whatever AI units the row had
                rec.pop("costUsd", None)
                rec.pop("credits", None)

    def _store_sessions(self) -> set[str]:
        """The sessions the store has requests of (none when it cannot be read)."""
        import sqlite3

        db = self.home() / STORE
        if not db.exists():
            return set()
        try:
            con = open_ro(db)
            try:
                if "session_id" not in columns(con, "assistant_usage_events"):
                    return set()
                return {str(r[0]) for r in con.execute("SELECT DISTINCT session_id FROM assistant_usage_events")}
            finally:
                con.close()
        except sqlite3.Error:
            return set()

    def load_memory(self, data_dir: Path) -> dict:
        memory = super().load_memory(data_dir)
        memory["covered_path"] = Path(data_dir) / "imports-copilot-cli-covered.json"
        try:
            covered = orjson.loads(memory["covered_path"].read_bytes())
        except (OSError, orjson.JSONDecodeError):
            covered = []
        if isinstance(covered, dict):  # {"covered": [...], "stored": [...]}
            memory["covered"], memory["stored"] = set(covered.get("covered", [])), set(covered.get("stored", []))
        else:  # the older file: a list of the covered sessions
            memory["covered"], memory["stored"] = set(covered if isinstance(covered, list) else []), set()
        memory["covered_new"], memory["stored_new"] = set(), set()
        return memory

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        records: dict[str, dict] = {}
        dups = 0
        new = memory.setdefault("covered_new", set())
        # a session the store has is read from the store only: the OTel file repeats its
        # requests (the store as it is now too, should the OTel file be read before it)
        batch = {
            e["session"] for e in entries if isinstance(e, dict) and e["id"].startswith(DB_ID) and e.get("session")
        }
        stored_new = memory.setdefault("stored_new", set())
        stored_new |= batch - memory.get("stored", set())
        stored = memory.get("stored", set()) | stored_new
        if any(isinstance(e, dict) and e["id"].startswith(OTEL_ID) and e.get("session") not in stored for e in entries):
            stored = stored | self._store_sessions()
        calls = []
        for e in entries:
            if isinstance(e, dict):
                if e.get("session") in stored and not e["id"].startswith(DB_ID):
                    dups += 1
                    continue
                dups += e["id"] in records
                records.setdefault(e["id"], e)
                if e.get("session"):
                    new.add(e["session"])
            elif isinstance(e, Call):
                calls.append(e)
        self._billing(list(records.values()), calls)
        covered = memory.get("covered", set()) | new
        shots = [e for e in entries if isinstance(e, Snapshot) and e.record["session"] not in covered]
        dups += sum(1 for e in entries if isinstance(e, Snapshot)) - len(shots)
        more, d2 = super().merge(shots, memory)
        return list(records.values()) + more, dups + d2

    def records_done(self, memory: dict) -> None:
        super().records_done(memory)
        new, stored = memory.get("covered_new") or set(), memory.get("stored_new") or set()
        if new - memory["covered"] or stored - memory["stored"]:
            memory["covered"] |= new
            memory["stored"] |= stored
            both = {"covered": sorted(memory["covered"]), "stored": sorted(memory["stored"])}
            fileio.atomic_write(memory["covered_path"], orjson.dumps(both))
        memory["covered_new"], memory["stored_new"] = set(), set()
