"""What keeps a small import quick, checked by what it does rather than by the clock (issue
#16 section 5): the tools of one `usage-ls import` written together, nothing loaded that the
import does not use, no journal or checkpoint of its own, day files durable before anything
counts them, and worker processes only where they pay."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from ccusage_compare import REPO, clean_env, import_json, our_daily, usage_ls, write_config
from synth_logs import claude_logs, codex_logs

from usage_ls import entry, fileio
from usage_ls.importers import TOOL_NAMES, parallel
from usage_ls.importers.claude_code import ClaudeCode
from usage_ls.store import bulk
from usage_ls.store.files import StoreFiles


def _logs(tmp_path: Path) -> dict:
    """Claude Code and Codex sessions over the same week (so they share days)."""
    return {
        "CLAUDE_CONFIG_DIR": claude_logs(tmp_path / "claude", seed=3, sessions=20),
        "CODEX_HOME": codex_logs(tmp_path / "codex", seed=4, sessions=12),
    }


def _interactions(data: Path, env: dict) -> list[dict]:
    out = usage_ls(
        data,
        "report",
        "interactions",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-31",
        "--limit",
        "10000",
        "--json",
        env=env,
    )
    return sorted(orjson.loads(out.stdout)["rows"], key=lambda r: r["id"])


@pytest.mark.parametrize("workers", ["0", "2"])
def test_import_all_writes_every_tool_at_once_and_counts_each_tools_own(tmp_path, workers):
    # with workers (a big import), the other tools' records are written together first, then
    # Claude Code's as the workers send them
    env = clean_env(tmp_path, **_logs(tmp_path), USAGE_LS_CACHE_DIR=tmp_path / "cache", USAGE_LS_IMPORT_WORKERS=workers)
    together, apart = tmp_path / "together", tmp_path / "apart"
    for d in (together, apart):
        write_config(d, 'timezone = "UTC"\n')
    both = import_json(together, "all", env=env)
    one_by_one = [import_json(apart, tool, env=env)["tools"][0] for tool in ("claude-code", "codex")]
    # Claude Code is read last when it may use workers (the other tools' few records are
    # written first and the workers' days take them in), but reported first as always
    assert [t["tool"] for t in both["tools"]] == list(TOOL_NAMES)  # claude-code, codex, ...
    tools = {t["tool"]: t for t in both["tools"]}
    for t in one_by_one:  # each tool's own tally, as if it had been imported alone
        assert tools[t["tool"]] == t and t["imported"] > 50
    assert both["imported"] == sum(t["imported"] for t in one_by_one)
    assert our_daily(together, "2026-11-01", "2026-12-31", env=env) == our_daily(
        apart, "2026-11-01", "2026-12-31", env=env
    )
    assert _interactions(together, env) == _interactions(apart, env)
    # one write for the whole command: running servers reload once (state.json's seq), and
    # the import kept no journal of its own (before: a journal, a checkpoint at its start, one
    # write per tool and a checkpoint at its end, seq 4)
    assert json.loads((together / "state.json").read_bytes())["seq"] == (1 if workers == "0" else 2)
    assert not any((together / "journal").iterdir())
    assert not (together / "bulk-intent.json").exists()
    again = import_json(together, "all", env=env)
    assert again["imported"] == 0


LOADER = """
import sys
from usage_ls.cli import main
code = main(sys.argv[1:])
print("MODULES " + " ".join(sorted(sys.modules)))
sys.exit(code)
"""
NOT_NEEDED = (
    "multiprocessing",  # workers: only for a big import
    "urllib.request",  # `usage-ls prices update` fetches with it
    "sqlite3",  # opencode's database, when there is one
    "usage_ls.service",  # the query side: insights, budgets, result caches
    "usage_ls.insight_engine",
    "usage_ls.queries",
    "genai_prices",  # the price cache knows these models
    "pydantic",
)


def _import_loading(data, env, tool: str) -> tuple[dict, set[str]]:
    """`usage-ls import TOOL --json` under LOADER: its result, and the modules it loaded."""
    out = subprocess.run(
        [sys.executable, "-c", LOADER, "--data-dir", str(data), "import", tool, "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    return json.loads(lines[0]), set(lines[1].split()[1:])


def test_a_small_import_loads_nothing_it_does_not_use(tmp_path):
    env = clean_env(tmp_path, **_logs(tmp_path), USAGE_LS_CACHE_DIR=tmp_path / "cache")
    import_json(tmp_path / "first", "all", env=env)  # fills the price cache, as any first run
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n')
    result, loaded = _import_loading(data, env, "all")
    assert result["imported"] > 100
    assert "usage_ls.importers.claude_code" in loaded  # (the list is what was loaded)
    assert [m for m in NOT_NEEDED if m in loaded] == []


def test_an_import_without_claude_code_loads_no_numpy(tmp_path):
    # numpy is ~0.1 s of CPU to import, a third of a small import: the write of the records
    # (id index, rollup columns) works on plain ints; only Claude Code's merge and a big
    # import's workers use numpy. Into a ledger that already holds records, so the id index is
    # read, looked up and merged too.
    env = clean_env(tmp_path, **_logs(tmp_path), USAGE_LS_CACHE_DIR=tmp_path / "cache")
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n')
    import_json(data, "claude-code", env=env)  # (fills the price cache too)
    ids_before = (data / "ids.npy").read_bytes()
    result, loaded = _import_loading(data, env, "codex")
    assert result["imported"] > 50
    assert "usage_ls.importers.codex" in loaded and "numpy" not in loaded
    # the id index it wrote is numpy's own file, with both tools' ids
    import numpy as np

    ids = np.load(data / "ids.npy")
    assert ids.dtype == np.uint64 and np.all(ids[1:] > ids[:-1])
    assert set(np.load(io.BytesIO(ids_before)).tolist()) < set(ids.tolist())
    assert import_json(data, "all", env=env)["imported"] == 0


def test_the_import_command_exits_at_once_with_its_output_and_code(tmp_path):
    # `usage-ls import` skips tearing the interpreter down once it is done (entry.QUICK_EXIT):
    # what it printed arrives whole, through a pipe, and its exit code stays
    env = clean_env(tmp_path, **_logs(tmp_path), USAGE_LS_CACHE_DIR=tmp_path / "cache")
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n')
    ok = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "import", "all"], env=env, capture_output=True
    )
    out = ok.stdout.decode()
    # a line per tool with logs, then one naming every tool without: each tool once, all of it there
    named = [line.split(":", 1)[0] for line in out.splitlines()[:-1]] + out.splitlines()[-1].split(": ", 1)[1].split(
        ", "
    )
    assert ok.returncode == 0 and out.endswith("\n") and sorted(named) == sorted(TOOL_NAMES)
    assert b"codex: imported" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "import", "nonesuch"], env=env, capture_output=True
    )
    assert bad.returncode == 2 and b"unknown tool 'nonesuch'" in bad.stderr
    assert entry.command(["--data-dir", "import", "report", "today"]) == "report"
    assert entry.command(["--version"]) is None


def _journal(monkeypatch) -> list[tuple]:
    """What the store does, in order: renames, directory fsyncs, rollups, ids, state."""
    events: list[tuple] = []
    real_replace, real_fsync_dir = os.replace, fileio.fsync_dir
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("rename", Path(b))), real_replace(a, b))[1])
    monkeypatch.setattr(fileio, "fsync_dir", lambda p: (events.append(("fsync dir", Path(p))), real_fsync_dir(p))[1])
    for name in ("write_rollups", "write_ids", "commit_state", "clear_intent"):
        real = getattr(StoreFiles, name)
        monkeypatch.setattr(
            StoreFiles, name, lambda self, *a, _n=name, _r=real, **k: (events.append((_n,)), _r(self, *a, **k))[1]
        )
    return events


class _Ledger:
    """The parts of a ledger a bulk write uses (`bulk.Target`)."""

    def __init__(self, root: Path):
        import datetime as dt

        self.tz = dt.UTC
        self.files = StoreFiles(root, self.tz)
        self.files.make_dirs()

    def known(self, hashes):
        import numpy as np

        return np.isin(hashes, self.files.read_ids())

    def reload(self, force: bool = False) -> bool:
        return False


def _records(n_days: int) -> list:
    import datetime as dt

    from usage_ls.model import Defaults

    defaults = Defaults(project="p", user="u", tz=dt.UTC)
    price = lambda rec: {**rec, "costSource": "reported"}
    start = int(dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC).timestamp() * 1000)
    return [
        bulk.prepare(
            price,
            {"id": f"r{i}", "timestamp": start + i * 86_400_000, "model": "m", "inputTokens": 5, "outputTokens": 1},
            defaults,
            start,
        )
        for i in range(n_days)
    ]


def test_day_files_are_durable_before_rollups_ids_or_state_count_them(tmp_path, monkeypatch):
    ledger = _Ledger(tmp_path / "data")
    events = _journal(monkeypatch)
    res = bulk.bulk_add(ledger, _records(8))  # 8 days over two months
    assert res["accepted"] == 8
    days_renamed = [e[1] for e in events if e[0] == "rename" and e[1].parent.parent.name == "days"]
    assert len(days_renamed) == 8
    first_count = next(i for i, e in enumerate(events) if e[0] == "write_rollups")
    last_day = max(i for i, e in enumerate(events) if e[0] == "rename" and e[1] in days_renamed)
    folders = {p.parent for p in days_renamed}
    synced = [e[1] for e in events[last_day:first_count] if e[0] == "fsync dir"]
    # each month's folder once, after its day files and before anything counts them
    assert sorted(synced) == sorted(folders) and len(folders) == 2
    assert [e[1] for e in events[:last_day] if e[0] == "fsync dir" and e[1] in folders] == []
    assert [e[0] for e in events[first_count:] if e[0] != "rename" and e[0] != "fsync dir"] == [
        "write_rollups",
        "write_ids",
        "commit_state",
        "clear_intent",
    ]


def test_recovery_makes_the_stopped_writes_day_files_durable_first(tmp_path, monkeypatch):
    ledger = _Ledger(tmp_path / "data")
    files = ledger.files
    payloads = _records(6)  # November and December
    by_day, _ = bulk.group_days(payloads)
    with pytest.raises(RuntimeError), bulk.DayWriter(ledger, list(by_day)) as writer:
        for day in sorted(by_day):
            writer.day(day, [bulk.day_part(day, by_day[day], ledger.tz)])
        raise RuntimeError("killed after the day files")
    assert files.intent_path.exists()
    events = _journal(monkeypatch)
    assert files.recover()
    first_count = next(i for i, e in enumerate(events) if e[0] == "write_rollups")
    assert {e[1] for e in events[:first_count] if e[0] == "fsync dir"} == {files.days_dir / "2026-11"} | {
        files.days_dir / "2026-12"
    }


def test_workers_only_where_they_pay(monkeypatch):
    # measured crossover: between 24 MB (no gain) and 44 MB (11-19% faster, idle or busy)
    monkeypatch.delenv("USAGE_LS_IMPORT_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert parallel.workers_for(ClaudeCode(), 24 * 1024 * 1024) == 0
    assert parallel.workers_for(ClaudeCode(), 40 * 1024 * 1024) == 3  # the cores it may run on
    monkeypatch.setenv("USAGE_LS_IMPORT_WORKERS", "2")
    assert parallel.workers_for(ClaudeCode(), 10 * 1024 * 1024) == 2
