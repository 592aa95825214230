"""The importers against what the real Qwen Code 0.24.4, opencode 1.18.33 and pi 0.73.1 write
(npm, scripts/setup.d/50-real-tools.sh), each run against the loopback stand-in of an OpenAI
Chat Completions API (standin.py, real_tools.py) inside a network namespace with only
loopback. The usage the stand-in returned is the truth: every API call the tool's files record
is imported once with exactly those tokens, under the right model, project and session, per
day as well; a second import adds nothing. Where ccusage 20.0.24 reads the tool, its per-day
tokens are compared too (docs/importers.md says where it is wrong).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
from collections import Counter

import orjson
import pytest
import real_tools
from ccusage_compare import ccusage_binary, ccusage_daily, clean_env, import_json, our_daily, usage_ls, write_config
from standin import Reply


def _run(tmp_path, tool: str, steps: list[dict], replies: list[Reply]):
    """Run `steps` of `tool`: (HOME it wrote under, what the stand-in answered, when the run
    began and ended)."""
    unsupported = real_tools.tool_unsupported(tool)
    if unsupported:
        pytest.skip(unsupported)
    reason = real_tools.tool_unavailable(tool)
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the real-tool tests must run in CI: {reason}")
        pytest.skip(reason)
    work = tmp_path / f"real-{tool}"
    began = dt.datetime.now(dt.UTC)
    answered = real_tools.run_session(work, [{"tool": tool, **s} for s in steps], {"chat": replies})
    return work / "home", answered, (began, dt.datetime.now(dt.UTC))


def _replies(n: int, tool: tuple[str, dict]) -> list[Reply]:
    """Distinct usage per call (so that a row tells which call it is), with cached and
    reasoning tokens: `prompt_tokens` counts the cached ones, `completion_tokens` the reasoning.
    The first answer to a call that offers tools calls `tool` (name, arguments): the tool runs
    and its agent makes another call with the result."""

    def usage(i: int) -> dict:
        return {
            "prompt_tokens": 12_000 + 1_000 * i,
            "completion_tokens": 300 + 10 * i,
            "prompt_tokens_details": {"cached_tokens": 8_000 + 100 * i},
            "completion_tokens_details": {"reasoning_tokens": 40 + i},
        }

    return [Reply(usage(0), blocks=[("tool_use", *tool)])] + [Reply(usage(i), text=f"Answer {i}.") for i in range(1, n)]


def _truth(usage: dict) -> tuple[int, int, int, int]:
    """(input, output, cache reads, cache writes) of an API call, in the protocol's meaning."""
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    return (usage["prompt_tokens"] - cached, usage["completion_tokens"], cached, 0)


def _rows(data, env) -> list[dict]:
    out = usage_ls(data, "report", "interactions", "--from", "2026-01-01", "--to", "2030-12-31", "--limit", "1000",
                   "--json", env=env)  # fmt: skip
    return json.loads(out.stdout)["rows"]


def _tokens(row: dict) -> tuple[int, int, int, int]:
    return (row["inputTokens"], row["outputTokens"], row["cacheReadTokens"], row["cacheWriteTokens"])


def _check_days(data, env, rows: list[dict], window: tuple) -> dict:
    """Each call is dated when it was made (within the run), and our daily report holds, per
    day, exactly the tokens of that day's calls (the rows, checked against the API's); returns
    the report."""
    began, ended = window
    per_day: dict[str, list[int]] = {}
    for row in rows:
        at = dt.datetime.fromisoformat(row["timestamp"])
        assert began - dt.timedelta(seconds=1) <= at <= ended + dt.timedelta(seconds=1), row["timestamp"]
        day = per_day.setdefault(at.astimezone(dt.UTC).date().isoformat(), [0, 0, 0, 0])
        for i, n in enumerate(_tokens(row)):
            day[i] += n
    ours = our_daily(data, began.date().isoformat(), ended.date().isoformat(), env=env)
    assert {d: [v[k] for k in ("input", "output", "cacheRead", "cacheWrite")] for d, v in ours.items()} == per_day
    return ours


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    write_config(d, 'timezone = "UTC"\n')
    return d


# -- Qwen Code -----------------------------------------------------------------------------------


