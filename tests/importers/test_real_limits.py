"""Plan windows from the real tools (Claude Code 2.1.332 and Codex 0.171.0, against the loopback
stand-in: real_tools.py, standin.py):

- Claude Code's interactive UI in tmux, signed in as a subscriber, with the status line
  `usage-ls setup claude-code --statusline --write --yes` installed: after a reply, the
  windows the stand-in announced in its unified rate-limit headers are in the ledger and on
  Claude Code's screen;
- Codex writing the windows of its `x-codex-*` headers into its rollout, imported by
  `usage-ls import codex`: `usage-ls report limits --json` shows them.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
import real_tools
from ccusage_compare import clean_env, usage_ls
from standin import Reply


def _need_real_tools(tmux: bool = False) -> None:
    reason = real_tools.unavailable()
    if reason is None and tmux and shutil.which("tmux") is None:
        reason = "tmux is not installed (scripts/setup.d/30-neovim.sh installs it)"
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the real-tool tests must run in CI: {reason}")
        pytest.skip(reason)


def _windows(data, env) -> dict:
    out = json.loads(usage_ls(data, "report", "limits", "--json", env=env).stdout)
    return {(w["source"], w["window"]): w for w in out["windows"]}


def test_real_claude_code_status_line_shows_and_keeps_the_subscribers_windows(tmp_path):
    _need_real_tools(tmux=True)
    work, data = tmp_path / "claude-tui", tmp_path / "data"
    env = clean_env(work)  # HOME = work/home, the tool's too
    installed = usage_ls(data, "setup", "claude-code", "--statusline", "--write", "--yes", env=env, check=False)
    assert installed.returncode == 0, installed.stderr
    now = int(time.time())
    five_hour_reset, week_reset = now + 2 * 3600 + 600, now + 3 * 86400 + 3600
    headers = {
        "anthropic-ratelimit-unified-status": "allowed",
        "anthropic-ratelimit-unified-5h-utilization": "0.23",
        "anthropic-ratelimit-unified-5h-reset": str(five_hour_reset),
        "anthropic-ratelimit-unified-7d-utilization": "0.41",
        "anthropic-ratelimit-unified-7d-reset": str(week_reset),
    }
    step = {
        "tool": "claude-tui",
        "model": "claude-sonnet-4-5",
        "ready": " session",  # our status line is on screen: Claude Code takes keys
        "prompt": "say hi",
        "expect": "5h 23%",
    }
    reply = Reply({"input_tokens": 120, "output_tokens": 30})
    answered = real_tools.run_session(work, [step], {"anthropic": [reply]}, headers={"anthropic": headers})
    assert answered, "the stand-in answered nothing"
    pane = (work / "pane.txt").read_text()
    line = next(x for x in pane.splitlines() if "5h 23%" in x)
    assert "Sonnet 4.5" in line and "wk 41%" in line and "↻2h" in line, pane  # the line Claude Code shows
    windows = _windows(data, env)
    five, week = windows[("claude-code", "5h")], windows[("claude-code", "7d")]
    assert (five["usedPercent"], five["resetsAt"]) == (23, five_hour_reset * 1000)
    assert (week["usedPercent"], week["resetsAt"]) == (41, week_reset * 1000)
    assert not five["estimated"] and not week["estimated"]


def test_real_codex_rollout_windows_reach_report_limits(tmp_path):
    _need_real_tools()
    work, data = tmp_path / "codex", tmp_path / "data"
    now = int(time.time())
    primary_reset, secondary_reset = now + 4 * 3600, now + 5 * 86400
    headers = {
        "x-codex-primary-used-percent": "12.5",
        "x-codex-primary-window-minutes": "300",
        "x-codex-primary-reset-at": str(primary_reset),
        "x-codex-secondary-used-percent": "40",
        "x-codex-secondary-window-minutes": "10080",
        "x-codex-secondary-reset-at": str(secondary_reset),
    }
    steps = [{"tool": "codex", "args": ["exec", "--skip-git-repo-check", "say hi"]}]
    reply = Reply({"input_tokens": 100, "output_tokens": 20})
    answered = real_tools.run_session(work, steps, {"openai": [reply]}, headers={"openai": headers})
    assert answered
    env = clean_env(work)
    imported = usage_ls(data, "import", "codex", env=env)
    assert "imported 1" in imported.stdout, imported.stdout + imported.stderr
    windows = _windows(data, env)
    five, week = windows[("codex", "5h")], windows[("codex", "7d")]
    assert (five["usedPercent"], five["resetsAt"]) == (12.5, primary_reset * 1000)
    assert (week["usedPercent"], week["resetsAt"]) == (40, secondary_reset * 1000)
    assert set(windows) == {("codex", "5h"), ("codex", "7d")}
