"""The importers against what the real tools write: Claude Code 2.1.332, Codex 0.171.0 and
Gemini CLI 0.61.0 (npm, scripts/setup.d/50-real-tools.sh) run against a loopback stand-in of
their provider's API (standin.py, real_tools.py; fixtures in conftest.py). The usage the
stand-in returned is the truth: every response imported once, with exactly those tokens, and
on Claude Code's sessions our cost equal to Claude Code's own `cost-state` to the micro-dollar.
"""

from __future__ import annotations

import json

import orjson
import pytest
from ccusage_compare import clean_env, import_json, usage_ls, write_config
from conftest import CLAUDE_SESSION, GEMINI_PROJECT

MICRO = 1e-6


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    write_config(d, 'timezone = "UTC"\n')
    return d


def _rows(data, env) -> list[dict]:
    out = usage_ls(
        data,
        "report",
        "interactions",
        "--from",
        "2026-01-01",
        "--to",
        "2030-12-31",
        "--limit",
        "1000",
        "--json",
        env=env,
    )
    return json.loads(out.stdout)["rows"]


def _tokens(row: dict) -> tuple:
    return (
        row["inputTokens"],
        row["outputTokens"],
        row["cacheReadTokens"],
        row["cacheWriteTokens"],
        row["cacheWrite1hTokens"],
    )


def _transcripts(home):
    return sorted((home / ".claude" / "projects").rglob("*.jsonl"))


def _cost_state(path) -> dict:
    states = [o for o in map(orjson.loads, path.read_bytes().splitlines()) if o.get("type") == "cost-state"]
    assert states, f"{path.name} has no cost-state line"
    return states[-1]


# -- Claude Code ---------------------------------------------------------------------------------


def _claude_truth(usage: dict) -> tuple:
    """What a response's record must hold, from the usage the API returned: cache writes are
    the total (`cache_creation_input_tokens`), of which the breakdown's 1-hour part is 1-hour."""
    breakdown = usage.get("cache_creation") or {}
    writes = usage.get("cache_creation_input_tokens") or sum(breakdown.values())
    return (
        usage["input_tokens"],
        usage["output_tokens"],
        usage.get("cache_read_input_tokens", 0),
        writes,
        min(breakdown.get("ephemeral_1h_input_tokens", 0), writes),
    )


def test_claude_code_responses_import_with_the_tokens_the_api_returned(tmp_path, data, claude_run):
    home, answered = claude_run
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=home / ".claude")
    res = import_json(data, "claude-code", env=env)
    assert (res["unreadable"], res["leftForNextTime"]) == (0, 0)
    assert res["tools"][0]["filesRead"] == 3  # the session, its sub-agent, its fork
    rows = {r["id"]: r for r in _rows(data, env)}
    want = {f"claude-code:{a['messageId']}:{a['requestId']}": a for a in answered}
    # every response once (the fork's copies of earlier ones are the same responses)
    assert sorted(rows) == sorted(want)
    for rec_id, a in want.items():
        row = rows[rec_id]
        assert _tokens(row) == _claude_truth(a["usage"]), rec_id
        assert row["model"] == a["model"]
    # the cases the fixture is there for happened: a gateway's cache writes without their
    # breakdown, Claude Code's remapping of claude-opus-4-1, a sub-agent's responses
    gateway = [
        a for a in answered if a["usage"].get("cache_creation_input_tokens") and "cache_creation" not in a["usage"]
    ]
    assert gateway and all(rows[f"claude-code:{a['messageId']}:{a['requestId']}"]["cacheWriteTokens"] for a in gateway)
    assert "claude-opus-5-5" in {a["model"] for a in answered}
    assert any("subagents" in p.parts for p in _transcripts(home))
    # the sub-agent's responses say so, as Claude Code's OpenTelemetry events do; the rest not
    sub = {
        f"claude-code:{o['message']['id']}:{o['requestId']}"
        for p in _transcripts(home)
        if "subagents" in p.parts
        for o in map(orjson.loads, p.read_bytes().splitlines())
        if o.get("type") == "assistant" and "usage" in o.get("message", {})
    }
    assert sub and sub <= set(rows)
    features = {rec_id: row["feature"] for rec_id, row in rows.items()}
    assert {features[i] for i in sub} == {"claude-code agent=general-purpose query=subagent"}
    assert {f for i, f in features.items() if i not in sub} == {"claude-code"}
    # and nothing is counted twice on a second look
    assert import_json(data, "claude-code", env=env)["imported"] == 0


