"""Importers: usage that other AI tools already log on disk, counted in the same ledger.

One module per tool (each says at its top what it reads, how it dedupes and what it guards
against); `base` holds what they share. `usage-ls import <tool> [PATH...]` runs `main`;
`live.attach` lets a running server pick up new log lines as they are written.

    claude-code   claude_code.py   Claude Code transcripts (JSONL)
    codex         codex.py         OpenAI Codex CLI rollouts (JSONL)
    aider         aider.py         aider's chat history (Markdown) and analytics log (JSONL)
    gemini        gemini.py        Gemini CLI chats (JSONL, older JSON)
    cline         cline.py         Cline / Roo Code / Kilo Code task histories (JSON)
    opencode      opencode.py      opencode's SQLite database (older: JSON files)
    continue      continue_.py     Continue's tokensGenerated.jsonl
    droid         droid.py         Factory Droid's session totals (JSON; running totals)
    goose         goose.py         Goose's sessions.db (SQLite; running totals)
    qwen          qwen.py          Qwen Code chat logs, topped up from its usage record (JSONL)
    kimi          kimi.py          Kimi CLI wire logs (JSONL)
    pi            pi.py            pi's coding-agent sessions (JSONL)
    openclaw      openclaw.py      OpenClaw agents' session transcripts (JSONL)
    hermes        hermes.py        Hermes Agent's state.db (SQLite; per-day running totals)
    amp           amp.py           Amp's thread files (JSON)
    codebuff      codebuff.py      Codebuff's saved chats (JSON)
    kilo          opencode.py      Kilo CLI's kilo.db (opencode's format)
    copilot-cli   copilot_cli.py   Copilot CLI's session store, OTel files, session events
    cursor        cursor.py        Cursor's usage-events CSV export (downloaded)
    copilot-report copilot_report.py GitHub Copilot's usage report CSV (downloaded)
    usage-ls      ledger_file.py   usage-ls's own export files (`usage-ls export`), from another machine

Shared by some: `running.py` (running totals -> increments, read-only SQLite) and `exports.py`
(CSV exports read by header name).
"""

from __future__ import annotations

import contextlib
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import orjson

from usage_ls.importers import parallel
from usage_ls.importers.base import BATCH, ImportState, Tally, Tool, lock, resume_point, signature
from usage_ls.importers.registry import ALIASES, TOOL_NAMES, get_tool


