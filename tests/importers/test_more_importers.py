"""Cursor's and GitHub Copilot's CSV exports, Factory Droid's and Goose's running totals:
imported through the real CLI from the fixtures in tests/fixtures/logs/more (built from the
formats in docs/importers.md), every number checked by hand."""

from __future__ import annotations

import calendar
import json
import os
import shutil
import sqlite3
import time

import pytest
from ccusage_compare import (
    FIXTURES,
    TOOL_VARS,
    ccusage_binary,
    ccusage_daily,
    clean_env,
    import_json,
    usage_ls,
    write_config,
)

MORE = FIXTURES / "more"


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    write_config(d, 'timezone = "UTC"\n')
    return d


def _daily(data, env, start="2026-10-01", end="2026-11-30") -> dict:
    out = usage_ls(data, "report", "daily", "--from", start, "--to", end, "--json", env=env)
    return {
        d["date"]: (d["inputTokens"], d["outputTokens"], d["cacheReadTokens"], d["cacheWriteTokens"], d["costUsd"])
        for d in json.loads(out.stdout)["days"]
        if d["messages"]
    }


def _rows(data, env) -> list[dict]:
    out = usage_ls(data, "report", "interactions", "--from", "2026-10-01", "--to", "2026-11-30", "--limit", "100",
                   "--json", env=env)  # fmt: skip
    return sorted(json.loads(out.stdout)["rows"], key=lambda r: (r["timestamp"], r["model"]))


def _mtime(path, iso: str) -> None:
    t = calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))
    os.utime(path, (t, t))


# -- Cursor ---------------------------------------------------------------------------------


def test_cursor_exports_by_header_name_from_downloads(tmp_path, data):
    downloads = tmp_path / "home" / "Downloads"
    downloads.mkdir(parents=True)
    for p in (MORE / "cursor").iterdir():
        shutil.copy(p, downloads / p.name)
    (downloads / "bank-statement.csv").write_text("Date,Amount\n2026-11-02,12.00\n")  # not Cursor's
    env = clean_env(tmp_path)
    res = import_json(data, "cursor", env=env)
    # 6 + 3 rows; export 2 repeats two of export 1's rows (reordered columns): 7 events, the
    # two identical events of 11-03 12:00 both kept
    assert (res["tools"][0]["files"], res["imported"], res["duplicates"], res["unreadable"]) == (2, 7, 2, 0)
    # by hand (claude-sonnet-4-5: $3 in / $15 out / $3.75 cache write per M; gpt-5: $1.25 / $10):
    # 11-02 sonnet row: Total 42300 = with 1500 + read 40000 + out 800, so with includes
    #   without: in 1200, cache write 300, reported $0.19; gpt-5 row: Total 4200 = 0 + 3000 +
    #   0 + 1200 (separate buckets): in 3000, out 1200, reported $0.05
    # 11-03 no-charge sonnet 500 in ($0); auto 2000 in / 300 out / 10000 read (unpriced:
    #   null, not 0); twice sonnet with=2000 without=500 total 2600 = 2000+500+100:
    #   separate, in 500 / write 2000 / out 100 = 0.0015 + 0.0075 + 0.0015 = 0.0105 each
    # 11-05 gpt-5 "Free": plan quota, priced: 1000 x 1.25e-6 + 200 x 10e-6 = 0.00325
    days = _daily(data, env)
    assert days["2026-11-02"] == (4200, 2000, 40000, 300, pytest.approx(0.24))
    assert days["2026-11-03"] == (3500, 500, 10000, 4000, pytest.approx(0.021))
    assert days["2026-11-05"] == (1000, 200, 0, 0, pytest.approx(0.00325))
    rows = _rows(data, env)
    auto = next(r for r in rows if r["model"] == "auto")
    assert (auto["costUsd"], auto["costSource"]) == (None, "unpriced")
    assert {r["user"] for r in rows} == {"dev@example.com"} and {r["feature"] for r in rows} == {"cursor"}
    assert import_json(data, "cursor", env=env)["imported"] == 0  # nothing twice


def test_cursor_file_without_a_required_column_names_it(tmp_path, data):
    bad = tmp_path / "export.csv"
    bad.write_text("Date,Kind,Input (w/o Cache Write),Output Tokens\n2026-11-02T09:00:00Z,Included,10,20\n")
    out = usage_ls(data, "import", "cursor", str(bad), env=clean_env(tmp_path))
    assert "the required column 'Model' is missing" in out.stdout
    assert "'Date', 'Kind', 'Input (w/o Cache Write)', 'Output Tokens'" in out.stdout


# -- GitHub Copilot usage report ----------------------------------------------------------------


