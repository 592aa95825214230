"""One tool's numbers (`tool` in the filter, `--tool` on every report): what ccusage's
`ccusage codex daily` gives, through the real server and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from editor import Editor, rec
from pygls.exceptions import JsonRpcException

SPAN = {"from": "2026-11-02", "to": "2026-11-03"}
TOOLS = ("claude-code", "codex", "codexx", "chat")


def _records() -> list[dict]:
    return [
        rec(
            "claude-sonnet-4-5",
            1000,
            100,
            id="c1",
            feature="claude-code",
            session="s1",
            timestamp="2026-11-02T09:00:00Z",
        ),
        # a sub-agent's call is Claude Code's too
        rec(
            "claude-haiku-4-5",
            300,
            30,
            id="c2",
            feature="claude-code agent=reviewer query=subagent",
            session="s1",
            timestamp="2026-11-02T09:05:00Z",
        ),
        rec("gpt-5", 2000, 200, id="x1", feature="codex", session="s2", timestamp="2026-11-02T10:00:00Z"),
        rec(
            "gpt-5",
            4000,
            400,
            id="x2",
            feature="codex",
            session="s2",
            project="other",
            timestamp="2026-11-03T10:00:00Z",
        ),
        rec("gpt-5-mini", 500, 50, id="x3", feature="codex", timestamp="2026-11-03T11:00:00Z"),
        # a name that only starts like "codex" is another tool
        rec("gpt-5", 7, 1, id="y1", feature="codexx", timestamp="2026-11-03T12:00:00Z"),
        rec("gpt-4o", 60, 6, id="e1", feature="chat", timestamp="2026-11-03T13:00:00Z"),
    ]


def _by_hand(tool: str) -> dict[str, dict[str, int]]:
    """Messages and tokens per day of one tool's records, added up here."""
    out: dict[str, dict[str, int]] = {}
    for r in _records():
        feature = r["feature"]
        if feature != tool and not feature.startswith(tool + " "):
            continue
        day = out.setdefault(r["timestamp"][:10], {"messages": 0, "inputTokens": 0, "outputTokens": 0})
        day["messages"] += 1
        day["inputTokens"] += r["inputTokens"]
        day["outputTokens"] += r["outputTokens"]
    return out


def _record_all(data_dir) -> None:
    """`_records()` through `usage-ls record` (JSON lines on stdin)."""
    lines = "\n".join(json.dumps(r) for r in _records())
    subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), "record"],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
    )


