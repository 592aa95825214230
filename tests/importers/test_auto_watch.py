"""A new user: no config at all, Claude Code and Codex logs on the machine. The server finds
both, imports their history in the background with progress in the editor, and counts a line
a tool appends afterwards: nothing to set up."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import orjson
from ccusage_compare import clean_env, import_json, usage_ls
from editor import Editor
from lsprotocol import types

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "samples"


async def _until(predicate, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value or loop.time() > deadline:
            return value
        await asyncio.sleep(0.1)


async def test_a_new_user_gets_their_history_and_live_lines_without_setup(tmp_path, monkeypatch):
    home = tmp_path / "home"
    claude, codex = home / ".claude", home / ".codex"
    shutil.copytree(SAMPLES / "claude", claude)
    shutil.copytree(SAMPLES / "codex", codex)
    for log in home.rglob("*.jsonl"):  # written just now: the watcher sees them as hot files
        log.touch()
    env = clean_env(tmp_path)  # HOME = tmp/home: only these tools' logs are on "this machine"
    assert env["HOME"] == str(home)
    # what `usage-ls import all` makes of the same files, in another data directory: the truth
    expect = import_json(tmp_path / "by-hand", "all", env=env)
    assert expect["imported"] > 0
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "USAGE_LS_WATCH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    data = tmp_path / "data"
    caps = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
    async with Editor(data, capabilities=caps) as ed:

        def reports():
            return [r for values in ed.client.progress_reports.values() for r in values]

        async def ended():
            return any(type(r).__name__ == "WorkDoneProgressEnd" for r in reports())

        assert await _until(ended), f"no end of the import's progress: {reports()}"
        total = await ed.request("usage/summary", {"from": "2020-01-01", "to": "2029-12-31"})
        assert total["messages"] == expect["imported"]
        # the editor was shown the import as progress, tool by tool, and its end
        reports = reports()
        kinds = [type(r).__name__ for r in reports]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd", kinds
        messages = [getattr(r, "message", "") or "" for r in reports]
        assert "Importing Claude Code logs" in messages and "Importing Codex logs" in messages
        assert reports[-1].message == f"Imported {expect['imported']:,} records from AI tool logs"
        # Claude Code answers once more, today: the status bar counts it without any setup
        transcript = next(claude.rglob("*.jsonl"))
        lines = transcript.read_bytes().splitlines()
        replies = [orjson.loads(x) for x in lines if b'"assistant"' in x and b'"usage"' in x]
        last = [r for r in replies if r["message"]["model"] != "<synthetic>"][-1]  # a real answer
        now = dt.datetime.now(dt.UTC)
        last = json.loads(json.dumps(last))
        last["timestamp"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        last["uuid"] = "live-line-uuid"
        last["requestId"] = "req_live_line"
        last["message"]["id"] = "msg_live_line"
        last["message"]["stop_reason"] = "end_turn"  # a finished response (one still streaming waits)
        with transcript.open("ab") as f:
            f.write(orjson.dumps(last) + b"\n")
        change = await ed.wait_change(lambda c: c["today"]["messages"] >= 1, timeout=15)
        assert change["today"]["messages"] == 1
        assert change["today"]["totalTokens"] > 0
        # the tooltip and `usage-ls doctor` name the live sources, how each is watched, and
        # when each last gave a record
        tip = change["statusBar"]["tooltip"]
        assert "**Live sources**" in tip
        assert re.search(r"- Claude Code \(file events\): last record \d\d:\d\d:\d\d", tip), tip
        assert re.search(r"- Codex \(file events\): last record ", tip), tip
        doctor = usage_ls(data, "doctor", env={**env, "USAGE_LS_WATCH": "off"}, check=False).stdout
        assert re.search(r"log watcher: +usage-ls pid \d+ watches", doctor), doctor
        assert re.search(r"  Claude Code \(file events\): last record \d\d:\d\d:\d\d", doctor), doctor
        assert "  Codex (file events): last record " in doctor
    # the server is gone: the doctor says nobody watches
    doctor = usage_ls(data, "doctor", env=env, check=False).stdout
    assert "log watcher:    no editor's server watches the tools' logs now" in doctor
