"""The importers against what GitHub Copilot CLI 1.0.102 and Kilo CLI 7.7.7 write (npm,
scripts/setup.d/50-real-tools.sh), run against a loopback stand-in of the Anthropic API
(standin.py, real_tools.py, real_vendor_tools.py) inside a network namespace with only
loopback. The usage the stand-in returned is the truth: each request imported once, with
exactly its tokens, model, project (the working directory) and session; a second import adds
nothing; per day the same tokens as ccusage 20.0.24 where it reads the tool.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest
import real_tools
import real_vendor_tools
from ccusage_compare import ccusage_binary, ccusage_daily, clean_env, import_json, our_daily, usage_ls, write_config
from standin import Reply

SESSION = "5e551013-0000-4000-8000-00000000c0b1"


def _run(tmp_path_factory, tool: str, steps: list[dict], replies: list[Reply]):
    reason = real_vendor_tools.unavailable(tool)
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the real-tool tests must run in CI: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp(f"real-{tool}")
    (work / "project").mkdir()
    (work / "project" / "notes.txt").write_text("hello\n")
    answered = real_tools.run_session(work, steps, {"anthropic": replies})
    return work, answered


def _replies(read_tool: str, read_input: dict) -> list[Reply]:
    """A tool call and the answer after it (two requests of one prompt), then one more prompt;
    each with cache reads, and cache writes on two of them."""
    return [
        Reply(
            {
                "input_tokens": 1200,
                "cache_read_input_tokens": 5000,
                "cache_creation_input_tokens": 300,
                "output_tokens": 34,
            },
            blocks=[("text", "Looking."), ("tool_use", read_tool, read_input)],
            stop_reason="tool_use",
        ),
        Reply({"input_tokens": 210, "cache_read_input_tokens": 6500, "output_tokens": 56}),
        Reply(
            {
                "input_tokens": 77,
                "cache_read_input_tokens": 7000,
                "cache_creation_input_tokens": 120,
                "output_tokens": 88,
            }
        ),
    ]


def _truth(answered: list[dict]) -> list[tuple]:
    return [
        (
            u["input_tokens"],
            u["output_tokens"],
            u.get("cache_read_input_tokens", 0),
            u.get("cache_creation_input_tokens", 0),
        )
        for u in (a["usage"] for a in answered)
    ]


def _rows(data, env) -> list[dict]:
    out = usage_ls(data, "report", "interactions", "--from", "2026-01-01", "--to", "2030-12-31", "--limit", "1000",
                   "--json", env=env)  # fmt: skip
    return sorted(json.loads(out.stdout)["rows"], key=lambda r: r["timestamp"])


def _tokens(row: dict) -> tuple:
    return (row["inputTokens"], row["outputTokens"], row["cacheReadTokens"], row["cacheWriteTokens"])


def _list_price(t: tuple) -> float:
    """claude-sonnet-4.5 at Anthropic's list price ($3 / $15 / $0.30 cache read / $3.75 cache
    write per million tokens) for (input, output, cache read, cache write)."""
    return (t[0] * 3 + t[1] * 15 + t[2] * 0.3 + t[3] * 3.75) / 1e6


def _own_key(rows: list[dict]) -> list[tuple]:
    return [(r["billing"], r["credits"], r["costUsd"]) for r in rows]


def _data(tmp_path, name="data"):
    d = tmp_path / name
    write_config(d, 'timezone = "UTC"\n')
    return d


def _same_tokens_as_ccusage(data, env, agent: str) -> None:
    binary = ccusage_binary()
    if binary is None:
        return  # scripts/setup.d/40-ccusage.sh installs it; the rest of the test stands alone
    ours = our_daily(data, "2026-01-01", "2030-12-31", env=env)
    theirs = ccusage_daily(binary, agent, env)
    keys = ("input", "output", "cacheRead", "cacheWrite")
    assert {d: {k: v[k] for k in keys} for d, v in ours.items()} == {
        d: {k: v[k] for k in keys} for d, v in theirs.items()
    }


# -- GitHub Copilot CLI -------------------------------------------------------------------------


def test_copilot_cli_books_each_request_once_from_its_store_otel_file_and_shutdowns(tmp_path, tmp_path_factory):
    # `copilot -p` in BYOK mode (Anthropic), a tool call, then the session resumed; the
    # OpenTelemetry file export on, as a user who set it up: the store, the OTel file and the
    # session's events all record the same requests
    steps = [
        {"tool": "copilot", "args": ["-p", "read notes.txt", "--allow-all-tools", "--session-id", SESSION]},
        {"tool": "copilot", "args": ["-p", "and again", "--allow-all-tools", f"--resume={SESSION}"]},
    ]
    work, answered = _run(tmp_path_factory, "copilot", steps, _replies("view", {"path": "notes.txt"}))
    home = work / "home"
    assert len(answered) == 3
    otel = real_vendor_tools.otel_file(home)
    spans = [json.loads(line) for line in otel.read_text().splitlines()]
    assert sum(s.get("attributes", {}).get("gen_ai.operation.name") == "chat" for s in spans) == 3
    env = clean_env(tmp_path, COPILOT_HOME=home / ".copilot", COPILOT_OTEL_FILE_EXPORTER_PATH=otel)
    data = _data(tmp_path)
    res = import_json(data, "copilot-cli", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (3, 0, 0)
    rows = _rows(data, env)
    # every request once (not again from its OTel span), with the API's tokens: Copilot's
    # input counts include both cache buckets, taken out here
    assert [_tokens(r) for r in rows] == _truth(answered)
    assert {(r["model"], r["project"], r["session"], r["feature"]) for r in rows} == {
        (real_vendor_tools.COPILOT_MODEL, "project", SESSION, "copilot-cli")
    }
    # made with the user's own key (each request's `session.usage_record` has `isByok: true`):
    # no Copilot credits, the provider's list price in dollars
    byok = [("byok", 0, pytest.approx(_list_price(t))) for t in _truth(answered)]
    assert _own_key(rows) == byok
    assert import_json(data, "copilot-cli", env=env)["imported"] == 0
    # the store alone (no events, no spans): 1.0.102's own-key rows have no AI-credit figure
    # (total_nano_aiu NULL) at a 0x request_multiplier, which tells them from plan rows
    store_only = tmp_path / "store-only"
    store_only.mkdir()
    for f in (home / ".copilot").glob("session-store.db*"):
        shutil.copy(f, store_only / f.name)
    data4 = _data(tmp_path, "data4")
    env4 = clean_env(tmp_path, COPILOT_HOME=store_only)
    assert import_json(data4, "copilot-cli", env=env4)["imported"] == 3
    assert _own_key(_rows(data4, env4)) == byok
    # the session's shutdown events alone (a store lost, an older Copilot): the resumed
    # session's second shutdown repeats the first's figures (running totals), so the session
    # adds up to the same tokens
    alone = tmp_path / "shutdowns-only"
    shutil.copytree(home / ".copilot" / "session-state", alone / "session-state")
    only = clean_env(tmp_path, COPILOT_HOME=alone)
    data2 = _data(tmp_path, "data2")
    assert import_json(data2, "copilot-cli", env=only)["unreadable"] == 0
    assert [sum(t) for t in zip(*(_tokens(r) for r in _rows(data2, only)))] == [sum(t) for t in zip(*_truth(answered))]
    # the shutdowns do not say own key (providerModelMetrics' provider is null, "unknown"); the
    # usage records before each do
    shut = _rows(data2, only)
    assert {(r["billing"], r["credits"]) for r in shut} == {("byok", 0)}
    assert sum(r["costUsd"] for r in shut) == pytest.approx(sum(_list_price(t) for t in _truth(answered)))
    _same_tokens_as_ccusage(data, env, "copilot")
    # the OTel file alone: the same requests, the cache writes out of input (ccusage 20.0.24
    # leaves them in: counted twice)
    spans_only = clean_env(tmp_path, COPILOT_HOME=tmp_path / "none", COPILOT_OTEL_FILE_EXPORTER_PATH=otel)
    data3 = _data(tmp_path, "data3")
    assert import_json(data3, "copilot-cli", env=spans_only)["imported"] == 3
    assert sorted(_tokens(r) for r in _rows(data3, spans_only)) == sorted(_truth(answered))
    # a span alone: github.copilot.cost 0 and no github.copilot.nano_aiu, as a store row
    assert {(r["billing"], r["credits"]) for r in _rows(data3, spans_only)} == {("byok", 0)}
    binary = ccusage_binary()
    if binary is not None:
        theirs = ccusage_daily(binary, "copilot", spans_only)
        api_input, writes = sum(t[0] for t in _truth(answered)), sum(t[3] for t in _truth(answered))
        assert sum(d["input"] for d in theirs.values()) == api_input + writes


# -- Kilo CLI -----------------------------------------------------------------------------------


def test_kilo_cli_messages_import_the_api_tokens(tmp_path, tmp_path_factory):
    # one `kilo run` whose answer calls a tool: two requests, two assistant messages
    steps = [{"tool": "kilo", "args": ["run", "read notes.txt"]}]
    replies = _replies("read", {"filePath": "notes.txt"})[:2]
    work, answered = _run(tmp_path_factory, "kilo", steps, replies)
    assert len(answered) == 2
    share = work / "home" / ".local" / "share"
    with sqlite3.connect(share / "kilo" / "kilo.db") as con:
        sessions = [r[0] for r in con.execute("SELECT id FROM session")]
    env = clean_env(tmp_path, KILO_DATA_DIR=share / "kilo")
    data = _data(tmp_path)
    res = import_json(data, "kilo", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (2, 0, 0)
    rows = _rows(data, env)
    assert [_tokens(r) for r in rows] == _truth(answered)
    assert {(r["model"], r["provider"], r["project"], r["session"], r["feature"]) for r in rows} == {
        (real_vendor_tools.KILO_MODEL, real_vendor_tools.KILO_PROVIDER, "project", sessions[0], "kilo")
    }
    # Kilo records $0 for a model it has no price for: priced from the table here
    assert all(r["costSource"] == "computed" and r["costUsd"] > 0 for r in rows)
    assert import_json(data, "kilo", env=env)["imported"] == 0
    _same_tokens_as_ccusage(data, env, "kilo")


# -- Factory Droid ------------------------------------------------------------------------------


def test_droid_sessions_import_the_api_tokens_under_the_custom_models_name(tmp_path, tmp_path_factory):
    # `droid exec` with a custom model (air-gapped: no Factory login): a tool call and the
    # answer after it, in one session; a second session in another folder
    model = ["--model", real_vendor_tools.DROID_MODEL_ID, "--auto", "low"]
    steps = [
        {"tool": "droid", "args": ["exec", *model, "read notes.txt"]},
        {"tool": "droid", "args": ["exec", *model, "hello"], "cwd": "other"},
    ]
    replies = _replies("Read", {"file_path": "notes.txt"})
    work, answered = _run(tmp_path_factory, "droid", steps, replies)
    assert len(answered) == 3
    sessions = work / "home" / ".factory" / "sessions"
    files = sorted(sessions.rglob("*.settings.json"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 2
    env = clean_env(tmp_path, DROID_SESSIONS_DIR=sessions)
    data = _data(tmp_path)
    res = import_json(data, "droid", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (2, 0, 0)
    rows = _rows(data, env)
    truth = _truth(answered)
    # a session's running totals: the first session is the first two requests
    assert [_tokens(r) for r in rows] == [tuple(map(sum, zip(*truth[:2]))), truth[2]]
    assert [(r["project"], r["session"]) for r in rows] == [
        ("project", files[0].name.removesuffix(".settings.json")),
        ("other", files[1].name.removesuffix(".settings.json")),
    ]
    # the model Droid names `custom:<display name>-<n>` is the custom model's own, priced
    assert {(r["model"], r["provider"]) for r in rows} == {(real_vendor_tools.DROID_MODEL, "anthropic")}
    assert all(r["costUsd"] > 0 for r in rows)
    assert import_json(data, "droid", env=env)["imported"] == 0
    _same_tokens_as_ccusage(data, env, "droid")


# -- OpenClaw -----------------------------------------------------------------------------------


def test_openclaw_database_transcripts_import_the_api_tokens(tmp_path, tmp_path_factory):
    # `openclaw agent --local`: a tool call and a long answer after it (over 1 KiB: OpenClaw
    # keeps that event zstd-compressed in its database)
    steps = [{"tool": "openclaw", "args": ["agent", "--local", "--session-id", "s-one", "--message", "read notes.txt",
                                           "--thinking", "off"]}]  # fmt: skip
    replies = _replies("read", {"path": "notes.txt"})[:2]
    replies[1].text = "A long answer. " * 120
    work, answered = _run(tmp_path_factory, "openclaw", steps, replies)
    assert len(answered) == 2
    home = work / "home" / ".openclaw"
    db = home / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    with sqlite3.connect(db) as con:
        packed = con.execute("SELECT count(*) FROM transcript_events WHERE event_zstd IS NOT NULL").fetchone()[0]
    assert packed and not list(home.rglob("*.jsonl"))  # no transcript files any more
    env = clean_env(tmp_path, OPENCLAW_DIR=home)
    data = _data(tmp_path)
    res = import_json(data, "openclaw", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (2, 0, 0)
    rows = _rows(data, env)
    assert [_tokens(r) for r in rows] == _truth(answered)
    assert {(r["model"], r["provider"], r["project"], r["session"]) for r in rows} == {
        (real_vendor_tools.OPENCLAW_MODEL, real_vendor_tools.KILO_PROVIDER, "main", "s-one")
    }
    assert import_json(data, "openclaw", env=env)["imported"] == 0
    binary = ccusage_binary()
    if binary is not None:  # ccusage 20.0.24 reads the database too, but not a compressed event
        theirs = ccusage_daily(binary, "openclaw", env)
        assert [sum(d[k] for d in theirs.values()) for k in ("input", "output")] == list(_truth(answered)[0][:2])


# -- Hermes Agent -------------------------------------------------------------------------------


def test_hermes_session_totals_import_the_api_tokens(tmp_path, tmp_path_factory):
    # `hermes chat -q`: a tool call and the answer after it, one session
    steps = [{"tool": "hermes", "args": ["chat", "-Q", "-q", "read notes.txt", "--provider", real_vendor_tools.KILO_PROVIDER,
                                         "-m", real_vendor_tools.HERMES_MODEL]}]  # fmt: skip
    replies = _replies("read_file", {"path": "notes.txt"})[:2]
    work, answered = _run(tmp_path_factory, "hermes", steps, replies)
    assert len(answered) == 2
    home = work / "home" / ".hermes"
    with sqlite3.connect(home / "state.db") as con:
        (session,) = [r[0] for r in con.execute("SELECT id FROM sessions")]
    env = clean_env(tmp_path, HERMES_HOME=home)
    data = _data(tmp_path)
    res = import_json(data, "hermes", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (1, 0, 0)
    rows = _rows(data, env)
    # the session's running totals: both requests, exactly the API's tokens, cache apart
    assert [_tokens(r) for r in rows] == [tuple(map(sum, zip(*_truth(answered))))]
    assert {(r["model"], r["project"], r["session"]) for r in rows} == {
        (real_vendor_tools.HERMES_MODEL, "project", session)
    }
    assert rows[0]["costUsd"] > 0  # Hermes recorded $0 for a model of one's own: priced here
    assert import_json(data, "hermes", env=env)["imported"] == 0
    _same_tokens_as_ccusage(data, env, "hermes")