def test_copilot_report_rows_per_user_model_day_and_a_day_that_grew(tmp_path, data):
    env = clean_env(tmp_path)
    src = MORE / "copilot-report"
    first = import_json(data, "copilot-report", src / "premium-requests-2026-11-03.csv", env=env)
    assert (first["imported"], first["unreadable"]) == (4, 0)  # the Actions minutes row is not AI usage
    # downloaded two days later: 11-03 had grown from 3 to 7 requests, 11-02 is the same
    second = import_json(data, "copilot-report", src / "ai-credits-2026-11-05.csv", env=env)
    assert (second["imported"], second["duplicates"]) == (2, 1)
    old = import_json(data, "copilot-report", src / "premium-request-analytics-2026-10.csv", env=env)
    assert old["imported"] == 2  # GPT-4.1's 0 requests record nothing
    rows = _rows(data, env)
    got = sorted((r["timestamp"][:10], r.get("user"), r["model"], r["costUsd"], r["credits"]) for r in rows)
    assert got == [
        ("2026-10-30", "octocat", "Claude Sonnet 4.5", 0.04, 4.0),  # 1 request x $0.04
        ("2026-10-31", "octocat", "Claude Opus 4.5", 0.4, 40.0),
        ("2026-11-01", "octocat", "Claude Sonnet 4.5", 0.48, 48.0),  # gross_amount
        ("2026-11-02", "hubot", "Claude Opus 4.5", 0.1, 10.0),
        ("2026-11-02", "octocat", "GPT-5", 0.2, 20.0),
        ("2026-11-03", "octocat", "Claude Sonnet 4.5", 0.12, 12.0),  # the first download's 3
        ("2026-11-03", "octocat", "Claude Sonnet 4.5", 0.16, 16.0),  # the day's growth: 0.28 - 0.12
        ("2026-11-04", "octocat", "claude-sonnet-4.5", 1.5, 150.0),  # 150 AI Credits
    ]
    assert {r["billing"] for r in rows} == {"premium"}
    credits_day = next(r for r in rows if r["timestamp"].startswith("2026-11-04"))
    assert (credits_day["inputTokens"], credits_day["outputTokens"]) == (120000, 8000)
    assert (credits_day["cacheReadTokens"], credits_day["cacheWriteTokens"], credits_day["project"]) == (
        900000,
        30000,
        "web",
    )
    assert _daily(data, env)["2026-11-03"][4] == pytest.approx(0.28)
    again = import_json(data, "copilot-report", src, env=env)
    assert again["imported"] == 0


# -- Factory Droid ------------------------------------------------------------------------------


def test_droid_running_totals_are_booked_on_the_days_they_grew(tmp_path, data):
    sessions = tmp_path / "factory" / "sessions"
    shutil.copytree(MORE / "droid", sessions)
    main = sessions / "-home-dev-proj-widget" / "0b6f1c2e-5a1d-4c3e-9f00-00000000d001.settings.json"
    copy = sessions / "-home-dev-proj-widget-copy" / main.name
    glm = sessions / "-home-dev-proj-widget" / "7d2a0c11-0000-4000-8000-00000000d002.settings.json"
    _mtime(main, "2026-11-02T18:00:00Z")
    _mtime(copy, "2026-11-02T12:00:00Z")
    _mtime(glm, "2026-11-03T10:30:00Z")
    env = clean_env(tmp_path, DROID_SESSIONS_DIR=sessions)
    res = import_json(data, "droid", env=env)
    # the copy of session d001 (written at 12:00) holds lower totals: an earlier snapshot of
    # the same session, and the 18:00 one adds only what it has more: one session, not two
    assert (res["imported"], res["duplicates"]) == (3, 0)
    # the session goes on the next day: Droid rewrites its totals
    doc = json.loads(main.read_text())
    doc["tokenUsage"].update(inputTokens=15000, outputTokens=4000, cacheReadTokens=330000, thinkingTokens=900)
    main.write_text(json.dumps(doc))
    _mtime(main, "2026-11-03T09:00:00Z")
    assert import_json(data, "droid", env=env)["imported"] == 1
    days = _daily(data, env)
    # 11-02: d001's final totals, not those plus the copy's: in 12000, out 3400 + 600
    # thinking, read 250000, write 20000. claude-sonnet-4.5 at $3 / $15 / $0.30 / $3.75 per M:
    # the copy 9000 / 2100 / 150000 / 20000 = 0.027 + 0.0315 + 0.045 + 0.075 = 0.1785, then
    # the rest 3000 / 1900 / 100000 / 0 = 0.009 + 0.0285 + 0.03 = 0.0675
    assert days["2026-11-02"] == (12000, 4000, 250000, 20000, pytest.approx(0.246))
    # 11-03: d001's growth (3000 in, 600 + 300 out, 80000 read) + the GLM session (5000 in,
    # 700 out, 40000 read; glm-4.6 from its `custom:GLM-4.6-[Fireworks]`)
    assert days["2026-11-03"][:4] == (3000 + 5000, 900 + 700, 80000 + 40000, 0)
    rows = _rows(data, env)
    assert {(r["model"], r["project"]) for r in rows} == {
        ("claude-sonnet-4.5", "(no project)"),  # the copy's folder has no messages naming a cwd
        ("claude-sonnet-4.5", "widget"),
        ("glm-4.6", "widget"),  # from the other session's messages in its folder
    }
    assert all(r["costSource"] == "computed" for r in rows)


# -- Goose ----------------------------------------------------------------------------------------


