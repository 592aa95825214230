"""Where the money went inside a tool: `usage/attribution` and `usage-ls report agents`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from editor import Editor, rec
from otlp_helpers import cli

EVIL = "<img_src_x_onerror_alert(1)>"  # a plugin name is data (spaces and = are not kept in a word)


def _records() -> list[dict]:
    return [
        rec(id="a", feature="claude-code agent=code-reviewer mcp=github query=subagent", costUsd=4.10),
        rec(id="b", feature="claude-code agent=code-reviewer query=subagent", costUsd=1.00),
        rec(id="c", feature="claude-code skill=pdf", costUsd=0.50),
        rec(id="d", feature="claude-code", costUsd=2.00),  # the main thread: not attributed
        rec(id="e", feature="codex agent=planner", costUsd=0.25, model="gpt-4o"),
        rec(id="f", feature=f"claude-code plugin={EVIL}", costUsd=0.05),
    ]


def _names(rows: list[dict]) -> dict[str, float]:
    return {r["name"]: r["costUsd"] for r in rows}


async def test_usage_attribution_splits_cost_per_agent_skill_plugin_mcp_and_query(data_dir):
    async with Editor(data_dir) as ed:
        assert (await ed.record(*_records()))["accepted"] == 6
        out = await ed.request("usage/attribution", {})
        by = out["by"]
        assert _names(by["agent"]) == {"code-reviewer": 5.10, "planner": 0.25}
        assert by["agent"][0]["name"] == "code-reviewer" and by["agent"][0]["messages"] == 2  # most spent first
        assert _names(by["mcp"]) == {"github": 4.10}
        assert _names(by["skill"]) == {"pdf": 0.50}
        assert _names(by["query"]) == {"subagent": 5.10}
        assert list(_names(by["plugin"])) == [EVIL]
        assert (out["total"]["costUsd"], out["attributed"]["costUsd"]) == (7.9, 5.9)
        assert out["total"]["messages"] == 6 and out["attributed"]["messages"] == 5
        # one kind, one tool, the usual filters
        one = await ed.request("usage/attribution", {"by": "agent", "tool": "claude-code"})
        assert list(one["by"]) == ["agent"] and _names(one["by"]["agent"]) == {"code-reviewer": 5.10}
        assert one["total"]["costUsd"] == 7.65
        gpt = await ed.request("usage/attribution", {"model": "gpt-4o"})
        assert _names(gpt["by"]["agent"]) == {"planner": 0.25}
        for params, field in (({"by": "team"}, "by"), ({"tool": 5}, "tool"), ({"from": "yesterday"}, "from")):
            with pytest.raises(Exception) as exc:
                await ed.request("usage/attribution", params)
            assert str(exc.value).startswith(f"{field}:") or f"{field}:" in str(exc.value)


def test_report_agents_prints_the_split_with_names_made_plain(data_dir):
    lines = "\n".join(json.dumps(r) for r in _records())
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "usage_ls", "record"]
    put = subprocess.run(cmd, input=lines, capture_output=True, text=True, env=env)
    assert put.returncode == 0, put.stderr
    out = cli(data_dir, "report", "agents")
    assert out.returncode == 0, out.stderr
    table = out.stdout.splitlines()
    assert table[0].startswith("agents · ")
    row = next(line for line in table if "code-reviewer" in line)
    assert row.split() == ["agent", "code-reviewer", "2", "2.2k", row.split()[4], "$5.10", "65%"]
    assert "MCP server" in out.stdout and "github" in out.stdout
    assert EVIL in out.stdout
    assert out.stdout.rstrip().endswith("attributed: $5.90 of $7.90 (5 of 6 messages)")
    js = json.loads(cli(data_dir, "report", "agents", "--json", "--tool", "codex").stdout)
    assert _names(js["by"]["agent"]) == {"planner": 0.25} and js["by"]["mcp"] == []
    # --tool keeps one tool's records in every report: Codex's one call
    models = cli(data_dir, "report", "models", "--tool", "codex")
    assert models.returncode == 0, models.stderr
    rows = [line.split() for line in models.stdout.splitlines() if line.startswith(("gpt-", "claude-"))]
    assert [r[:2] for r in rows] == [["gpt-4o", "1"]] and rows[0][-1] == "$0.25"