def _cli(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_each_tools_days_are_its_own_records_and_the_tools_add_up_to_all(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*_records())
        everything = await ed.request("usage/daily", SPAN)
        sums = {d["date"]: {"messages": 0, "costUsd": 0.0, "totalTokens": 0} for d in everything["days"]}
        for tool in TOOLS:
            got = await ed.request("usage/daily", {**SPAN, "tool": tool})
            want = _by_hand(tool)
            for d in got["days"]:
                hand = want.get(d["date"], {"messages": 0, "inputTokens": 0, "outputTokens": 0})
                assert {k: d[k] for k in hand} == hand, (tool, d["date"])
                for k in sums[d["date"]]:
                    sums[d["date"]][k] += d[k]
            summary = await ed.request("usage/summary", {**SPAN, "tool": tool})
            assert summary["messages"] == sum(v["messages"] for v in want.values())
        for d in everything["days"]:  # the four tools are every record, each once
            assert sums[d["date"]]["messages"] == d["messages"]
            assert sums[d["date"]]["totalTokens"] == d["totalTokens"]
            assert sums[d["date"]]["costUsd"] == pytest.approx(d["costUsd"])

        codex = {**SPAN, "tool": "codex"}
        split = await ed.request("usage/tokenSplit", codex)
        assert {m["model"]: m["messages"] for m in split["models"]} == {"gpt-5": 2, "gpt-5-mini": 1}
        projects = await ed.request("usage/projects", codex)
        assert {p["project"]: p["messages"] for p in projects["projects"]} == {"other": 1, "widget": 2}
        rows = await ed.request("usage/interactions", codex)
        assert rows["total"] == 3 and {r["id"] for r in rows["rows"]} == {"x1", "x2", "x3"}
        sessions = await ed.request("usage/sessions", {**SPAN, "tool": "claude-code"})
        assert [s["session"] for s in sessions["sessions"]] == ["s1"]
        assert sessions["sessions"][0]["messages"] == 2
        assert (await ed.request("usage/summary", {**SPAN, "tool": "all"}))["messages"] == 7

        with pytest.raises(JsonRpcException) as bad:
            await ed.request("usage/daily", {**SPAN, "tool": 5})
        assert "tool" in str(bad.value)


async def test_usage_tools_lists_the_tools_with_records_in_the_days(data_dir):
    """`usage/tools`, the dashboard's Tool picker's names: the features' first words in the range."""
    async with Editor(data_dir) as ed:
        await ed.record(*_records())
        assert await ed.request("usage/tools", SPAN) == {"tools": ["chat", "claude-code", "codex", "codexx"]}
        first = {"from": SPAN["from"], "to": SPAN["from"]}
        assert await ed.request("usage/tools", {**first, "model": "gpt-4o"}) == {"tools": ["claude-code", "codex"]}
        assert await ed.request("usage/tools", {"from": "2026-10-01", "to": "2026-10-02"}) == {"tools": []}
        with pytest.raises(JsonRpcException) as bad:
            await ed.request("usage/tools", {**SPAN, "scope": "team"})
        assert "scope" in str(bad.value)


def test_report_tool_in_the_terminal_and_json(data_dir):
    _record_all(data_dir)
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    daily = json.loads(_cli(data_dir, "report", "daily", *span, "--tool", "codex", "--json").stdout)
    want = _by_hand("codex")
    assert {d["date"]: d["messages"] for d in daily["days"]} == {k: v["messages"] for k, v in want.items()}
    weekly = json.loads(_cli(data_dir, "report", "weekly", *span, "--tool", "codex", "--json").stdout)
    assert weekly["totals"]["inputTokens"] == sum(v["inputTokens"] for v in want.values())
    table = _cli(data_dir, "report", "daily", *span, "--tool", "codex")
    assert table.returncode == 0 and "tool=codex" in table.stdout and "gpt-5" in table.stdout
    assert "claude" not in table.stdout and "gpt-4o" not in table.stdout
    # ccusage's name for Claude Code: nothing, and the report says which tools there are
    wrong = _cli(data_dir, "report", "daily", *span, "--tool", "claude")
    assert wrong.returncode == 0
    assert "no records of tool 'claude'" in wrong.stderr and "claude-code, codex" in wrong.stderr


def test_ccusage_spellings_of_the_range(data_dir):
    # `--since 20261102 --until 20261103`, as ccusage takes them, is the same range
    _record_all(data_dir)
    ours = _cli(data_dir, "report", "daily", "--from", SPAN["from"], "--to", SPAN["to"], "--json")
    theirs = _cli(data_dir, "report", "daily", "--since", "20261102", "--until", "20261103", "--json")
    assert theirs.returncode == 0 and json.loads(theirs.stdout) == json.loads(ours.stdout)
    assert [d["date"] for d in json.loads(theirs.stdout)["days"]] == ["2026-11-02", "2026-11-03"]
    bad = _cli(data_dir, "report", "daily", "--since", "2026110")
    assert bad.returncode == 2 and "from" in bad.stderr and "2026110" in bad.stderr


async def test_by_tool_splits_each_day_into_the_tools_own_numbers(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*_records())
        split = await ed.request("usage/daily", {**SPAN, "byTool": True})
        for tool in TOOLS:
            alone = await ed.request("usage/daily", {**SPAN, "tool": tool})
            for d, one in zip(split["days"], alone["days"], strict=True):
                if one["messages"]:
                    assert d["byTool"][tool] == {k: one[k] for k in ("credits", "costUsd", "totalTokens", "messages")}
                else:
                    assert tool not in d["byTool"]
        for d in split["days"]:  # the tools add up to the day, most tokens first
            assert sum(t["messages"] for t in d["byTool"].values()) == d["messages"]
            assert sum(t["totalTokens"] for t in d["byTool"].values()) == d["totalTokens"]
            tokens = [t["totalTokens"] for t in d["byTool"].values()]
            assert tokens == sorted(tokens, reverse=True)
        assert "byTool" not in (await ed.request("usage/daily", SPAN))["days"][0]
        with pytest.raises(JsonRpcException) as bad:
            await ed.request("usage/daily", {**SPAN, "byTool": "yes"})
        assert "byTool" in str(bad.value)


def test_report_by_tool_lists_each_periods_tools(data_dir):
    _record_all(data_dir)
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    table = _cli(data_dir, "report", "daily", *span, "--by-tool")
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()]
    day2 = [r[0] for r in rows[rows.index(next(r for r in rows if r and r[0] == "2026-11-03")) + 1 :]][:3]
    assert day2 == ["codex", "chat", "codexx"]  # 2026-11-03's tools, most tokens first
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    monthly = json.loads(_cli(data_dir, "report", "monthly", *span, "--by-tool", "--json").stdout)
    month = next(m for m in monthly["months"] if m["messages"])
    want = {t: sum(v["inputTokens"] for v in _by_hand(t).values()) for t in TOOLS}
    assert {t: row["inputTokens"] for t, row in month["byTool"].items()} == want
    both = _cli(data_dir, "report", "daily", *span, "--by-tool", "--breakdown")
    assert both.returncode == 2 and "--by-tool" in both.stderr


async def test_insights_for_one_tool_count_its_spend_only(data_dir):
    import datetime as dt

    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)  # today, even just after midnight
    stamp = now.isoformat()
    async with Editor(data_dir) as ed:
        await ed.record(
            rec(
                "claude-sonnet-4-5", 10, 1, id="i1", feature="claude-code", costUsd=3.0, billing="byok", timestamp=stamp
            ),
            rec("gpt-5", 10, 1, id="i2", feature="codex", costUsd=0.5, billing="byok", timestamp=stamp),
        )
        both = await ed.request("usage/insights", {})
        codex = await ed.request("usage/insights", {"tool": "codex"})
        assert both["projection"]["today"]["costUsd"] == pytest.approx(3.5)
        assert codex["projection"]["today"]["costUsd"] == pytest.approx(0.5)
