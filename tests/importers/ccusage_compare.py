"""Running `usage-ls import` and ccusage the way a user does, and reading their daily numbers."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "logs"
CCUSAGE_VERSION = "20.0.24"


def ccusage_binary() -> Path | None:
    """The ccusage 20.0.24 native binary installed by scripts/setup.d/40-ccusage.sh, if any."""
    base = REPO / ".tools" / "ccusage" / "node_modules"
    for name in ("ccusage-linux-x64", "ccusage-linux-arm64", "ccusage-darwin-arm64", "ccusage-darwin-x64"):
        p = base / "@ccusage" / name / "bin" / "ccusage"
        if p.exists():
            if not os.access(p, os.X_OK):
                p.chmod(p.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return p
    return None


TOOL_VARS = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_DATA_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "CONTINUE_GLOBAL_DIR",
    "USAGE_LS_VSCODE_USER_DIRS",
    "DROID_SESSIONS_DIR",
    "GOOSE_PATH_ROOT",
    "QWEN_DATA_DIR",
    "KIMI_SHARE_DIR",
    "KIMI_DATA_DIR",
    "PI_CODING_AGENT_DIR",
    "PI_AGENT_DIR",
    "OPENCLAW_DIR",
    "HERMES_HOME",
    "AMP_DATA_DIR",
    "CODEBUFF_DATA_DIR",
    "KILO_DATA_DIR",
    "COPILOT_HOME",
    "COPILOT_OTEL_FILE_EXPORTER_PATH",
    "USAGE_LS_CURSOR_CSV",
    "USAGE_LS_COPILOT_REPORT",
)  # where the tools look for their logs


def clean_env(tmp: Path, **extra) -> dict:
    """An environment where no tool's real home leaks in."""
    env = {k: v for k, v in os.environ.items() if k not in TOOL_VARS}
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def usage_ls(data_dir: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
    )


def import_json(data_dir: Path, tool: str, *paths, env: dict | None = None) -> dict:
    out = usage_ls(data_dir, "import", tool, *map(str, paths), "--json", env=env)
    return json.loads(out.stdout)


def our_daily(data_dir: Path, start: str, end: str, env: dict | None = None) -> dict[str, dict]:
    out = usage_ls(data_dir, "report", "daily", "--from", start, "--to", end, "--json", env=env)
    days = json.loads(out.stdout)["days"]
    return {
        d["date"]: {
            "input": d["inputTokens"],
            "output": d["outputTokens"],
            "cacheWrite": d["cacheWriteTokens"],
            "cacheRead": d["cacheReadTokens"],
            "cost": d["costUsd"],
        }
        for d in days
        if d["messages"]
    }


def ccusage_daily(binary: Path, agent: str, env: dict, tz: str = "UTC") -> dict[str, dict]:
    """`ccusage <agent> daily --json --offline --timezone <tz>` as {date: totals}."""
    out = subprocess.run(
        [str(binary), agent, "daily", "--json", "--offline", "--timezone", tz],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    days = json.loads(out.stdout)["daily"]
    result = {}
    for d in days:
        result[d["date"]] = {
            "input": d["inputTokens"],
            "output": d["outputTokens"],
            "cacheWrite": d.get("cacheCreationTokens", 0),
            "cacheRead": d["cacheReadTokens"],
            "cost": d.get("totalCost", d.get("costUSD")),
        }
    return result


def write_config(data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(text, encoding="utf-8")