def test_qwen_code_every_call_imported_once_with_the_tokens_the_api_returned(tmp_path, data):
    steps = [
        {"args": ["-p", "fix the parser"], "cwd": "widget"},
        {"args": ["-p", "and the tests", "--continue"], "cwd": "widget"},  # the same session, resumed
    ]
    home, answered, window = _run(tmp_path, "qwen", steps, _replies(8, ("glob", {"pattern": "*"})))
    chats = sorted((home / ".qwen" / "projects").rglob("chats/*.jsonl"))
    lines = [o for p in chats for o in map(orjson.loads, p.read_bytes().splitlines())]
    # which call each response id was: its session and folder, as the chat logs say
    events = {
        o["systemPayload"]["uiEvent"]["response_id"]: o
        for o in lines
        if o.get("subtype") == "ui_telemetry"
        and o["systemPayload"]["uiEvent"].get("event.name") == "qwen-code.api_response"
    }
    assistants = [o for o in lines if o.get("type") == "assistant" and "usageMetadata" in o]
    # the case this is for: Qwen made calls its chat log's assistant records do not show (a
    # sub-agent extracting memories after each prompt), and its usage record counts them
    assert len(answered) > len(assistants) and len(chats) == 1
    assert sorted(events) == sorted(a["id"] for a in answered)

    env = clean_env(tmp_path, QWEN_DATA_DIR=home / ".qwen")
    res = import_json(data, "qwen", env=env)
    assert res["unreadable"] == 0
    rows = _rows(data, env)
    # every call once, with its tokens (reasoning is inside completion_tokens: not added twice)
    assert Counter(_tokens(r) for r in rows) == Counter(_truth(a["usage"]) for a in answered)
    by_tokens = {_tokens(r): r for r in rows}
    for a in answered:
        row, event = by_tokens[_truth(a["usage"])], events[a["id"]]
        assert row["model"] == a["model"] == "qwen3-coder-plus"
        assert (row["session"], row["project"]) == (event["sessionId"], event["cwd"].rsplit("/", 1)[1])
        sub = event["systemPayload"]["uiEvent"].get("subagent_name")
        assert row["feature"] == (f"qwen agent={sub} query=subagent" if sub else "qwen")
    assert {r["project"] for r in rows} == {"widget"}
    ours = _check_days(data, env, rows, window)
    # a usage record line per run, the resumed session's with the whole session's totals (not
    # only the resumed part's): they equal what the calls were, so nothing is topped up
    records = [orjson.loads(x) for x in (home / ".qwen" / "usage_record.jsonl").read_bytes().splitlines()]
    assert len(records) == 2 and records[0]["sessionId"] == records[1]["sessionId"]
    assert records[1]["models"]["qwen3-coder-plus"]["requests"] == len(answered)
    assert import_json(data, "qwen", env=env)["imported"] == 0

    # ccusage reads the assistant records only (not the sub-agent's calls), and input as the
    # prompt count, whole (the cached tokens counted twice)
    binary = ccusage_binary()
    if binary is None:
        return
    theirs = ccusage_daily(binary, "qwen", env)
    shown = [_truth_qwen_record(o["usageMetadata"]) for o in assistants]
    assert {d: (v["input"], v["output"], v["cacheRead"]) for d, v in theirs.items()} == {
        day: tuple(sum(s[i] for s in shown) for i in range(3)) for day in ours
    }


def _truth_qwen_record(meta: dict) -> tuple[int, int, int]:
    """What ccusage 20.0.24 makes of a Qwen chat-log record: (input, output, cache reads)."""
    return (
        meta["promptTokenCount"],
        meta["candidatesTokenCount"],
        meta.get("cachedContentTokenCount", 0),
    )


# -- opencode ------------------------------------------------------------------------------------