def test_claude_code_cost_equals_its_own_cost_state_to_the_micro_dollar(tmp_path, data, claude_run):
    home, _answered = claude_run
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=home / ".claude")
    import_json(data, "claude-code", env=env)
    (main,) = [p for p in _transcripts(home) if p.stem == CLAUDE_SESSION]
    state = _cost_state(main)
    # the session's responses: its transcript's and its sub-agent's (the fork copies some of
    # them, and the ledger counts each once, under whichever session it read first)
    ids = set()
    for path in [main, *sorted((main.parent / main.stem).rglob("*.jsonl"))]:
        for line in path.read_bytes().splitlines():
            obj = orjson.loads(line)
            if obj.get("type") == "assistant":
                ids.add(f"claude-code:{obj['message']['id']}:{obj['requestId']}")
    ours: dict[str, float] = {}
    for row in _rows(data, env):
        if row["id"] in ids:
            ours[row["model"]] = ours.get(row["model"], 0.0) + row["costUsd"]
    theirs = {m: u["costUSD"] for m, u in state["modelUsage"].items()}
    assert sorted(ours) == sorted(theirs)
    for model, cost in theirs.items():
        assert abs(ours[model] - cost) <= MICRO, f"{model}: ours {ours[model]:.6f}, Claude Code {cost:.6f}"
    assert abs(sum(ours.values()) - state["totalCostUSD"]) <= MICRO
    # the gateway's response is the one ccusage and we used to count at $0 of cache writes
    assert theirs["claude-opus-5-5"] > 0.08


def test_doctor_and_session_report_check_our_cost_against_claude_codes(tmp_path, data, claude_run):
    home, _answered = claude_run
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=home / ".claude")
    import_json(data, "claude-code", env=env)
    doctor = usage_ls(data, "doctor", env=env, check=False).stdout
    assert "2 recent session(s) checked against its own cost (cost-state): all agree to the micro-dollar" in doctor
    assert "differs from ours" not in doctor
    report = usage_ls(data, "report", "session", CLAUDE_SESSION, env=env).stdout
    assert "Claude Code's own cost (cost-state): $0.1" in report
    assert "the same to the micro-dollar, token for token" in report
    # the fork: Claude Code counts the responses it copied again; we check the same responses
    (fork,) = [p for p in _transcripts(home) if p.stem != CLAUDE_SESSION and "subagents" not in p.parts]
    for session in (CLAUDE_SESSION, fork.stem):
        out = json.loads(usage_ls(data, "report", "session", session, "--json", env=env).stdout)
        check = out["toolCost"]
        assert check["agree"] and abs(check["oursUsd"] - check["toolUsd"]) <= MICRO
        assert {m["model"] for m in check["models"]} == {"claude-sonnet-4-5", "claude-opus-5-5", "claude-haiku-4-5"}


def test_a_price_that_differs_from_claude_codes_is_reported(tmp_path, claude_run):
    # a price table that is wrong for one model (here: an override in config.toml)
    home, _answered = claude_run
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n[prices."claude-opus-5-5"]\ninput = 4\noutput = 20\ncache_read = 0.4\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=home / ".claude")
    import_json(data, "claude-code", env=env)
    out = usage_ls(data, "doctor", env=env, check=False)
    assert out.returncode == 1
    assert f"Claude Code's own cost differs from ours: session {CLAUDE_SESSION}" in out.stdout
    assert "claude-opus-5-5: cost: ours $" in out.stdout
    report = usage_ls(data, "report", "session", CLAUDE_SESSION, env=env).stdout
    assert "They differ:" in report and "claude-opus-5-5: cost: ours" in report


# -- Codex ---------------------------------------------------------------------------------------


def test_codex_rollout_imports_the_api_tokens_and_calls_nothing_unreadable(tmp_path, data, codex_run):
    home, answered = codex_run
    env = clean_env(tmp_path, CODEX_HOME=home / ".codex")
    (rollout,) = sorted((home / ".codex" / "sessions").rglob("rollout-*.jsonl"))
    types = {orjson.loads(line).get("type") for line in rollout.read_bytes().splitlines()}
    assert "world_state" in types  # lines that are not usage, of a type older versions lacked
    res = import_json(data, "codex", env=env)
    assert (res["imported"], res["unreadable"], res["tools"][0]["firstReason"]) == (len(answered), 0, None)
    rows = sorted(_rows(data, env), key=lambda r: r["timestamp"])
    for row, a in zip(rows, answered):
        u = a["usage"]
        cached = u["input_tokens_details"].get("cached_tokens", 0)
        writes = u["input_tokens_details"].get("cache_write_tokens", 0)
        # input and output as the API counts them: cached tokens and cache writes are parts of
        # input, reasoning is part of output
        assert _tokens(row) == (u["input_tokens"] - cached - writes, u["output_tokens"], cached, writes, 0)
        assert row["model"] == a["model"]