def import_settings(data_dir: Path) -> dict:
    """`[import]` keys this package reads itself: `billing` (a string, or a table per tool)."""
    try:
        raw = tomllib.loads((Path(data_dir) / "config.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    table = raw.get("import")
    return table if isinstance(table, dict) else {}


def billing_for(settings: dict, tool: str) -> str:
    """Default "byok": what these tools spend is paid outside the editor plan (an API key or the
    tool's own subscription), so it is counted in dollars at list price, not in plan credits."""
    value = settings.get("billing", "byok")
    if isinstance(value, dict):
        value = value.get(tool, value.get("default", "byok"))
    return value if value in ("byok", "premium") else "byok"


class Importer:
    """Imports of one data directory: state, lock, and a lazily opened service."""

    def __init__(self, data_dir: Path | str | None = None, svc=None, *, bulk: bool = False):
        from usage_ls.config import load_config

        self.svc = svc
        self.cfg = svc.cfg if svc is not None else load_config(data_dir)
        self.data_dir = Path(self.cfg.data_dir)
        self.state = ImportState(self.data_dir).load()
        self.settings = import_settings(self.data_dir)
        self._own_svc = False
        self.bulk = bulk  # one-shot CLI import: parallel reads, records straight into day files
        self._memory: dict[str, dict] = {}
        self.tools: dict[str, Tool] = {}
        self.observed: list = []  # plan windows read by the current run (store.limits.Observation)
        self.deferred: list | None = None  # (tally, prepared records) held for `flush` (`defer`)
        self.progress: Any = None  # progress.ImportBar on a terminal (`usage-ls import`)
        self.after: list = []  # (tool, memory, file states) to finish once their records are in

    def tool(self, name: str) -> Tool:
        t = self.tools.get(name)
        if t is None:
            t = self.tools[name] = get_tool(name)
            t.tz = self.cfg.tz
        return t

    def service(self):
        """The service records go through; for a bulk import only what it writes with
        (`sink.BulkSink`: no journal, no query side)."""
        if self.svc is None:
            if self.bulk:
                from usage_ls.importers.sink import BulkSink

                self.svc = BulkSink(self.cfg)
            else:
                from usage_ls.service import Usage

                self.svc = Usage(self.cfg, tag="import").open()
            self._own_svc = True
        return self.svc

    def close(self) -> None:
        if self._own_svc and self.svc is not None:
            self.svc.close()
            self.svc = None
            self._own_svc = False

    def refresh(self) -> None:
        """Re-read the import state (and tools' memory) if another process changed it."""
        if self.state.stale():
            self.state = ImportState(self.data_dir).load()
            self._memory.clear()

    def held(self, tool: str, path: Path) -> bool:
        entry = self.state.get(tool, path)
        return bool(entry and (entry.get("state") or {}).get("held"))

    def memory(self, tool: Tool) -> dict:
        mem = self._memory.get(tool.name)
        if mem is None:
            loader = getattr(tool, "load_memory", None)
            mem = self._memory[tool.name] = loader(self.data_dir) if loader else {}
        return mem

    def run(
        self, name: str, paths: list | None = None, *, final: bool = True, files: list[Path] | None = None
    ) -> Tally:
        """Import one tool: read what is new in its files, merge, record, remember offsets."""
        tool = self.tool(name)
        tally = Tally(tool.name)
        if files is None:
            files = tool.discover([Path(p) for p in paths] if paths else None)
        tally.files = len(files)
        jobs: list[tuple[Path, int, dict, int]] = []
        sigs: list[dict] = []
        for path in files:
            prev = self.state.get(tool.name, path)
            try:
                st = path.stat()
            except OSError:
                continue  # gone since discovery: nothing to read
            rp = resume_point(prev, st, tool.append_only)
            if rp is None and not (prev and prev.get("state", {}).get("held")):
                continue
            start, pstate = rp if rp is not None else (int(prev.get("offset", 0)), dict(prev.get("state") or {}))
            jobs.append((path, start, pstate, max(0, st.st_size - start)))
            sigs.append(signature(st))
        if self.progress is not None:
            self.progress.planned(tool.name, sum(j[3] for j in jobs))
        if not jobs:  # nothing new: no memory to load (a Copilot report's totals: tens of MB)
            return tally
        memory = self.memory(tool)
        workers = parallel.workers_for(tool, sum(j[3] for j in jobs)) if (self.bulk and len(jobs) > 1) else 0
        if workers and self.deferred:
            # the records held from the tools read before go in first: the workers' days then
            # take those few in, rather than those tools rewriting every day of a big import
            self.flush()
            self.defer()
        if workers:
            try:
                with parallel.no_gc():
                    done = self._run_parallel(tool, tally, jobs, sigs, final, memory, workers)
            except parallel.WorkerCrash as exc:  # never expected; the serial path still works
                print(f"usage-ls import: parallel read failed, reading serially:\n{exc}", file=sys.stderr)
                tally = Tally(tool.name, files=tally.files)
                self._memory.pop(tool.name, None)  # forget what the failed merge noted
                memory = self.memory(tool)
                done = self._run_serial(tool, tally, jobs, sigs, final, memory)
                # records the parallel attempt had written found themselves known: they are this
                # import's all the same
                tally.imported += exc.written
                tally.duplicates -= exc.written
        else:
            with parallel.no_gc() if self.bulk else contextlib.nullcontext():
                done = self._run_serial(tool, tally, jobs, sigs, final, memory)
        if self.observed:  # plan windows (Codex's rate_limits): kept beside the records, not usage
            from usage_ls.store.limits import LimitLog

            observed, self.observed = self.observed, []
            try:
                tally.windows += LimitLog(self.data_dir).append(sorted(observed, key=lambda o: o.observed_at))
            except OSError as exc:
                tally.bad(f"plan windows not kept: {exc.strerror}")
        if self.deferred is not None:  # finished by `flush`, once the records are in
            self.after.append((tool, memory, done))
            return tally
        self._finish(tool, memory, done)
        self.state.save()
        return tally

    def _finish(self, tool: Tool, memory: dict, done: list) -> None:
        """After a tool's records are durable: its memory across runs, its files' offsets."""
        tool.records_done(memory)
        for path, entry in done:
            self.state.put(tool.name, path, entry)

    def defer(self) -> None:
        """Bulk: from now on, the records of serial reads are held and written by `flush`, the
        tools of one command together (one intent, each day file, rollup month, id index and
        `state.json` written once, where a write per tool paid for each), and every tool's
        import state is saved once, after its records are in."""
        self.deferred, self.after = [], []

    def unsaved(self) -> list[str]:
        """Tools whose records are held for `flush`."""
        return [tally.tool for tally, _payloads in self.deferred or []]

    def flush(self) -> None:
        """Write the held records (`defer`); then finish each tool and save the import state. A
        write that fails (the disk) raises OSError: the tools written already are finished and
        saved, the others not (their files are read again next time)."""
        deferred, after = self.deferred or [], self.after
        self.deferred, self.after = None, []
        held = {tally.tool for tally, _payloads in deferred}
        for tool, memory, done in after:
            if tool.name not in held:
                self._finish(tool, memory, done)
        if deferred:
            from usage_ls.store import bulk

            try:
                with parallel.no_gc():
                    results = bulk.bulk_add_many(self.service().ledger, [payloads for _t, payloads in deferred])
            except OSError:
                self.deferred = deferred  # still unsaved
                self.state.save()
                raise
            for (tally, _payloads), res in zip(deferred, results):
                tally.imported += res["accepted"]
                tally.duplicates += res["duplicates"]
                for rec_id, field, message in res["rejected"]:
                    tally.bad(f"record {rec_id}: {field}: {message}")
            for tool, memory, done in after:
                if tool.name in held:
                    self._finish(tool, memory, done)
        self.state.save()

    def _account(self, tally: Tally, jobs: list, sigs: list, outcomes) -> tuple[list, list]:
        """Tally each file's outcome; (file state entries to save, the ok results)."""
        done, results = [], []
        for (path, start, pstate, size), sig, (kind, result) in zip(jobs, sigs, outcomes):
            if self.progress is not None:
                self.progress.read(size)
            if kind == "vanished":
                tally.bad(f"{path.name}: vanished while reading ({result})")
                continue
            if kind == "error":
                tally.bad(f"{path.name}: could not be read ({result})")
                continue
            tally.files_read += 1
            tally.bad(result.first_problem, result.unreadable)
            tally.left += result.left
            tally.duplicates += result.duplicates
            self.observed.extend(result.observations)
            results.append(result)
            if result.retry:  # caught mid-write: read it again next time, even if unchanged
                done.append((path, {**sig, "offset": start, "state": {**pstate, "held": True}}))
            else:
                done.append((path, {**sig, "offset": result.end, "state": result.state}))
        return done, results

    def _run_serial(self, tool: Tool, tally: Tally, jobs: list, sigs: list, final: bool, memory: dict) -> list:
        outcomes = (parallel.read_one(tool, path, start, state, final) for path, start, state, _n in jobs)
        done, results = self._account(tally, jobs, sigs, outcomes)
        entries = [e for r in results for e in r.entries]
        merge_prepared = getattr(tool, "merge_prepared", None) if self.bulk else None
        if merge_prepared is not None and entries:  # records straight to their stored form
            records, dups = merge_prepared(entries, memory, self._prep(tool))
        else:
            records, dups = tool.merge(entries, memory) if entries else ([], 0)
        tally.duplicates += dups
        if not records:
            return done
        if self.bulk:
            from usage_ls.store import bulk

            if merge_prepared is not None:
                payloads = records
            else:
                prep = self._prep(tool)
                payloads = [prep(rec) for rec in records]
            if self.deferred is not None:
                self.deferred.append((tally, payloads))
                return done
            res = bulk.bulk_add(self.service().ledger, payloads)
            tally.imported += res["accepted"]
            tally.duplicates += res["duplicates"]
            for rec_id, field, message in res["rejected"]:
                tally.bad(f"record {rec_id}: {field}: {message}")
            return done
        billing = billing_for(self.settings, tool.name)
        for rec in records:
            rec.setdefault("billing", billing)
        svc = self.service()
        defaults = svc.defaults()
        for i in range(0, len(records), BATCH):
            res = svc.record(records[i : i + BATCH], defaults, sync=True)
            tally.imported += res["accepted"]
            tally.duplicates += res["duplicates"]
            for r in res["rejected"]:
                tally.bad(f"record {records[i + r['index']]['id']}: {r['field']}: {r['message']}")
        return done

    def _run_parallel(
        self, tool: Tool, tally: Tally, jobs: list, sigs: list, final: bool, memory: dict, workers: int
    ) -> list:
        from usage_ls.store import bulk

        ledger = self.service().ledger
        prep = self._prep(tool)
        counts: dict[str, int] = {}

        def merge(keys):
            index, hashes, dups = tool.merge_compact(keys, memory)
            known = bulk.known_mask(ledger, hashes)
            known[hashes == 0] = False  # records that did not validate: reported by the workers
            counts["dups"] = dups + int(known.sum())
            return index[~known]

        outcomes, rejected, written = parallel.run(
            tool, jobs, final, prep, merge, workers, lambda days: bulk.DayWriter(ledger, days)
        )
        done, _results = self._account(tally, jobs, sigs, outcomes)
        tally.duplicates += counts.get("dups", 0)
        for rec_id, field, message in rejected:
            tally.bad(f"record {rec_id}: {field}: {message}")
        tally.imported += written
        return done

    def _prep(self, tool: Tool):
        """`prepare` for this tool's records (`sink.preparer`): billing default, user, zone,
        prices, now."""
        from usage_ls.importers.sink import preparer

        return preparer(self.service(), billing_for(self.settings, tool.name))


def main(args) -> int:
    name = args.tool
    names = list(TOOL_NAMES) if name == "all" else [ALIASES.get(name, name)]
    for n in names:
        if n not in TOOL_NAMES:
            print(f"usage-ls import: unknown tool {name!r} (known: {', '.join(TOOL_NAMES)}, all)", file=sys.stderr)
            return 2
    imp = Importer(args.data_dir, bulk=True)
    lk = lock(imp.data_dir, blocking=True, timeout=120)
    if lk is None:
        print("usage-ls import: another import is running on this data directory", file=sys.stderr)
        return 1
    from usage_ls.importers.progress import for_terminal

    imp.progress = for_terminal(bool(getattr(args, "json", False)))
    started = time.perf_counter()
    tallies = []
    lost: list[str] = []  # tools whose records could not all be written
    error: OSError | None = None
    imp.defer()
    try:
        # tools that may read on workers last (see `run`); the summary keeps the usual order
        for n in sorted(names, key=lambda n: bool(imp.tool(n).parallel)):
            try:
                tallies.append(imp.run(n, args.paths or None, final=True))
            except OSError as exc:  # the disk refused a write (full, read-only, over quota)
                lost, error = [n], exc
                break
        try:
            imp.flush()  # the records held for one write (every serial tool's)
        except OSError as exc:
            lost, error = lost + imp.unsaved(), error or exc
        tallies.sort(key=lambda t: names.index(t.tool))
    finally:
        if imp.progress is not None:
            imp.progress.close()
        try:
            imp.close()
        finally:
            lk.release()
    if error is not None:
        these = "this tool's" if len(lost) == 1 else "these tools'"
        print(
            f"usage-ls import: {', '.join(lost)}: cannot write to {imp.data_dir} ({error.strerror or error}); {these} "
            f"new records were not all saved and {'its' if len(lost) == 1 else 'their'} files are not marked as "
            "read: run the import again when the disk allows (nothing will be counted twice)",
            file=sys.stderr,
        )
        for t in tallies:
            if t.tool not in lost:
                print(t.line(), file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if getattr(args, "json", False):
        out = {
            "tools": [t.as_json() for t in tallies],
            "imported": sum(t.imported for t in tallies),
            "duplicates": sum(t.duplicates for t in tallies),
            "unreadable": sum(t.unreadable for t in tallies),
            "leftForNextTime": sum(t.left for t in tallies),
            "seconds": round(elapsed, 3),
        }
        print(orjson.dumps(out).decode())
    else:
        for t in tallies:
            if not (name == "all" and not t.files):
                print(t.line())
        missing = [t.tool for t in tallies if name == "all" and not t.files]
        if missing:  # one line, not a page of tools this machine does not have
            print(f"no logs found for: {', '.join(missing)}")
    return 0