def test_opencode_messages_in_its_database_imported_with_the_tokens_the_api_returned(tmp_path, data):
    repo = tmp_path / "real-opencode" / "widget"
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)  # the project is the repository's root
    home, answered, window = _run(
        tmp_path,
        "opencode",
        [{"args": ["run", "fix the parser"], "cwd": "widget/src"}],
        _replies(4, ("glob", {"pattern": "*"})),
    )
    store = home / ".local" / "share" / "opencode"
    # the current version writes its SQLite database only, no message files
    assert (store / "opencode.db").exists() and not list(store.rglob("msg_*.json"))
    with sqlite3.connect(f"file:{store / 'opencode.db'}?mode=ro", uri=True) as con:
        messages = [json.loads(d) for (d,) in con.execute("SELECT data FROM message")]
        (session,) = [s for (s,) in con.execute("SELECT id FROM session")]
    # opencode asks for a title first, a call it keeps no record of: no store has its tokens
    titles = [a for a in answered if (a["purpose"] or "").startswith("You are a title generator")]
    stored = [a for a in answered if a not in titles]
    assert titles and stored
    assert len([m for m in messages if m["role"] == "assistant"]) == len(stored)

    env = clean_env(tmp_path, XDG_DATA_HOME=home / ".local" / "share")
    res = import_json(data, "opencode", env=env)
    assert res["unreadable"] == 0
    rows = _rows(data, env)
    assert Counter(_tokens(r) for r in rows) == Counter(_truth(a["usage"]) for a in stored)
    for row in rows:
        assert (row["model"], row["session"], row["project"]) == ("qwen3-coder-plus", session, "widget")
        assert row["provider"] == "standin"
    ours = _check_days(data, env, rows, window)
    assert import_json(data, "opencode", env=env)["imported"] == 0

    binary = ccusage_binary()
    if binary is None:
        return
    # ccusage leaves out the reasoning tokens, which opencode keeps apart from output
    theirs = ccusage_daily(binary, "opencode", env)
    reasoning = sum(m["tokens"]["reasoning"] for m in messages if m["role"] == "assistant")
    assert reasoning > 0
    assert {d: (v["input"], v["output"], v["cacheRead"], v["cacheWrite"]) for d, v in theirs.items()} == {
        d: (v["input"], v["output"] - reasoning, v["cacheRead"], v["cacheWrite"]) for d, v in ours.items()
    }


# -- pi ------------------------------------------------------------------------------------------


def test_pi_session_imported_with_the_tokens_the_api_returned(tmp_path, data):
    steps = [
        {"args": ["--provider", "standin", "--model", "qwen3-coder-plus", "-p", "fix the parser"], "cwd": "widget"},
        {
            "args": ["--provider", "standin", "--model", "qwen3-coder-plus", "-c", "-p", "and the tests"],
            "cwd": "widget",
        },
    ]
    home, answered, window = _run(tmp_path, "pi", steps, _replies(4, ("read", {"path": "README.md"})))
    (session_file,) = (home / ".pi" / "agent" / "sessions").rglob("*.jsonl")  # one session, continued
    lines = [orjson.loads(x) for x in session_file.read_bytes().splitlines()]
    header = lines[0]
    costs = {
        o["message"]["responseId"]: o["message"]["usage"]["cost"]["total"]
        for o in lines
        if o.get("type") == "message" and o["message"].get("role") == "assistant"
    }
    assert sorted(costs) == sorted(a["id"] for a in answered) and len(answered) == 3  # a tool call, 2 answers

    env = clean_env(tmp_path, PI_CODING_AGENT_DIR=home / ".pi" / "agent")
    res = import_json(data, "pi", env=env)
    assert res["unreadable"] == 0
    rows = _rows(data, env)
    assert Counter(_tokens(r) for r in rows) == Counter(_truth(a["usage"]) for a in answered)
    by_tokens = {_tokens(r): r for r in rows}
    for a in answered:
        row = by_tokens[_truth(a["usage"])]
        assert (row["model"], row["provider"], row["session"], row["project"]) == (
            "qwen3-coder-plus",
            "standin",
            header["id"],
            "widget",
        )
        # the cost pi computed from the prices in its models.json
        assert row["costUsd"] == pytest.approx(costs[a["id"]], abs=1e-9)
    ours = _check_days(data, env, rows, window)
    assert import_json(data, "pi", env=env)["imported"] == 0

    binary = ccusage_binary()
    if binary is None:
        return
    theirs = ccusage_daily(binary, "pi", {**env, "PI_AGENT_DIR": str(home / ".pi" / "agent" / "sessions")})
    assert {d: (v["input"], v["output"], v["cacheRead"], v["cacheWrite"]) for d, v in theirs.items()} == {
        d: (v["input"], v["output"], v["cacheRead"], v["cacheWrite"]) for d, v in ours.items()
    }