def _goose_db(root):
    root.mkdir(parents=True)
    con = sqlite3.connect(root / "sessions.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript((MORE / "goose" / "sessions.sql").read_text())
    con.commit()
    return con


def test_goose_sessions_read_only_while_goose_writes(tmp_path, data):
    goose = _goose_db(tmp_path / "goose" / "data" / "sessions")
    env = clean_env(tmp_path, GOOSE_PATH_ROOT=tmp_path / "goose")
    try:
        # goose is writing: an open transaction, not committed, must not be read
        goose.execute("BEGIN IMMEDIATE")
        goose.execute("UPDATE sessions SET accumulated_input_tokens = 999999 WHERE id = '20261102_1'")
        res = import_json(data, "goose", env=env)
        assert (res["imported"], res["unreadable"]) == (2, 0)
        goose.rollback()
        days = _daily(data, env)
        # 20261102_1: totals 100000 in / 5000 out / 108000 total: 3000 more than in + out is
        # reasoning, output 8000: 0.30 + 0.12 = $0.42 (not the last request's 9000 / 600)
        assert days["2026-11-02"] == (100000, 8000, 0, 0, pytest.approx(0.42))
        # 20261103_1, created 11-03 23:50, last updated 11-04 00:20 UTC: booked on 11-04
        assert days["2026-11-04"] == (2000, 300, 0, 0, pytest.approx(0.0055))
        # the session goes on the next day (written to the WAL while goose keeps it open)
        goose.execute(
            "UPDATE sessions SET accumulated_input_tokens = 150000, accumulated_output_tokens = 7000,"
            " accumulated_total_tokens = 160000, updated_at = '2026-11-03 10:00:00' WHERE id = '20261102_1'"
        )
        goose.commit()
        assert import_json(data, "goose", env=env)["imported"] == 1
        # growth: 50000 in, (7000 + 3000) - 8000 = 2000 out
        assert _daily(data, env)["2026-11-03"] == (50000, 2000, 0, 0, pytest.approx(0.18))
        assert import_json(data, "goose", env=env)["imported"] == 0
    finally:
        goose.close()
    assert {r["project"] for r in _rows(data, env)} == {"widget", "gadget"}


# -- found and watched --------------------------------------------------------------------------


def test_auto_watch_finds_droid_and_goose_and_follows_a_goose_session(tmp_path, monkeypatch):
    from usage_ls.importers import backfill, live
    from usage_ls.service import Usage

    home = tmp_path / "home"
    for key in (*TOOL_VARS, "USAGE_LS_WATCH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    shutil.copytree(MORE / "droid", home / ".factory" / "sessions")
    for p in (home / ".factory").rglob("*.json"):
        p.touch()  # written just now: hot
    (home / "Downloads").mkdir()
    goose = _goose_db(home / ".local" / "share" / "goose" / "sessions")
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n[import]\nwatch = "auto"\n')
    svc = Usage(data_dir=data).open()
    try:
        assert backfill.detect(live.Importer(svc=svc)) == ["droid", "goose"]  # not the CSV exports
        watcher = live.attach(svc)
        assert sorted(w.name for w in watcher.watches) == ["droid", "goose"]
        assert watcher.poll() is True  # files written just now: read
        goose.execute(
            "UPDATE sessions SET accumulated_input_tokens = 150000, accumulated_output_tokens = 7000,"
            " accumulated_total_tokens = 160000, updated_at = '2026-11-03 10:00:00' WHERE id = '20261102_1'"
        )
        goose.commit()  # goose keeps its connection: the write is in sessions.db-wal
        got, deadline = False, time.monotonic() + 5.0
        while not got and time.monotonic() < deadline:
            got = watcher.poll()
            time.sleep(0.25)
        assert got
    finally:
        goose.close()
        svc.close()
    env = clean_env(tmp_path)
    assert _daily(data, env)["2026-11-03"] == (50000, 2000, 0, 0, pytest.approx(0.18))  # goose's growth
    everything = usage_ls(data, "report", "interactions", "--from", "2026-01-01", "--to", "2027-12-31",
                          "--limit", "100", "--json", env=env)  # fmt: skip
    features = [r["feature"] for r in json.loads(everything.stdout)["rows"]]
    assert features.count("goose") == 3 and "droid" in features  # both watched from the start


def test_import_help_lists_every_tool(tmp_path):
    from usage_ls.importers import TOOL_NAMES

    out = usage_ls(tmp_path / "d", "import", "--help").stdout
    for name in TOOL_NAMES:
        assert name in out


# -- Qwen Code ------------------------------------------------------------------------------------


@pytest.fixture
def ccusage():
    binary = ccusage_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("ccusage is not installed (scripts/setup.d/40-ccusage.sh); the comparison must run in CI")
        pytest.skip("ccusage not installed: run scripts/setup.d/40-ccusage.sh")
    return binary


def test_qwen_chat_log_topped_up_from_its_usage_record_where_ccusage_miscounts(tmp_path, data, ccusage):
    qwen = tmp_path / "qwen"
    shutil.copytree(MORE / "qwen", qwen)
    env = clean_env(tmp_path, QWEN_DATA_DIR=qwen)
    res = import_json(data, "qwen", env=env)
    assert (res["imported"], res["unreadable"]) == (4, 0)  # 3 responses (one api_response event) + 1 top-up
    days = _daily(data, env)
    # session A's chat log: 12000 prompt (8000 cached) / 400 + 100 thoughts, then 15000 (12000
    # cached) / 300: input 4000 + 3000, cache reads 8000 + 12000, output 500 + 300. Its usage
    # record counts 4 requests: 55000 prompt (40000 cached) / 810 + 100 thoughts, so the two
    # calls the chat log missed add 8000 in / 20000 cached / 110 out at 10:06.
    # qwen3-coder-plus has no price in genai-prices 0.2.5 (docs/pricing.md): null, not $0
    assert days["2026-11-02"] == (15000, 910, 40000, 0, None)
    # session B's microsecond timestamp (23:59:59.123456) is read, on its own day
    assert days["2026-11-03"] == (2000, 100, 0, 0, None)
    # ccusage: cached tokens counted twice (input 27000 = 7000 + 20000), the missed calls and
    # thoughts left out, and session B moved to the file's modification day
    theirs = ccusage_daily(ccusage, "qwen", env)
    assert (theirs["2026-11-02"]["input"], theirs["2026-11-02"]["output"]) == (27000, 700)
    assert "2026-11-03" not in theirs
    # more lines later: the usage record line of a resumed session, a new response in B
    with open(qwen / "usage_record.jsonl", "a") as f:
        f.write(json.dumps({"version": 1, "sessionId": "5c0f3a52-8d0e-4f7a-9b61-0000000a0001",
                            "timestamp": 1793623560000, "models": {"qwen3-coder-plus": {
                                "requests": 4, "inputTokens": 55000, "outputTokens": 810,
                                "cachedTokens": 40000, "thoughtsTokens": 100}}}) + "\n")  # fmt: skip
    assert import_json(data, "qwen", env=env)["imported"] == 0  # the same totals: nothing new
    assert import_json(data, "qwen", env=env)["imported"] == 0


# -- Kimi CLI -----------------------------------------------------------------------------------


def test_kimi_wire_logs_count_a_subagent_step_once_and_match_ccusage(tmp_path, data, ccusage):
    kimi = tmp_path / "kimi"
    shutil.copytree(MORE / "kimi", kimi)
    env = clean_env(tmp_path, KIMI_SHARE_DIR=kimi, KIMI_DATA_DIR=kimi)
    res = import_json(data, "kimi", env=env)
    # 3 steps of the main agent and the subagent's step, written in its own log and wrapped in
    # its parent's: one record, one duplicate
    assert (res["imported"], res["duplicates"], res["unreadable"]) == (4, 1, 0)
    days = _daily(data, env)
    # 1200 + 500 + 800 in, 300 + 100 + 200 out, 8000 + 2000 + 9000 read, 1000 written; the
    # plan's `kimi-for-coding` after 2026-04-20 is kimi-k2.6: $0.95 in and cache write, $4 out,
    # $0.16 cache read per M: 0.002375 + 0.0024 + 0.00304 + 0.00095
    assert days["2026-11-02"] == (2500, 600, 19000, 1000, pytest.approx(0.008765))
    assert days["2026-11-03"] == (100, 50, 0, 0, pytest.approx(0.000295))
    theirs = ccusage_daily(ccusage, "kimi", env)
    ours = {d: {"input": v[0], "output": v[1], "cacheRead": v[2], "cacheWrite": v[3]} for d, v in days.items()}
    assert ours == {d: {k: v[k] for k in ("input", "output", "cacheRead", "cacheWrite")} for d, v in theirs.items()}
    rows = _rows(data, env)
    assert {(r["model"], r["project"]) for r in rows} == {("kimi-k2.6", "widget")}


# -- pi and OpenClaw ------------------------------------------------------------------------------


def test_pi_sessions_where_ccusage_trusts_a_zero_cost_and_drops_microseconds(tmp_path, data, ccusage):
    sessions = tmp_path / "pi" / "sessions"
    shutil.copytree(MORE / "pi" / "sessions", sessions)
    env = clean_env(tmp_path, PI_AGENT_DIR=sessions)
    res = import_json(data, "pi", env=env)
    assert (res["imported"], res["duplicates"]) == (4, 1)  # the branch repeats its first answer
    days = _daily(data, env)
    # 11-02: 100 in / 200 out at pi's recorded $0.0033, and 1000 / 500 / 20000 read / 3000
    # written that pi recorded as $0 (it could not price it): claude-sonnet-4-5 prices it at
    # 0.003 + 0.0075 + 0.006 + 0.01125 = 0.02775
    assert days["2026-11-02"] == (1100, 700, 20000, 3000, pytest.approx(0.0033 + 0.02775))
    # 11-03: a line whose only time is `2026-11-03T23:59:59.654321Z` (microseconds)
    assert days["2026-11-03"] == (50, 60, 1000, 0, pytest.approx(0.00126))
    # 11-04: gpt-5.2 recorded as $0: 2000 x $1.75/M + 100 x $14/M
    assert days["2026-11-04"] == (2000, 100, 0, 0, pytest.approx(0.0049))
    theirs = ccusage_daily(ccusage, "pi", env)
    # ccusage: the branch's copy counted again, the microsecond line dropped, the zeros trusted
    assert (theirs["2026-11-02"]["input"], theirs["2026-11-02"]["cost"]) == (1200, pytest.approx(0.0066))
    assert "2026-11-03" not in theirs and theirs["2026-11-04"]["cost"] == 0
    assert {r["project"] for r in _rows(data, env)} == {"widget"}


def test_openclaw_transcripts_archived_and_renamed_count_once(tmp_path, data, ccusage):
    root = tmp_path / "openclaw"
    shutil.copytree(MORE / "openclaw", root)
    env = clean_env(tmp_path, OPENCLAW_DIR=root)
    res = import_json(data, "openclaw", env=env)
    assert (res["imported"], res["unreadable"]) == (3, 0)  # the .bak copy is never read
    days = _daily(data, env)
    # 11-02 (a `/new`-archived .reset transcript): gpt-5.2 from the model_change, recorded
    # $0.02; then claude-sonnet-4-5 from the model snapshot, recorded $0: 300 x 3 + 120 x 15 +
    # 5000 x 0.3 + 1000 x 3.75 per M = 0.00795
    assert days["2026-11-02"] == (1960, 175, 113928, 1000, pytest.approx(0.02795))
    assert days["2026-11-03"] == (800, 40, 50000, 0, pytest.approx(0.012))
    theirs = ccusage_daily(ccusage, "openclaw", env)
    ours = {d: {"input": v[0], "output": v[1], "cacheRead": v[2], "cacheWrite": v[3]} for d, v in days.items()}
    assert ours == {d: {k: v[k] for k in ("input", "output", "cacheRead", "cacheWrite")} for d, v in theirs.items()}
    # `/new` archives the live transcript after it was imported: nothing twice
    live = next((root / "agents" / "main" / "sessions").glob("*.jsonl"))
    live.rename(live.with_name(live.name + ".reset.2026-11-03T09-00-00.000Z"))
    again = import_json(data, "openclaw", env=env)
    assert (again["imported"], again["duplicates"]) == (0, 1)
    rows = _rows(data, env)
    assert {(r["model"], r["project"]) for r in rows} == {("gpt-5.2", "main"), ("claude-sonnet-4-5", "main")}


# -- Hermes ---------------------------------------------------------------------------------------


def test_hermes_0_19_sessions_are_booked_under_their_working_directory(tmp_path, data):
    # hermes-agent 0.19.0 (hermes_state.py) keeps the session's `cwd`; older databases none
    home = tmp_path / "hermes"
    home.mkdir()
    with sqlite3.connect(home / "state.db") as con:
        con.executescript((MORE / "hermes" / "state.sql").read_text())
        con.execute("ALTER TABLE sessions ADD COLUMN cwd TEXT")
        con.execute("UPDATE sessions SET cwd = '/home/dev/proj/widget' WHERE id = 'session-1'")
    con.close()
    env = clean_env(tmp_path, HERMES_HOME=home)
    assert import_json(data, "hermes", env=env)["imported"] == 4
    out = usage_ls(data, "report", "interactions", "--from", "2025-01-01", "--to", "2026-12-31", "--json", env=env)
    projects = {(r["session"], r["project"]) for r in json.loads(out.stdout)["rows"]}
    assert projects == {("session-1", "widget"), ("20261102_090000_ab12", "(no project)"), ("tg-77", "(no project)")}


def test_hermes_per_day_rows_book_a_session_day_by_day(tmp_path, data, ccusage):
    home = tmp_path / "hermes"
    home.mkdir()
    con = sqlite3.connect(home / "state.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript((MORE / "hermes" / "state.sql").read_text())
    con.commit()
    env = clean_env(tmp_path, HERMES_HOME=home)
    try:
        assert import_json(data, "hermes", env=env)["imported"] == 4
        days = _daily(data, env, start="2025-06-01")
        # the old session (no day rows): its actual cost $0.34 wins over the estimate, on the
        # day it ended; output 300 (its 10 reasoning tokens taken as part of it)
        assert days["2025-06-15"] == (1200, 300, 50, 20, pytest.approx(0.34))
        # the subscription session's day rows, recorded $0 so priced (claude-sonnet-4-5 $3 /
        # $15 / $0.30 / $3.75 per M): 0.06 + 0.045 + 0.045 + 0.05625 on 11-02
        assert days["2026-11-02"] == (20000, 3000, 150000, 15000, pytest.approx(0.20625))
        # 11-03: its second day (0.03 + 0.015 + 0.03 + 0.01875) + the Telegram session's $0.01
        assert days["2026-11-03"] == (14000, 1500, 100000, 5000, pytest.approx(0.09375 + 0.01))
        # ccusage books the whole subscription session on the day it started
        theirs = ccusage_daily(ccusage, "hermes", env)
        assert (theirs["2026-11-02"]["input"], theirs["2026-11-03"]["input"]) == (30000, 4000)
        # the session goes on on 11-03 (Hermes adds to the day row while it keeps the db open)
        con.execute(
            "UPDATE session_daily_usage SET input_tokens = input_tokens + 2000, output_tokens = output_tokens + 100"
            " WHERE session_id = '20261102_090000_ab12' AND day = '2026-11-03'"
        )
        con.commit()
        assert import_json(data, "hermes", env=env)["imported"] == 1
        assert _daily(data, env)["2026-11-03"][:2] == (16000, 1600)
        assert import_json(data, "hermes", env=env)["imported"] == 0
    finally:
        con.close()


# -- Amp ------------------------------------------------------------------------------------------


def test_amp_threads_both_schemas_where_ccusage_drops_lines(tmp_path, data, ccusage):
    env = clean_env(tmp_path, AMP_DATA_DIR=MORE / "amp")
    assert import_json(data, "amp", env=env)["imported"] == 4
    days = _daily(data, env)
    # 11-02, messages' usage: 10 + 8 in, 986 + 420 out, 11372 + 500 written, 11372 read; the
    # second answer's time has microseconds. claude-sonnet-4-5: 0.057465 + 0.0116106
    assert days["2026-11-02"] == (18, 1406, 11372, 11872, pytest.approx(0.0690756))
    # 11-03: a legacy ledger event (120 / 300, cache from its message: 2000 written, 9000 read;
    # claude-sonnet-4: 0.01506) and a thread whose ledger is empty, read from its messages
    # (gpt-5 3000 / 700: 0.01075)
    assert days["2026-11-03"] == (3120, 1000, 9000, 2000, pytest.approx(0.02581))
    theirs = ccusage_daily(ccusage, "amp", env)
    # ccusage drops the microsecond line and reads nothing from the empty-ledger thread
    assert (theirs["2026-11-02"]["output"], theirs["2026-11-03"]["input"]) == (986, 120)
    assert import_json(data, "amp", env=env)["imported"] == 0


# -- Codebuff -------------------------------------------------------------------------------------


def test_codebuff_chats_with_cached_tokens_out_of_an_openai_prompt(tmp_path, data, ccusage):
    root = MORE / "codebuff" / "manicode"
    env = clean_env(tmp_path, CODEBUFF_DATA_DIR=root)
    assert import_json(data, "codebuff", env=env)["imported"] == 3
    days = _daily(data, env)
    # 11-02: ccusage's own fixture message (claude-sonnet-4: 0.001128) and an OpenAI-shaped one:
    # prompt_tokens 5000 of which 4000 cached -> 1000 in, 4000 read (gpt-5: 0.00125 + 0.002 +
    # 0.0005)
    assert days["2026-11-02"] == (1100, 250, 4010, 20, pytest.approx(0.004878))
    # 11-03: usage only in the run state's last assistant entry, dated by the chat id
    assert days["2026-11-03"] == (300, 40, 2000, 0, pytest.approx(0.0021))
    theirs = ccusage_daily(ccusage, "codebuff", env)
    assert theirs["2026-11-02"]["input"] == 5100  # the 4000 cached tokens counted twice
    rows = _rows(data, env)
    assert {(r["project"], r["session"].split("/")[0]) for r in rows} == {("widget", "manicode")}


# -- Kilo CLI -------------------------------------------------------------------------------------


def test_kilo_cli_database_in_opencodes_format(tmp_path, data, ccusage):
    root = tmp_path / "kilo"
    root.mkdir()
    con = sqlite3.connect(root / "kilo.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT, time_created INTEGER, data TEXT)")
    msgs = [
        ("msg_k1", "ses_k", {"role": "user", "time": {"created": 1793613600000}}),
        ("msg_k2", "ses_k", {"role": "assistant", "modelID": "claude-sonnet-4-5", "providerID": "anthropic",
                             "cost": 0, "time": {"created": 1793613605000, "completed": 1793613609000},
                             "tokens": {"input": 1200, "output": 300, "reasoning": 0, "cache": {"read": 40000, "write": 800}},
                             "path": {"cwd": "/home/dev/proj/widget", "root": "/home/dev/proj/widget"}}),
        ("msg_k3", "ses_k", {"role": "assistant", "modelID": "gpt-5", "providerID": "openai", "cost": 0.0123,
                             "time": {"created": 1793700000000, "completed": 1793700004000},
                             "tokens": {"input": 2000, "output": 500, "reasoning": 0, "cache": {"read": 0, "write": 0}},
                             "path": {"cwd": "/home/dev/proj/widget", "root": "/home/dev/proj/widget"}}),
    ]  # fmt: skip
    for mid, sid, doc in msgs:
        con.execute("INSERT INTO message VALUES (?, ?, ?, ?)", (mid, sid, doc["time"]["created"], json.dumps(doc)))
    con.commit()
    env = clean_env(tmp_path, KILO_DATA_DIR=root)
    try:
        assert import_json(data, "kilo", env=env)["imported"] == 2
    finally:
        con.close()
    days = _daily(data, env)
    # claude-sonnet-4-5, recorded $0 so priced: 0.0036 + 0.0045 + 0.012 + 0.003
    assert days["2026-11-02"] == (1200, 300, 40000, 800, pytest.approx(0.0231))
    assert days["2026-11-03"] == (2000, 500, 0, 0, pytest.approx(0.0123))  # recorded cost
    theirs = ccusage_daily(ccusage, "kilo", env)
    ours = {d: {"input": v[0], "output": v[1], "cacheRead": v[2], "cacheWrite": v[3]} for d, v in days.items()}
    assert ours == {d: {k: v[k] for k in ("input", "output", "cacheRead", "cacheWrite")} for d, v in theirs.items()}
    assert {r["feature"] for r in _rows(data, env)} == {"kilo"}


# -- Copilot CLI ----------------------------------------------------------------------------------


def test_copilot_cli_per_request_sources_first_then_session_shutdowns(tmp_path, data, ccusage):
    home = tmp_path / "home" / ".copilot"
    shutil.copytree(MORE / "copilot-cli", home, ignore=shutil.ignore_patterns("*.sql"))
    con = sqlite3.connect(home / "session-store.db")
    con.executescript((MORE / "copilot-cli" / "session-store.sql").read_text())
    con.commit()
    con.close()
    env = clean_env(tmp_path, COPILOT_HOME=home)
    res = import_json(data, "copilot-cli", env=env)
    # 2 store rows, 2 chat spans (the inference log of span 1's trace is the same request), and
    # 4 shutdowns of the two sessions no per-request source covers; session 1's shutdown is not
    # read: its store rows count it
    assert (res["imported"], res["unreadable"]) == (8, 0)
    days = _daily(data, env)
    # 11-02, the store: input 25000 - 20000 read - 3000 written and 30000 - 28000 read; the
    # first turn recorded 5e9 nano AI units = $0.05, the second is priced (claude-sonnet-4.5:
    # 0.006 + 0.009 + 0.0084)
    assert days["2026-11-02"] == (4000, 1000, 48000, 3000, pytest.approx(0.05 + 0.0234))
    # 11-03: the spans (19452 - 123 cache reads - 25 cache writes = 19304 in: Copilot CLI
    # 1.0.102's span input counts both; gpt-5 1000 / 100) and the first shutdown of sessions 3
    # (10000 - 6000 read = 4000 in, 500 out) and 4 (8000 / 400)
    assert days["2026-11-03"][:4] == (19304 + 1000 + 4000 + 8000, 281 + 100 + 500 + 400, 123 + 6000, 25)
    # 11-04: session 3's figures grew (running totals: +2000 in, +3000 read, +300 out);
    # session 4's second shutdown is lower than its first, so it is a segment: +3000 / +100
    assert days["2026-11-04"][:4] == (2000 + 3000, 300 + 100, 3000, 0)
    theirs = ccusage_daily(ccusage, "copilot", env)
    # same tokens as ccusage on 11-02 and 11-03, but for the span's cache writes, which ccusage
    # leaves in input (counting them twice); on 11-04 ccusage drops session 4's segment
    for day, writes in (("2026-11-02", 0), ("2026-11-03", 25)):
        assert (theirs[day]["input"] - writes, theirs[day]["output"], theirs[day]["cacheRead"]) == days[day][:3]
    assert theirs["2026-11-04"]["input"] == 2000
    rows = _rows(data, env)
    assert {r["billing"] for r in rows} == {"premium"}
    assert {r["project"] for r in rows} == {"widget", "gadget", "(no project)"}
    assert import_json(data, "copilot-cli", env=env)["imported"] == 0


def test_auto_watch_detects_each_new_tool_at_its_default_place(tmp_path, monkeypatch):
    from usage_ls.importers import Importer, backfill

    home = tmp_path / "home"
    for key in (*TOOL_VARS, "USAGE_LS_WATCH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(home))
    places = {
        "droid": ".factory/sessions",
        "goose": ".local/share/goose/sessions",
        "qwen": ".qwen/projects",
        "kimi": ".kimi/sessions",
        "pi": ".pi/agent/sessions",
        "openclaw": ".openclaw",
        "hermes": ".hermes/state.db",
        "amp": ".local/share/amp/threads",
        "codebuff": ".config/manicode",
        "kilo": ".local/share/kilo",
        "copilot-cli": ".copilot/session-state",
        "cursor": "Downloads",  # a browser's folder: exports are imported by hand, not watched
    }
    for place in places.values():
        (home / place).mkdir(parents=True)
    (home / ".hermes" / "state.db").rmdir()
    (home / ".hermes" / "state.db").write_bytes(b"")  # Hermes' database, not its whole home
    write_config(tmp_path / "data", 'timezone = "UTC"\n')
    found = backfill.detect(Importer(tmp_path / "data"))
    assert sorted(found) == sorted(set(places) - {"cursor"})


def test_watcher_follows_qwens_usage_record_file(tmp_path, monkeypatch):
    from usage_ls.importers import live
    from usage_ls.service import Usage

    qwen = tmp_path / "qwen"
    shutil.copytree(MORE / "qwen", qwen)
    record = qwen / "usage_record.jsonl"
    line = record.read_text()
    record.write_text("")  # session A has not ended yet
    for p in qwen.rglob("*.jsonl"):
        p.touch()
    for key in (*TOOL_VARS, "USAGE_LS_WATCH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("QWEN_DATA_DIR", str(qwen))
    data = tmp_path / "data"
    write_config(data, 'timezone = "UTC"\n[import]\nwatch = ["qwen"]\n')
    svc = Usage(data_dir=data).open()
    try:
        watcher = live.attach(svc)
        assert watcher.poll() is True  # the chat logs
        with open(record, "a") as f:
            f.write(line)  # the session ends: Qwen writes its usage record
        got, deadline = False, time.monotonic() + 5.0
        while not got and time.monotonic() < deadline:
            got = watcher.poll()
            time.sleep(0.25)
        assert got
    finally:
        svc.close()
    days = _daily(data, clean_env(tmp_path))
    assert days["2026-11-02"][:3] == (15000, 910, 40000)  # with the top-up of the calls the log missed


def _copilot_span(span: str, session: str, inp: int, out: int, read: int, written: int) -> str:
    """A chat span as Copilot CLI 1.0.102 writes it (its input counts both cache buckets)."""
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.response.model": "claude-sonnet-4.5",
             "gen_ai.conversation.id": session, "gen_ai.usage.input_tokens": inp, "gen_ai.usage.output_tokens": out,
             "gen_ai.usage.cache_read.input_tokens": read, "gen_ai.usage.cache_write.input_tokens": written}  # fmt: skip
    span = {"type": "span", "traceId": "t-" + span, "spanId": span, "endTime": [1793613605, 0], "attributes": attrs}
    return json.dumps(span) + "\n"


def test_copilot_cli_a_request_in_the_store_and_the_otel_file_counts_once(tmp_path, data):
    # Copilot CLI records every request in its store, and in the OTel file too where the user
    # turned that on: the store's session is read from the store only, whichever comes first
    home = tmp_path / "home" / ".copilot"
    shutil.copytree(MORE / "copilot-cli", home, ignore=shutil.ignore_patterns("*.sql"))
    otel = tmp_path / "traces" / "copilot.jsonl"
    otel.parent.mkdir()
    session = "c0b11070-0000-4000-8000-000000000001"
    otel.write_text(_copilot_span("s1", session, 25000, 400, 20000, 3000))
    env = clean_env(tmp_path, COPILOT_HOME=home, COPILOT_OTEL_FILE_EXPORTER_PATH=otel)
    # the same request in both: counted once, from the store
    con = sqlite3.connect(home / "session-store.db")
    con.executescript((MORE / "copilot-cli" / "session-store.sql").read_text())
    con.commit()
    con.close()
    assert import_json(data, "copilot-cli", env=env)["imported"] == 8  # as without the OTel file
    with open(otel, "a") as f:  # the next request: its span after the store was read
        f.write(_copilot_span("s2", session, 30000, 600, 28000, 0))
    assert import_json(data, "copilot-cli", env=env)["imported"] == 0
    assert _daily(data, env)["2026-11-02"][:4] == (4000, 1000, 48000, 3000)


def _copilot_home(tmp_path, fixture: str, *, store_only: bool = False):
    """A Copilot home from a fixture folder, its store built from the fixture's SQL."""
    home = tmp_path / "home" / ".copilot"
    skip = ("*.sql", "session-state", "otel") if store_only else ("*.sql",)
    shutil.copytree(MORE / fixture, home, ignore=shutil.ignore_patterns(*skip))
    con = sqlite3.connect(home / "session-store.db")
    con.executescript((MORE / fixture / "session-store.sql").read_text())
    con.commit()
    con.close()
    return home


def _billed(row: dict) -> tuple:
    return (row["billing"], row["model"], row["inputTokens"], row["outputTokens"], row["cacheReadTokens"],
            row["cacheWriteTokens"])  # fmt: skip


def test_copilot_cli_a_request_made_with_the_users_own_key_is_byok(tmp_path, data):
    # Copilot CLI on the plan and with the user's own key (bring-your-own-key) in the same
    # sessions: each request's `session.usage_record` says which (`isByok`); the own-key ones
    # cost dollars at the provider's list price and no Copilot credits
    home = _copilot_home(tmp_path, "copilot-cli-byok")
    env = clean_env(tmp_path, COPILOT_HOME=home, COPILOT_OTEL_FILE_EXPORTER_PATH=home / "otel" / "copilot-otel.jsonl")
    res = import_json(data, "copilot-cli", env=env)
    # session 1: its 3 store rows; session 3: its 2 chat spans; session 2: its 2 shutdowns
    assert (res["imported"], res["unreadable"]) == (7, 0)
    rows = _rows(data, env)
    assert [_billed(r) for r in rows] == [
        # 11-02, the store (joined to the usage records by session and tokens: it has no call id)
        ("premium", "claude-sonnet-4.5", 2000, 400, 20000, 3000),
        ("byok", "claude-sonnet-4.5", 2000, 600, 28000, 0),
        # a plan request of an included model (0x) that Copilot reported no AI credits for: its
        # row looks like an own-key one, its usage record says it was not
        ("premium", "gpt-4.1", 5000, 200, 0, 0),
        # 11-03: session 2's first run, on the plan; session 3's spans (joined by their
        # gen_ai.response.id, the record's apiCallId), the first again a 0x plan request
        ("premium", "gpt-5", 4000, 500, 6000, 0),
        ("premium", "gpt-4.1", 8000, 100, 0, 0),
        ("byok", "claude-sonnet-4.5", 1000, 300, 10000, 1000),
        # 11-04: session 2 resumed with the user's own key: what its second shutdown added
        ("byok", "gpt-5", 2000, 300, 3000, 0),
    ]
    cost = [r["costUsd"] for r in rows]
    credits = [r["credits"] for r in rows]
    # the plan request's recorded 5e9 nano AI units: $0.05, 5 AI credits
    assert (cost[0], credits[0]) == (pytest.approx(0.05), pytest.approx(5.0))
    # own key: list price (claude-sonnet-4.5 $3 / $15 / $0.30 / $3.75 per million tokens, gpt-5
    # $1.25 / $10 / $0.125), no credits
    assert [cost[i] for i in (1, 5, 6)] == [
        pytest.approx((2000 * 3 + 600 * 15 + 28000 * 0.3) / 1e6),
        pytest.approx((1000 * 3 + 300 * 15 + 10000 * 0.3 + 1000 * 3.75) / 1e6),
        pytest.approx((2000 * 1.25 + 300 * 10 + 3000 * 0.125) / 1e6),
    ]
    assert [credits[i] for i in (1, 5, 6)] == [0, 0, 0]
    assert cost[3] == pytest.approx(0.02)  # session 2's first run: 2e9 nano AI units
    assert all(credits[i] > 0 for i in (0, 2, 3, 4))  # plan usage spends credits
    assert import_json(data, "copilot-cli", env=env)["imported"] == 0
    assert len(_rows(data, env)) == 7
    # the store alone (the sessions' events and spans gone): a row tells by itself that it has no AI-credit
    # figure at a 0x multiplier, as 1.0.102 writes an own-key row; so does the included model's
    # plan row, which is then taken for an own-key one
    alone = _copilot_home(tmp_path / "alone", "copilot-cli-byok", store_only=True)
    data2 = tmp_path / "data2"
    write_config(data2, 'timezone = "UTC"\n')
    env2 = clean_env(tmp_path, COPILOT_HOME=alone)
    assert import_json(data2, "copilot-cli", env=env2)["imported"] == 3
    assert [r["billing"] for r in _rows(data2, env2)] == ["premium", "byok", "byok"]


def test_copilot_cli_a_store_row_written_after_its_usage_record_was_read(tmp_path, data):
    # the watcher may read a session's events (the usage record of a request) in one import and
    # the store's row of that request in the next, the events file unchanged: the records are
    # joined within an import, so the row is booked as it looks (1.0.102's own-key row: no AI
    # units at 0x)
    home = _copilot_home(tmp_path, "copilot-cli-byok")
    shutil.rmtree(home / "otel")
    for other in ("2", "3"):
        shutil.rmtree(home / "session-state" / f"b70c0000-0000-4000-8000-00000000000{other}")
    con = sqlite3.connect(home / "session-store.db")
    later = con.execute("SELECT * FROM assistant_usage_events WHERE id >= 2").fetchall()
    con.execute("DELETE FROM assistant_usage_events WHERE id >= 2")
    con.commit()
    env = clean_env(tmp_path, COPILOT_HOME=home)
    assert import_json(data, "copilot-cli", env=env)["imported"] == 1
    con.executemany(f"INSERT INTO assistant_usage_events VALUES ({', '.join('?' * len(later[0]))})", later)
    con.commit()
    con.close()
    res = import_json(data, "copilot-cli", env=env)
    assert (res["imported"], res["tools"][0]["filesRead"]) == (2, 1)  # the store only: the events file is unchanged
    # row 2 as it looks (own key), row 3 too: its record (a plan request) is not at hand
    assert [r["billing"] for r in _rows(data, env)] == ["premium", "byok", "byok"]


def test_copilot_cli_otel_file_where_the_user_sent_it(tmp_path, data):
    spans = (MORE / "copilot-cli" / "otel" / "copilot-otel.jsonl").read_text()
    elsewhere = tmp_path / "traces" / "copilot.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text(spans)
    env = clean_env(tmp_path, COPILOT_HOME=tmp_path / "none", COPILOT_OTEL_FILE_EXPORTER_PATH=elsewhere)
    assert import_json(data, "copilot-cli", env=env)["imported"] == 2  # its two chat spans
