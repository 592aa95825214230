"""`usage-ls report sessions --json` against `ccusage claude session --json` on the same logs.

Where the two definitions agree (no sidechain line replays a parent message) every session
has the same tokens; on logs with replays the whole difference is the replayed messages, which
ccusage's session report counts a second time (docs/importers.md, "Sessions").
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ccusage_compare import ccusage_binary, clean_env, import_json, usage_ls, write_config
from synth_logs import claude_logs

OURS = ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens")
THEIRS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


@pytest.fixture
def ccusage():
    binary = ccusage_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("ccusage is not installed (scripts/setup.d/40-ccusage.sh); the comparison must run in CI")
        pytest.skip("ccusage not installed: run scripts/setup.d/40-ccusage.sh")
    return binary


def _ours(data: Path, env: dict) -> dict[str, dict]:
    out = usage_ls(data, "report", "sessions", "--from", "2026-11-01", "--to", "2026-11-30", "--json", env=env)
    result = json.loads(out.stdout)
    assert len(result["sessions"]) == result["total"]
    return {s["session"]: s for s in result["sessions"]}


def _theirs(binary: Path, env: dict) -> dict[str, dict]:
    cmd = [str(binary), "claude", "session", "--json", "--offline", "--timezone", "UTC"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600)
    return {s["sessionId"]: s for s in json.loads(out.stdout)["sessions"]}


def _run(tmp_path: Path, binary: Path, **logs) -> tuple[dict, dict, Path]:
    root = claude_logs(tmp_path / "claude", **logs)
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    assert import_json(data, "claude-code", env=env)["unreadable"] == 0
    return _ours(data, env), _theirs(binary, env), root


def test_each_session_has_ccusage_tokens_where_the_definitions_agree(tmp_path, ccusage):
    # sub-agents answering (their own messages, in `<session>/subagents/`), split responses,
    # sessions across midnight; no replays and no resumed copies
    ours, theirs, _root = _run(tmp_path, ccusage, seed=3, sessions=16, replays=False, resumes=False)
    assert sorted(ours) == sorted(theirs)
    for sid, t in theirs.items():
        o = ours[sid]
        assert [o[k] for k in OURS] == [t[k] for k in THEIRS], sid
        assert o["start"][:19] == t["firstActivity"][:19] and o["lastActivity"][:19] == t["lastActivity"][:19]
        assert sorted(o["models"]) == sorted(t["modelsUsed"])
    # the sub-agents' answers are in their parent's session, and their share is shown
    with_agents = [o for o in ours.values() if o["subagents"]["messages"]]
    assert len(with_agents) >= 3
    assert all(0 < o["subagentShare"] < 1 for o in with_agents)


def test_the_only_difference_is_the_replayed_sidechain_messages_ccusage_counts_twice(tmp_path, ccusage):
    ours, theirs, root = _run(tmp_path, ccusage, seed=11, sessions=40)
    assert sorted(ours) == sorted(theirs)
    # from the raw lines: responses (message id + request id, the line with most tokens) of a
    # sidechain line whose message id a main-conversation line has
    lines = []
    for path in sorted(root.rglob("*.jsonl")):
        for raw in path.read_text().splitlines():
            obj = json.loads(raw)
            if obj.get("type") == "assistant" and obj["message"]["model"] != "<synthetic>":
                lines.append(obj)
    main_ids = {o["message"]["id"] for o in lines if not o["isSidechain"]}
    best: dict[tuple, tuple] = {}
    for o in lines:
        u = o["message"]["usage"]
        counts = (u["input_tokens"], u["output_tokens"], u["cache_creation_input_tokens"], u["cache_read_input_tokens"])
        key = (o["message"]["id"], o["requestId"])
        if key not in best or sum(counts) > sum(best[key][0]):
            best[key] = (counts, o["isSidechain"] and o["message"]["id"] in main_ids)
    replayed = [sum(c[i] for c, replay in best.values() if replay) for i in range(4)]
    assert all(replayed)
    theirs_total = [sum(s[k] for s in theirs.values()) for k in THEIRS]
    ours_total = [sum(s[k] for s in ours.values()) for k in OURS]
    assert [a - b for a, b in zip(theirs_total, ours_total)] == replayed