def test_qwen_chat_log_as_0_24_4_writes_it_without_the_tool(tmp_path, data):
    """The lines of a real Qwen Code 0.24.4 chat log (shortened): an api_response event, the
    assistant record answering it (`parentUuid`), and a sub-agent's api_response event that no
    assistant record shows; on the OpenAI path `completion_tokens` (the candidates) already
    holds the reasoning that is also written as thoughts."""
    common = {"sessionId": "s-1", "cwd": "/home/dev/widget", "version": "0.24.4"}

    def event(uuid, parent, at, rid, counts, **sub):
        payload = {"event.name": "qwen-code.api_response", "event.timestamp": at, "response_id": rid,
                   "model": "qwen3-coder-plus", **counts, "response_text": "not read", **sub}  # fmt: skip
        return {"uuid": uuid, "parentUuid": parent, **common, "timestamp": at, "type": "system",
                "subtype": "ui_telemetry", "systemPayload": {"uiEvent": payload}}  # fmt: skip

    main = {"input_token_count": 12000, "output_token_count": 300, "cached_content_token_count": 8000,
            "thoughts_token_count": 40, "total_token_count": 12300}  # fmt: skip
    helper = {"input_token_count": 13000, "output_token_count": 310, "cached_content_token_count": 8100,
              "thoughts_token_count": 41, "total_token_count": 13310}  # fmt: skip
    lines = [
        {"uuid": "u1", "parentUuid": None, **common, "timestamp": "2026-11-02T10:00:00.000Z", "type": "user"},
        event("e1", "u1", "2026-11-02T10:00:01.000Z", "chatcmpl-1", main),
        {
            "uuid": "a1",
            "parentUuid": "e1",
            **common,
            "timestamp": "2026-11-02T10:00:01.001Z",
            "type": "assistant",
            "model": "qwen3-coder-plus",
            "usageMetadata": {
                "promptTokenCount": 12000,
                "candidatesTokenCount": 300,
                "thoughtsTokenCount": 40,
                "totalTokenCount": 12300,
                "cachedContentTokenCount": 8000,
            },
        },
        event("e2", "a1", "2026-11-02T10:00:02.000Z", "chatcmpl-2", helper, subagent_name="memory-extractor"),
    ]
    chats = tmp_path / "qwen" / "projects" / "-home-dev-widget" / "chats"
    chats.mkdir(parents=True)
    log = chats / "s-1.jsonl"
    log.write_text("".join(json.dumps(x) + "\n" for x in lines[:2]))  # read while Qwen writes
    env = clean_env(tmp_path, QWEN_DATA_DIR=tmp_path / "qwen")
    assert import_json(data, "qwen", env=env)["imported"] == 1
    with open(log, "a") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines[2:]))
    res = import_json(data, "qwen", env=env)  # the assistant record answers the event read before
    assert (res["imported"], res["duplicates"], res["unreadable"]) == (1, 1, 0)
    rows = sorted(_rows(data, env), key=lambda r: r["timestamp"])
    assert [_tokens(r) for r in rows] == [(4000, 300, 8000, 0), (4900, 310, 8100, 0)]
    assert [r["feature"] for r in rows] == ["qwen", "qwen agent=memory-extractor query=subagent"]
    assert {(r["session"], r["project"]) for r in rows} == {("s-1", "widget")}


# -- Kimi CLI: it cannot run here (it needs Python >= 3.12), its layout is checked in its source --


def test_kimi_session_of_a_remote_kaos_directory_names_its_project(tmp_path, data):
    """kimi-cli 1.52.0 (`metadata.py`) names a work directory's session folder by the md5 of its
    path, prefixed with `<kaos>_` when the directory is not on the local KAOS (e.g. over SSH)."""
    import hashlib

    kimi = tmp_path / "kimi"
    folder = "ssh_" + hashlib.md5(b"/srv/gadget").hexdigest()
    wire = kimi / "sessions" / folder / "b7a1c0de-0000-4000-8000-0000000c0009" / "wire.jsonl"
    wire.parent.mkdir(parents=True)
    (kimi / "kimi.json").write_text(json.dumps({"work_dirs": [{"path": "/srv/gadget", "kaos": "ssh"}]}))
    usage = {"input_other": 1200, "output": 300, "input_cache_read": 8000, "input_cache_creation": 0}
    step = {"type": "StatusUpdate", "payload": {"token_usage": usage, "message_id": "chatcmpl-9"}}
    wire.write_text(json.dumps({"type": "metadata", "protocol_version": "1.3"}) + "\n"
                    + json.dumps({"timestamp": 1793613605.25, "message": step}) + "\n")  # fmt: skip
    env = clean_env(tmp_path, KIMI_SHARE_DIR=kimi)
    assert import_json(data, "kimi", env=env)["imported"] == 1
    (row,) = _rows(data, env)
    assert (row["project"], row["session"], _tokens(row)) == ("gadget", wire.parent.name, (1200, 300, 8000, 0))
