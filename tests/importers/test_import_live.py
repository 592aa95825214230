"""The running server counts a terminal agent's usage while it works: with `[import] watch`,
a new Claude Code log line shows in the pushed status within 2 seconds."""

from __future__ import annotations

import datetime as dt
import os
import time

import orjson
from ccusage_compare import write_config
from editor import Editor


def _line(mid: str, out: int) -> bytes:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return (
        orjson.dumps(
            {
                "parentUuid": None,
                "isSidechain": False,
                "cwd": "/home/dev/proj/widget",
                "sessionId": "live-1",
                "version": "2.0.14",
                "type": "assistant",
                "uuid": f"u-{mid}",
                "timestamp": now,
                "requestId": f"req-{mid}",
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "text", "text": "done"}],
                    "usage": {
                        "input_tokens": 7,
                        "output_tokens": out,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 1000,
                    },
                },
            }
        )
        + b"\n"
    )


async def test_live_watch_picks_up_new_lines_within_two_seconds(tmp_path, monkeypatch):
    claude = tmp_path / "claude"
    project = claude / "projects" / "-home-dev-proj-widget"
    project.mkdir(parents=True)
    session = project / "live-1.jsonl"
    session.write_bytes(_line("msg_first", 100))
    data = tmp_path / "data"
    write_config(data, '[import]\nwatch = ["claude-code"]\n')
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    async with Editor(data) as editor:
        # the session already being written when the server starts is caught up
        first = await editor.wait_change(lambda c: c["today"]["outputTokens"] == 100, timeout=5)
        assert first["today"]["cacheReadTokens"] == 1000
        # a new line in the active file
        with open(session, "ab") as f:
            f.write(_line("msg_second", 250))
        t0 = time.monotonic()
        await editor.wait_change(lambda c: c["today"]["outputTokens"] == 350, timeout=2.0)
        assert time.monotonic() - t0 < 2.0
        # a brand-new session file (a second agent started)
        sub = project / "live-2.jsonl"
        sub.write_bytes(_line("msg_third", 50))
        t0 = time.monotonic()
        await editor.wait_change(lambda c: c["today"]["outputTokens"] == 400, timeout=2.0)
        assert time.monotonic() - t0 < 2.0
        # a session in a project folder created after the server started (inotify: a watch
        # for the new folder, and the file already written in it)
        other = claude / "projects" / "-home-dev-proj-gadget"
        other.mkdir()
        (other / "live-3.jsonl").write_bytes(_line("msg_fourth", 20))
        await editor.wait_change(lambda c: c["today"]["outputTokens"] == 420, timeout=10)
        rows = await editor.request("usage/interactions", {})
        assert {r["feature"] for r in rows["rows"]} == {"claude-code"}
        assert {r["project"] for r in rows["rows"]} == {"widget"}  # the lines' cwd
        assert rows["total"] == 4


def test_the_fallback_poll_leaves_cold_files_alone_and_notices_one_growing(tmp_path, monkeypatch):
    # the poll, where file events cannot be had (never started here); what watching costs
    # idle, by events and by this poll, is measured by bench/watch_bench.py
    from synth_logs import claude_logs

    from usage_ls.importers import live
    from usage_ls.service import Usage

    root = claude_logs(tmp_path / "claude", sessions=200, days=20)  # ~400 files, all cold
    hour_ago = time.time() - 3600
    for p in root.rglob("*.jsonl"):
        os.utime(p, (hour_ago, hour_ago))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    data = tmp_path / "data"
    write_config(data, '[import]\nwatch = ["claude-code", "codex"]\n')
    svc = Usage(data_dir=data).open()
    try:
        watcher = live.attach(svc)
        assert svc.watchers == [watcher.poll]
        assert watcher.poll() is False  # first tick: walks the folders once; cold files are left alone
        for _ in range(200):  # 50 s of server ticks: nothing read
            assert watcher.poll() is False
        assert watcher.importer.state.files == {}
        # and it still notices an old file growing (within a second of folder checks)
        old = sorted(root.rglob("*.jsonl"))[0]
        with open(old, "ab") as f:
            f.write(_line("msg_late", 5))
        deadline = time.monotonic() + 2.0
        got = False
        while time.monotonic() < deadline and not got:
            got = watcher.poll()
            time.sleep(0.25)
        assert got
    finally:
        svc.close()
