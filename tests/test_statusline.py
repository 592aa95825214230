"""`usage-ls statusline`: served from the status cache while the ledger is unchanged, and as
Claude Code's statusLine command, keeping the 5-hour and weekly windows it reports."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import orjson
import pytest
from editor import Editor, rec


def _run(data_dir, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True)


def _statusline(data_dir, *args: str, stdin: bytes | None = None) -> str:
    done = _run(data_dir, "statusline", *args, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip()


def _record(data_dir, **kw) -> None:
    line = orjson.dumps(rec(**kw))
    done = _run(data_dir, "record", stdin=line + b"\n")
    assert done.returncode == 0, done.stderr


def _tamper(data_dir, billing: str, text: str) -> None:
    """Change the cached text only: a status line that prints it was served from the cache."""
    path = data_dir / "status-cache.json"
    cache = json.loads(path.read_text())
    cache[billing]["text"] = text
    cache[billing]["creditsText"] = "CACHED"
    path.write_text(json.dumps(cache))


def test_statusline_is_served_from_the_cache_until_the_ledger_changes(data_dir):
    _record(data_dir, model="gpt-4o", costUsd=0.05, id="one")
    assert _statusline(data_dir).startswith("5.0 cr")  # computed, and cached
    _tamper(data_dir, "auto", "FROM CACHE")
    assert _statusline(data_dir) == "FROM CACHE"
    _record(data_dir, model="gpt-4o", costUsd=0.05, id="two")  # a journal grows: the stamp moves
    assert _statusline(data_dir).startswith("10.0 cr")
    # the next day the cached day is over
    path = data_dir / "status-cache.json"
    cache = json.loads(path.read_text())
    cache["auto"].update(text="YESTERDAY", validUntil=int(time.time() * 1000) - 1)
    path.write_text(json.dumps(cache))
    assert _statusline(data_dir).startswith("10.0 cr")
    # each billing has its own line
    assert _statusline(data_dir, "--billing", "byok").startswith("$0.00")


async def test_the_server_keeps_the_cache_fresh_for_status_line_commands(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=0.05))
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        text = change["statusBar"]["text"]
        assert _statusline(data_dir) == text
        _tamper(data_dir, "auto", "FROM THE SERVER'S CACHE")
        assert _statusline(data_dir) == "FROM THE SERVER'S CACHE"  # no ledger opened
        await ed.record(rec("gpt-4o", costUsd=0.05))
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 2)
        assert _statusline(data_dir) == change["statusBar"]["text"]


def _claude_json(now: int, five: float | None = 42.4, week: float | None = 18.0, **extra) -> bytes:
    """Claude Code's statusLine JSON; the API's reset times (from `now`) are fixed for a window."""
    limits = {}
    if five is not None:
        limits["five_hour"] = {"used_percentage": five, "resets_at": now + 2 * 3600 + 10 * 60 + 30}
    if week is not None:
        limits["seven_day"] = {"used_percentage": week, "resets_at": now + 3 * 86400 + 4 * 3600 + 30}
    payload = {
        "session_id": "s1",
        "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
        "cost": {"total_cost_usd": 0.4231},
        "rate_limits": limits,
        **extra,
    }
    return orjson.dumps(payload)


def _observations(data_dir) -> list[dict]:
    path = data_dir / "limits" / "observations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_claude_code_statusline_shows_and_keeps_the_windows(data_dir):
    now = int(time.time())
    _record(data_dir, model="gpt-4o", costUsd=0.05, id="one")
    line = _statusline(data_dir, "--claude-code", stdin=_claude_json(now))
    assert line == "Opus 4.5 · $0.42 session · 5.0 cr today · 5h 42% ↻2h10m · wk 18% ↻3d4h"
    seen = _observations(data_dir)
    assert [(o["source"], o["window"], o["usedPercent"]) for o in seen] == [
        ("claude-code", "5h", 42.4),
        ("claude-code", "7d", 18.0),
    ]
    assert seen[0]["resetsAt"] % 1000 == 0 and seen[0]["resetsAt"] > time.time() * 1000
    # called after every message: an unchanged window is not written again, a changed one is
    _statusline(data_dir, "--claude-code", stdin=_claude_json(now))
    assert len(_observations(data_dir)) == 2
    _statusline(data_dir, "--claude-code", stdin=_claude_json(now, five=44.0))
    assert [o["usedPercent"] for o in _observations(data_dir)] == [42.4, 18.0, 44.0]
    # the windows are not usage: today's credits did not move
    assert "5.0 cr today" in _statusline(data_dir, "--claude-code", stdin=_claude_json(now, five=44.0))


def test_claude_code_statusline_without_windows_or_with_bad_input(data_dir):
    now = int(time.time())
    # an API-key user: no rate_limits; before the first response: nothing but the model
    assert _statusline(data_dir, "--claude-code", stdin=_claude_json(now, five=None, week=None)).startswith(
        "Opus 4.5 · $0.42 session"
    )
    assert _statusline(data_dir, "--claude-code", stdin=_claude_json(now, five=None)).endswith("wk 18% ↻3d4h")
    assert [o["window"] for o in _observations(data_dir)] == ["7d"]  # the weekly window only
    done = _run(data_dir, "statusline", "--claude-code", stdin=_claude_json(now, five="lots"))
    assert done.returncode == 0
    assert b"rate_limits.five_hour.used_percentage: expected a number from 0 to 100, got str" in done.stderr
    assert b"wk 18%" in done.stdout
    done = _run(data_dir, "statusline", "--claude-code", stdin=b"{not json")
    assert done.returncode == 0 and b"not JSON" in done.stderr
    # a hostile model name is text: no escape sequence reaches the terminal
    payload = _claude_json(now, model={"display_name": "evil\x1b]0;pwned\x07name"})
    line = _statusline(data_dir, "--claude-code", stdin=payload)
    assert "\x1b" not in line and "\x07" not in line and line.startswith("evil]0;pwnedname")


async def test_a_window_seen_by_the_status_line_reaches_the_editor(data_dir):
    now = int(time.time())
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=0.05))
        await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        assert (await ed.request("usage/limits", {}))["windows"] == []
        # Claude Code runs its status line command: 80% of the 5-hour window, 2 hours of 5 passed
        payload = _claude_json(now, five=80.0, week=None)
        payload = payload.replace(str(now + 2 * 3600 + 10 * 60 + 30).encode(), str(now + 3 * 3600).encode())
        _statusline(data_dir, "--claude-code", stdin=payload)
        change = await ed.wait_change(lambda c: c.get("limits", {}).get("windows"))
        (window,) = change["limits"]["windows"]
        assert (window["source"], window["window"], window["usedPercent"]) == ("claude-code", "5h", 80.0)
        assert window["elapsedPercent"] == pytest.approx(40.0, abs=0.5)
        assert window["projectedPercent"] == pytest.approx(200.0, abs=3)  # 80% used at 40% of the window
        assert window["level"] == "error" and not window["estimated"]  # the pace hits the limit
        bar = change["statusBar"]
        assert bar["text"].startswith("5.0 cr") and bar["text"].endswith(" · 5h 80%")
        assert bar["level"] == "error"
        assert "**Plan limits**" in bar["tooltip"] and "at this pace 200% by the reset" in bar["tooltip"]
        # the window is not usage
        assert change["today"]["messages"] == 1 and change["today"]["credits"] == 5.0
        # the status line shows the window too, from the cache the server keeps
        assert _statusline(data_dir).endswith("· 5h 80%")
