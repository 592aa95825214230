"""Sessions: `usage/sessions` through the real server, `usage-ls report sessions`, and Claude
Code's sub-agent lines rolled into their parent session."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
from editor import Editor, rec
from pygls.exceptions import JsonRpcException

TOKENS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "cacheWrite1hTokens", "totalTokens")


def _records() -> list[dict]:
    r = []
    # "long": across midnight, two models, a sub-agent call; one call unpriced
    r.append(rec("claude-sonnet-4-5", 1000, 100, id="l1", session="long", timestamp="2026-11-02T23:40:00Z"))
    r.append(
        rec(
            "claude-haiku-4-5",
            300,
            30,
            id="l2",
            session="long",
            feature="claude-code agent=reviewer query=subagent",
            timestamp="2026-11-02T23:50:00Z",
        )
    )
    r.append(rec("claude-sonnet-4-5", 2000, 200, id="l3", session="long", timestamp="2026-11-03T00:20:00Z"))
    r.append(rec("acme-unpriced-1", 50, 5, id="l4", session="long", timestamp="2026-11-03T00:25:00Z"))
    # "short": one call, later
    r.append(rec("gpt-4o", 10, 1, id="s1", session="short", project="other", timestamp="2026-11-03T09:00:00Z"))
    # no session
    r.append(rec("gpt-4o", 7, 1, id="n1", timestamp="2026-11-03T10:00:00Z"))
    return r


SPAN = {"from": "2026-11-01", "to": "2026-11-05"}


async def test_sessions_page_and_each_total_is_the_sum_of_its_interactions(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*_records())
        result = await ed.request("usage/sessions", SPAN)
        assert result["total"] == 2
        assert [s["session"] for s in result["sessions"]] == ["short", "long"]  # newest first
        assert result["withoutSession"] == {
            "messages": 1,
            "totalTokens": 8,
            "costUsd": result["withoutSession"]["costUsd"],
        }
        long = result["sessions"][1]
        assert long["start"].startswith("2026-11-02T23:40") and long["durationMs"] == 45 * 60_000
        assert long["models"] == ["claude-sonnet-4-5", "claude-haiku-4-5", "acme-unpriced-1"]
        assert long["messages"] == 4 and long["unpricedMessages"] == 1
        assert long["subagents"]["messages"] == 1 and long["subagents"]["totalTokens"] == 330
        assert 0 < long["subagentShare"] < 0.1
        assert long["subagentShare"] == round(long["subagents"]["costUsd"] / long["costUsd"], 4)
        for s in result["sessions"]:
            rows = (await ed.request("usage/interactions", {**SPAN, "session": s["session"], "limit": 100}))["rows"]
            assert len(rows) == s["messages"]
            for k in TOKENS:
                assert s[k] == sum(r[k] for r in rows), (s["session"], k)
            priced = [r["costUsd"] for r in rows if r["costUsd"] is not None]
            assert abs(s["costUsd"] - sum(priced)) < 1e-12
            assert (
                abs(
                    s["subagents"]["costUsd"]
                    - sum(r["costUsd"] for r in rows if "query=subagent" in (r["feature"] or ""))
                )
                < 1e-12
            )
        # paged and sorted
        page = await ed.request("usage/sessions", {**SPAN, "limit": 1, "offset": 1, "sort": "-totalTokens"})
        assert page["total"] == 2 and [s["session"] for s in page["sessions"]] == ["short"]
        # the filters apply to the records: only "long"'s sonnet calls
        by_model = await ed.request("usage/sessions", {**SPAN, "model": "claude-sonnet-4-5"})
        assert [(s["session"], s["messages"]) for s in by_model["sessions"]] == [("long", 2)]
        for bad, field in (({"sort": "cost"}, "sort"), ({"limit": -1}, "limit"), ({"offset": "x"}, "offset")):
            try:
                await ed.request("usage/sessions", {**SPAN, **bad})
            except JsonRpcException as exc:
                assert field in str(exc)
            else:
                raise AssertionError(f"{bad} was accepted")


def _cli(data_dir, *args: str, stdin: str | None = None) -> str:
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, input=stdin, check=True, capture_output=True, text=True).stdout


def test_report_sessions_table_fits_80_columns_and_json_keeps_everything(data_dir):
    long_project = "a-project-with-a-name-much-longer-than-the-room-a-terminal-table-has"
    records = _records() + [
        rec("gpt-4o", 5, 1, id=f"x{i}", session=f"sess-{i:03d}-0123456789abcdef", project=long_project,
            timestamp=f"2026-11-04T{i // 60:02d}:{i % 60:02d}:00Z")
        for i in range(60)
    ]  # fmt: skip
    _cli(data_dir, "record", stdin="\n".join(orjson.dumps(r).decode() for r in records) + "\n")
    out = _cli(data_dir, "report", "sessions", "--from", "2026-11-01", "--to", "2026-11-05")
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    assert "\x1b[" not in out  # not a terminal: no colour
    assert lines[0] == "sessions · 2026-11-01 .. 2026-11-05"
    table = lines[3 : lines.index("")]  # the rows, then a blank line and the notes
    assert len(table) == 50 and table[0].startswith("sess-059")  # the newest, ids cut to 8 characters
    assert "50 of 62 sessions shown: --limit 62 for all" in out
    assert "--wide" in out and "Not listed: 1 message without a session id" in out
    wide = _cli(data_dir, "report", "sessions", "--from", "2026-11-01", "--to", "2026-11-05", "--wide", "--limit", "62")
    assert "sess-059-0123456789abcdef" in wide and long_project in wide and "long" in wide
    long_row = next(ln for ln in wide.splitlines() if ln.startswith("long "))
    assert "claude-sonnet-4-5, claude-haiku-4-5, acme-unpriced-1" in long_row
    data = json.loads(_cli(data_dir, "report", "sessions", "--from", "2026-11-01", "--to", "2026-11-05", "--json"))
    assert data["total"] == 62 and len(data["sessions"]) == 62
    assert data["sessions"][0]["session"] == "sess-059-0123456789abcdef"


def test_claude_code_subagent_lines_are_their_parent_sessions(data_dir, tmp_path):
    folder = tmp_path / "claude" / "projects" / "-home-dev-widget"
    sub = folder / "sess-1" / "subagents"
    sub.mkdir(parents=True)

    def line(mid: str, rid: str, ts: str, side: bool, tokens: int, **extra) -> bytes:
        obj = {
            "type": "assistant",
            "sessionId": "sess-1",
            "cwd": "/home/dev/widget",
            "isSidechain": side,
            "requestId": rid,
            "timestamp": ts,
            "version": "2.1.0",
            "message": {
                "id": mid,
                "model": "claude-sonnet-4-5-20250929",
                "stop_reason": "end_turn",
                "usage": {"input_tokens": tokens, "output_tokens": 10},
            },
            **extra,
        }
        return orjson.dumps(obj) + b"\n"

    (folder / "sess-1.jsonl").write_bytes(line("m1", "r1", "2026-11-03T10:00:00Z", False, 1000))
    (sub / "agent-a7f3.jsonl").write_bytes(
        line("m2", "r2", "2026-11-03T10:01:00Z", True, 300, agentId="a7f3")
        + line("m1", "r9", "2026-11-03T10:01:30Z", True, 1000, agentId="a7f3")  # a replay: not counted
        + line("m3", "r3", "2026-11-03T10:02:00Z", True, 200)  # a side chain naming no agent
    )
    env_args = ["import", "claude-code", str(tmp_path / "claude")]
    assert "imported 3" in _cli(data_dir, *env_args)
    span = ["--from", "2026-11-03", "--to", "2026-11-03", "--json"]
    rows = json.loads(_cli(data_dir, "report", "interactions", *span))["rows"]
    assert sorted(r["feature"] for r in rows) == [
        "claude-code",
        "claude-code query=subagent",
        "claude-code query=subagent",
    ]
    assert {r["session"] for r in rows} == {"sess-1"}
    (s,) = json.loads(_cli(data_dir, "report", "sessions", *span))["sessions"]
    assert s["session"] == "sess-1" and s["messages"] == 3
    assert s["subagents"]["messages"] == 2 and s["subagents"]["totalTokens"] == 520
    # the blocks report (tool claude-code) still counts the sub-agents' calls
    blocks = json.loads(_cli(data_dir, "report", "blocks", *span))["blocks"]
    assert sum(b["entries"] for b in blocks if not b.get("isGap")) == 3