# -- Gemini CLI ----------------------------------------------------------------------------------


def test_gemini_chats_import_the_api_tokens(tmp_path, data, gemini_run):
    home, answered = gemini_run
    env = clean_env(tmp_path, GEMINI_DATA_DIR=home / ".gemini" / "tmp")
    res = import_json(data, "gemini", env=env)
    assert (res["imported"], res["unreadable"]) == (len(answered), 0)
    rows = sorted(_rows(data, env), key=lambda r: r["timestamp"])
    for row, a in zip(rows, answered):
        u = a["usage"]
        cached = u.get("cachedContentTokenCount", 0)
        assert _tokens(row) == (
            u["promptTokenCount"] - cached + u.get("toolUsePromptTokenCount", 0),
            u["candidatesTokenCount"] + u.get("thoughtsTokenCount", 0),
            cached,
            0,
            0,
        )
        assert (row["model"], row["project"]) == (a["model"], GEMINI_PROJECT)


# -- the cost check where the real tools cannot run -------------------------------------------


def _cc_line(**fields) -> bytes:
    return orjson.dumps(fields) + b"\n"


def test_cost_check_on_a_transcript_shaped_like_claude_code_2_1(tmp_path, data):
    # the lines Claude Code 2.1.332 writes for one response behind a gateway (no breakdown from
    # the API: a breakdown of zeros in the transcript), and its cost-state after the turn
    session = "0c0571c4-0000-4000-8000-000000000001"
    usage = {
        "input_tokens": 8,
        "cache_creation_input_tokens": 12_000,
        "cache_read_input_tokens": 40_000,
        "output_tokens": 900,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "service_tier": "standard",
        "speed": "standard",
    }
    common = {"sessionId": session, "version": "2.1.332", "cwd": "/home/dev/widget", "isSidechain": False}
    ts = "2026-11-20T10:00:00.000Z"
    path = tmp_path / "claude" / "projects" / "-home-dev-widget" / f"{session}.jsonl"
    path.parent.mkdir(parents=True)

    def write(cost: float) -> None:
        path.write_bytes(
            _cc_line(type="user", message={"role": "user", "content": "hi"}, timestamp=ts, **common)
            + _cc_line(
                type="assistant",
                message={"id": "msg_1", "model": "claude-opus-5-5", "stop_reason": "end_turn", "usage": usage},
                requestId="req_1",
                requestedModel="claude-opus-5-5",
                timestamp=ts,
                **common,
            )
            + _cc_line(
                type="cost-state",
                sessionId=session,
                totalCostUSD=cost,
                modelUsage={
                    "claude-opus-5-5": {
                        "inputTokens": 8,
                        "outputTokens": 900,
                        "cacheReadInputTokens": 40_000,
                        "cacheCreationInputTokens": 12_000,
                        "cacheCreationEphemeral5mInputTokens": 0,
                        "cacheCreationEphemeral1hInputTokens": 0,
                        "costUSD": cost,
                    }
                },
                hasUnknownModelCost=False,
            )
        )

    # Claude Code's price of it: 8 × $4 + 900 × $20 + 40,000 × $0.20 + 12,000 × $5 per million
    write(0.086032)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=tmp_path / "claude")
    assert import_json(data, "claude-code", env=env)["imported"] == 1
    (row,) = _rows(data, env)
    assert _tokens(row) == (8, 900, 40_000, 12_000, 0)  # the total, not the breakdown's zeros
    assert abs(row["costUsd"] - 0.086032) <= MICRO
    assert (
        "1 recent session(s) checked against its own cost (cost-state): all agree"
        in usage_ls(data, "doctor", env=env, check=False).stdout
    )
    report = usage_ls(data, "report", "session", session, env=env).stdout
    assert "claude-opus-5-5" in report and "$0.086032" in report and "the same to the micro-dollar" in report
    # Claude Code says otherwise: said, with what differs
    write(0.086532)
    out = usage_ls(data, "doctor", env=env, check=False)
    assert out.returncode == 1
    assert (
        f"session {session}: Claude Code's own cost $0.086532, ours $0.086032 "
        "(claude-opus-5-5: cost: ours $0.086032, Claude Code $0.086532)"
    ) in out.stdout
    # a session of another tool: its records, and no cost-state to compare with
    assert "no records of this session" in usage_ls(data, "report", "session", "nope", env=env).stdout
