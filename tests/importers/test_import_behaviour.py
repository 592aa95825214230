"""What a user notices when importing: nothing twice, only what is new, bad lines counted and
skipped (never a crash, never a partial record), and every tool's logs mapped the same way."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import time

import orjson
import pytest
from ccusage_compare import FIXTURES, clean_env, import_json, our_daily, usage_ls, write_config
from synth_logs import claude_logs, codex_logs

SAMPLES = FIXTURES / "samples"
CLAUDE_FILE = "projects/-home-dev-proj-widget/3f1c2a9e-7b4d-4c1e-9a55-0d2b8e6f4a17.jsonl"


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    write_config(d, 'timezone = "UTC"\n')
    return d


def _claude_copy(tmp_path):
    root = tmp_path / "claude"
    shutil.copytree(SAMPLES / "claude", root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return root


def _assistant(mid, rid, ts, out=100, model="claude-sonnet-4-5-20250929"):
    return {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/proj/widget",
        "sessionId": "s-1",
        "version": "2.0.14",
        "type": "assistant",
        "uuid": f"u-{mid}-{out}",
        "timestamp": ts,
        "requestId": rid,
        "message": {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "ok"}],
            "usage": {
                "input_tokens": 10,
                "output_tokens": out,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 500,
            },
        },
    }


def _append(path, *objs, raw: bytes = b""):
    with open(path, "ab") as f:
        for o in objs:
            f.write(orjson.dumps(o) + b"\n")
        f.write(raw)


def test_reimport_imports_nothing_and_reads_no_file(tmp_path, data):
    env = clean_env(
        tmp_path,
        CLAUDE_CONFIG_DIR=claude_logs(tmp_path / "c", sessions=12),
        CODEX_HOME=codex_logs(tmp_path / "x", sessions=6),
    )
    first = import_json(data, "all", env=env)
    assert first["imported"] > 0
    before = our_daily(data, "2026-11-01", "2026-11-30", env=env)
    again = import_json(data, "all", env=env)
    assert again["imported"] == 0
    assert all(t["filesRead"] == 0 for t in again["tools"])
    assert our_daily(data, "2026-11-01", "2026-11-30", env=env) == before
    # even with the offsets forgotten, the ids keep every record single
    (data / "imports.json").unlink()
    forgot = import_json(data, "all", env=env)
    assert forgot["imported"] == 0 and forgot["duplicates"] > 0
    assert our_daily(data, "2026-11-01", "2026-11-30", env=env) == before


def test_grown_file_is_read_from_where_the_last_import_stopped(tmp_path, data):
    root = _claude_copy(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    assert import_json(data, "claude-code", env=env)["imported"] == 4
    path = root / CLAUDE_FILE
    size = path.stat().st_size
    # a new response (split over two lines) and a resumed copy of an old one
    old = orjson.loads(path.read_bytes().splitlines()[3])  # a line with its final counts (stop_reason set)
    _append(
        path,
        _assistant("msg_new", "req_new", "2026-11-20T15:00:00.000Z", out=50),
        _assistant("msg_new", "req_new", "2026-11-20T15:00:00.100Z", out=70),
        old,
    )
    state = json.loads((data / "imports.json").read_text())
    assert next(iter(state["files"].values()))["offset"] == size
    second = import_json(data, "claude-code", env=env)
    assert (second["imported"], second["duplicates"]) == (1, 2)
    day = our_daily(data, "2026-11-20", "2026-11-20", env=env)["2026-11-20"]
    assert day["output"] == 1_260 + 70 and day["cacheRead"] == 20_000 + 500


def test_bad_lines_are_skipped_and_counted_with_the_first_reason(tmp_path, data):
    root = _claude_copy(tmp_path)
    path = root / CLAUDE_FILE
    _append(path, raw=b"this is not json at all\n")
    _append(path, _assistant("msg_ok", "req_ok", "2026-11-20T16:00:00.000Z", out=40))
    bad_ts = _assistant("msg_badts", "req_badts", "yesterday", out=40)
    _append(path, bad_ts)
    truncated = orjson.dumps(_assistant("msg_late", "req_late", "2026-11-20T16:05:00.000Z", out=30))
    _append(path, raw=truncated[:80])  # a line still being written
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    out = usage_ls(data, "import", "claude-code", env=env)
    line = out.stdout.strip()
    # the line still being written is not unreadable: it is read next time, and said so
    assert line.startswith("claude-code: imported 5, skipped 1 as duplicate, 2 as unreadable (first: ")
    assert "not a JSON object" in line
    assert line.endswith(", 1 line(s) left for next time (still being written); 1 of 1 file(s) read")
    day = our_daily(data, "2026-11-20", "2026-11-20", env=env)["2026-11-20"]
    assert day["output"] == 1_260 + 40  # never a partial record
    # the writer finishes the line: the next import reads it, and only it
    _append(path, raw=truncated[80:] + b"\n")
    again = import_json(data, "claude-code", env=env)
    assert (again["imported"], again["unreadable"]) == (1, 0)
    assert our_daily(data, "2026-11-20", "2026-11-20", env=env)["2026-11-20"]["output"] == 1_260 + 40 + 30


def test_codex_unknown_event_garbage_and_reemitted_totals(tmp_path, data):
    root = tmp_path / "codex"
    shutil.copytree(SAMPLES / "codex", root)
    path = next(root.rglob("*.jsonl"))
    path.chmod(0o644)
    env = clean_env(tmp_path, CODEX_HOME=root)
    assert import_json(data, "codex", env=env)["imported"] == 2
    lines = path.read_bytes().splitlines()
    last_event = orjson.loads(lines[-1])
    reemit = dict(last_event, timestamp="2026-11-19T10:16:41.000Z")
    new = json.loads(json.dumps(last_event))
    new["timestamp"] = "2026-11-19T10:20:00.000Z"
    info = new["payload"]["info"]
    info["last_token_usage"] = {
        "input_tokens": 1000,
        "cached_input_tokens": 400,
        "output_tokens": 90,
        "reasoning_output_tokens": 10,
        "total_tokens": 1090,
    }
    info["total_token_usage"] = {
        k: info["total_token_usage"][k] + info["last_token_usage"][k] for k in info["last_token_usage"]
    }
    _append(
        path,
        reemit,
        {"timestamp": "2026-11-19T10:19:00.000Z", "type": "brand_new_event", "payload": {}},
        new,
        raw=b"{garbage\n",
    )
    res = import_json(data, "codex", env=env)
    # an event type this version does not know is not usage, and not a problem: only the line
    # that is not JSON is unreadable
    assert (res["imported"], res["unreadable"]) == (1, 1)
    assert "not JSON" in res["tools"][0]["firstReason"]
    day = our_daily(data, "2026-11-19", "2026-11-19", env=env)["2026-11-19"]
    assert (day["input"], day["cacheRead"], day["output"]) == (13_000 + 600, 14_000 + 400, 1_300 + 90)


def test_a_file_that_vanishes_mid_read_is_counted_not_fatal(tmp_path, data, monkeypatch):
    from usage_ls.importers import Importer
    from usage_ls.importers.claude_code import ClaudeCode

    root = claude_logs(tmp_path / "c", sessions=4)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    victim = sorted(root.rglob("*.jsonl"))[0]
    real_read = ClaudeCode.read

    def read(self, path, *a, **kw):
        if path == victim.resolve():
            victim.unlink()
        return real_read(self, path, *a, **kw)

    monkeypatch.setattr(ClaudeCode, "read", read)
    imp = Importer(data)
    try:
        tally = imp.run("claude-code")
    finally:
        imp.close()
    assert tally.unreadable == 1 and "vanished" in tally.first_reason
    assert tally.imported > 0


def test_unknown_tool_is_refused(tmp_path, data):
    out = usage_ls(data, "import", "vim", check=False)
    assert out.returncode == 2 and "unknown tool 'vim'" in out.stderr


# -- the other tools ----------------------------------------------------------------------


def _rows(data, env):
    out = usage_ls(
        data,
        "report",
        "interactions",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--limit",
        "100",
        "--json",
        env=env,
    )
    return sorted(json.loads(out.stdout)["rows"], key=lambda r: r["timestamp"])


def test_gemini_chat_recordings(tmp_path, data):
    chats = tmp_path / "gemini" / "abcdef0123456789" / "chats"
    chats.mkdir(parents=True)
    msg = {
        "id": "m1",
        "timestamp": "2026-11-19T08:00:00.000Z",
        "type": "gemini",
        "model": "gemini-2.5-pro",
        "tokens": {"input": 12000, "output": 300, "cached": 8000, "thoughts": 200, "tool": 50, "total": 12550},
    }
    lines = [
        {"sessionId": "sess-1", "projectHash": "abcdef", "startTime": "2026-11-19T07:59:00Z"},
        {"id": "u1", "timestamp": "2026-11-19T07:59:30.000Z", "type": "user", "content": "hi"},
        dict(msg, tokens=dict(msg["tokens"], output=10)),
        msg,
    ]
    (chats / "session-2026-11-19T07-59-abc.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    env = clean_env(tmp_path, GEMINI_DATA_DIR=tmp_path / "gemini")
    assert import_json(data, "gemini", env=env)["imported"] == 1
    (row,) = _rows(data, env)
    assert (row["inputTokens"], row["cacheReadTokens"], row["outputTokens"]) == (12000 - 8000 + 50, 8000, 300 + 200)
    assert (row["feature"], row["session"], row["model"]) == ("gemini", "sess-1", "gemini-2.5-pro")


def test_cline_roo_and_kilo_task_histories(tmp_path, data):
    user_dir = tmp_path / "Code" / "User"
    for ext in ("saoudrizwan.claude-dev", "rooveterinaryinc.roo-cline"):
        task = user_dir / "globalStorage" / ext / "tasks" / "1795050000000"
        task.mkdir(parents=True)
        req = {
            "request": "<task>fix it</task>\n<environment_details>\n# Current Working Directory (/home/dev/proj/widget) Files\n",
            "tokensIn": 120,
            "tokensOut": 340,
            "cacheWrites": 2000,
            "cacheReads": 15000,
            "cost": 0.0321,
            "modelId": "claude-sonnet-4-5-20250929",
            "providerId": "anthropic",
        }
        msgs = [
            {"ts": 1795050000000, "type": "say", "say": "task", "text": "fix it"},
            {"ts": 1795050001000, "type": "say", "say": "api_req_started", "text": json.dumps(req)},
            {
                "ts": 1795050009000,
                "type": "say",
                "say": "api_req_started",
                "text": json.dumps({"request": "still running"}),
            },
        ]
        (task / "ui_messages.json").write_text(json.dumps(msgs))
    env = clean_env(tmp_path, USAGE_LS_VSCODE_USER_DIRS=user_dir)
    assert import_json(data, "cline", env=env)["imported"] == 2
    rows = _rows(data, env)
    assert {r["feature"] for r in rows} == {"cline", "roo-code"}
    for r in rows:
        assert (r["inputTokens"], r["outputTokens"], r["cacheWriteTokens"], r["cacheReadTokens"]) == (
            120,
            340,
            2000,
            15000,
        )
        assert (r["project"], r["costUsd"], r["costSource"]) == ("widget", 0.0321, "reported")


def test_opencode_database_and_message_files(tmp_path, data):
    base = tmp_path / "xdg" / "opencode"
    base.mkdir(parents=True)
    con = sqlite3.connect(base / "opencode.db")
    con.execute("CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT, data TEXT)")
    msg = {
        "role": "assistant",
        "modelID": "claude-sonnet-4-5",
        "providerID": "anthropic",
        "cost": 0,
        "tokens": {"input": 50, "output": 400, "reasoning": 100, "cache": {"read": 9000, "write": 700}},
        "time": {"created": 1795050000000, "completed": 1795050005000},
        "path": {"cwd": "/home/dev/proj/widget/src", "root": "/home/dev/proj/widget"},
    }
    con.execute("INSERT INTO message VALUES (?, ?, ?)", ("msg_a", "ses_1", json.dumps(msg)))
    con.execute(
        "INSERT INTO message VALUES (?, ?, ?)",
        ("msg_u", "ses_1", json.dumps({"role": "user", "time": {"created": 1795050000000}})),
    )
    con.execute("INSERT INTO message VALUES (?, ?, ?)", ("msg_bad", "ses_1", "{not json"))
    con.commit()
    con.close()
    env = clean_env(tmp_path, XDG_DATA_HOME=tmp_path / "xdg")
    res = import_json(data, "opencode", env=env)
    assert (res["imported"], res["unreadable"]) == (1, 1)
    (row,) = _rows(data, env)
    assert (row["inputTokens"], row["outputTokens"], row["cacheReadTokens"], row["cacheWriteTokens"]) == (
        50,
        500,
        9000,
        700,
    )
    assert (row["project"], row["session"], row["costSource"]) == ("widget", "ses_1", "computed")


def test_continue_token_log(tmp_path, data):
    dev = tmp_path / "continue" / "dev_data" / "0.2.0"
    dev.mkdir(parents=True)
    lines = [
        {
            "model": "gpt-4.1-mini",
            "provider": "openai",
            "promptTokens": 900,
            "generatedTokens": 60,
            "createdAt": "2026-11-19T10:00:00.000Z",
        },
        {
            "model": "gpt-4.1-mini",
            "provider": "openai",
            "promptTokens": 0,
            "generatedTokens": 0,
            "createdAt": "2026-11-19T10:01:00.000Z",
        },
    ]
    (dev / "tokensGenerated.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines) + b"garbage\n")
    env = clean_env(tmp_path, CONTINUE_GLOBAL_DIR=tmp_path / "continue")
    res = import_json(data, "continue", env=env)
    assert (res["imported"], res["unreadable"]) == (1, 1)
    (row,) = _rows(data, env)
    assert (row["inputTokens"], row["outputTokens"], row["feature"]) == (900, 60, "continue")


def test_aider_chat_history_and_analytics(tmp_path, data):
    repo = tmp_path / "widget"
    repo.mkdir()
    (repo / ".aider.chat.history.md").write_text(
        "\n# aider chat started at 2026-11-19 09:00:00\n\n> Aider v0.86.1\n> Main model: claude-sonnet-4-5-20250929 with diff edit format\n"
        "\n#### fix the test\n\nSure.\n\n> Tokens: 12k sent, 2.5k cache write, 8.1k cache hit, 512 received. Cost: $0.03 message, $0.03 session.\n"
        "\n#### thanks\n\n> Tokens: 1,200 sent, 80 received. Cost: $0.0048 message, $0.04 session.\n"
    )
    log = tmp_path / "analytics.jsonl"
    log.write_text(
        json.dumps(
            {
                "event": "message_send",
                "user_id": "u",
                "time": 1795050000,
                "properties": {
                    "main_model": "gpt-4.1",
                    "prompt_tokens": 3000,
                    "completion_tokens": 200,
                    "total_tokens": 3200,
                    "cost": 0.0076,
                },
            }
        )
        + "\n"
        + json.dumps({"event": "launched", "user_id": "u", "time": 1795049900, "properties": {}})
        + "\n"
    )
    env = clean_env(tmp_path)
    res = import_json(data, "aider", repo, log, env=env)
    assert (res["imported"], res["unreadable"]) == (3, 0)
    rows = _rows(data, env)
    hist = sorted((r for r in rows if r["project"] == "widget"), key=lambda r: -r["outputTokens"])
    assert [
        (r["inputTokens"], r["cacheWriteTokens"], r["cacheReadTokens"], r["outputTokens"], r["costUsd"]) for r in hist
    ] == [(12000 - 2500 - 8100, 2500, 8100, 512, 0.03), (1200, 0, 0, 80, 0.0048)]
    assert all(r["timestamp"].startswith("2026-11-19T09:00:00") for r in hist)
    assert import_json(data, "aider", repo, log, env=env)["imported"] == 0


def test_import_all_reads_every_tools_default_place(tmp_path, data):
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=SAMPLES / "claude", CODEX_HOME=SAMPLES / "codex")
    out = usage_ls(data, "import", "all", env=env).stdout
    assert "claude-code: imported 4, skipped 1 as duplicate, 0 as unreadable" in out
    assert "codex: imported 2, skipped 0 as duplicate, 0 as unreadable" in out
    # the tools this machine does not have: one line, not one each
    (missing,) = [line for line in out.splitlines() if line.startswith("no logs found for: ")]
    assert "gemini" in missing.split(": ", 1)[1].split(", ") and "claude-code" not in missing
    assert not any(line.endswith("no logs found") for line in out.splitlines())


def test_reimport_of_many_unchanged_files_is_fast(tmp_path, data):
    root = claude_logs(tmp_path / "c", sessions=300, days=20)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    import_json(data, "claude-code", env=env)
    started = time.perf_counter()
    again = import_json(data, "claude-code", env=env)
    assert again["imported"] == 0 and again["seconds"] < 1.0
    assert time.perf_counter() - started < 3.0  # including the interpreter starting


def _all_interactions(data, env) -> list[dict]:
    out = usage_ls(
        data,
        "report",
        "interactions",
        "--from",
        "2026-10-01",
        "--to",
        "2026-12-31",
        "--limit",
        "10000",
        "--json",
        env=env,
    )
    return sorted(orjson.loads(out.stdout)["rows"], key=lambda r: r["id"])


def test_parallel_import_gives_exactly_what_a_serial_import_gives(tmp_path):
    # A big import reads its files in worker processes (one per core); forced here on small
    # logs, with garbage, a bad timestamp, sidechain replays and split responses in them.
    root = claude_logs(tmp_path / "claude", seed=23, sessions=30)
    victim = sorted(root.rglob("*.jsonl"))[3]
    _append(victim, raw=b"garbage line\n")
    _append(victim, _assistant("msg_badts2", "req_badts2", "not a time", out=5))
    results, reports = [], []
    for workers in ("0", "2"):
        data = tmp_path / f"data-{workers}"
        write_config(data, 'timezone = "UTC"\n')
        env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root, USAGE_LS_IMPORT_WORKERS=workers)
        res = import_json(data, "claude-code", env=env)
        res.pop("seconds")
        results.append(res)
        reports.append((our_daily(data, "2026-10-01", "2026-12-31", env=env), _all_interactions(data, env)))
        again = import_json(data, "claude-code", env=env)
        assert again["imported"] == 0
    assert results[0] == results[1]
    assert results[0]["imported"] > 300 and results[0]["duplicates"] > 0 and results[0]["unreadable"] == 2
    assert reports[0] == reports[1]


def test_import_after_a_crash_between_day_files_and_id_index_adds_nothing_twice(tmp_path, data):
    # The bulk path writes day files, then rollups, then the id index and import state. A
    # crash after the day files left records there that the index and the state don't know:
    # importing again must not count them twice.
    root = _claude_copy(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    first = import_json(data, "claude-code", env=env)
    before = our_daily(data, "2026-11-01", "2026-11-30", env=env)
    rows_before = _all_interactions(data, env)
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.zeros(0, dtype=np.uint64), allow_pickle=False)
    (data / "ids.npy").write_bytes(buf.getvalue())
    (data / "imports.json").unlink()
    for p in data.glob("imports-claude-code-*.npy"):
        p.unlink()
    again = import_json(data, "claude-code", env=env)
    assert again["imported"] == 0 and again["duplicates"] >= first["imported"]
    assert our_daily(data, "2026-11-01", "2026-11-30", env=env) == before
    assert _all_interactions(data, env) == rows_before


def _two_data_dirs(tmp_path, name: str, *, seed: int, sessions: int):
    """Generated Claude Code logs, a data directory to hurt and a clean one to compare with,
    and an environment that imports with two workers: (hurt, clean, env)."""
    root = claude_logs(tmp_path / "claude", seed=seed, sessions=sessions)
    hurt, clean = tmp_path / name, tmp_path / "clean"
    for d in (hurt, clean):
        write_config(d, 'timezone = "UTC"\n')
    return hurt, clean, clean_env(tmp_path, CLAUDE_CONFIG_DIR=root, USAGE_LS_IMPORT_WORKERS="2")


def test_a_worker_killed_while_days_are_being_written_loses_nothing(tmp_path):
    # Workers hand their days to the parent one at a time, and the parent writes each day file
    # as soon as all its parts are in. A worker killed half-way (OOM killer, kill -9) leaves
    # some day files written: the import goes on serially and ends exactly as a clean one.
    import subprocess
    import sys

    hurt, clean, env = _two_data_dirs(tmp_path, "hurt", seed=31, sessions=60)
    killer = (
        "import os, sys\n"
        "from usage_ls.store import bulk\n"
        "parent, real, seen = os.getpid(), bulk.day_part, []\n"
        "def day_part(day, items, tz):\n"
        "    seen.append(day)\n"
        "    if os.getpid() != parent and len(seen) == 4:\n"
        "        os._exit(9)  # dies like a killed process: no message, no clean-up\n"
        "    return real(day, items, tz)\n"
        "bulk.day_part = day_part\n"
        "from usage_ls.cli import main\n"
        "sys.argv = ['usage-ls'] + sys.argv[1:]\n"
        "sys.exit(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", killer, "--data-dir", str(hurt), "import", "claude-code", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "reading serially" in out.stderr  # it said what happened
    got = json.loads(out.stdout)
    want = import_json(clean, "claude-code", env=env)
    for r in (got, want):
        r.pop("seconds")
    assert got == want
    assert our_daily(hurt, "2026-10-01", "2026-12-31", env=env) == our_daily(clean, "2026-10-01", "2026-12-31", env=env)
    assert _all_interactions(hurt, env) == _all_interactions(clean, env)
    assert not (hurt / "bulk-intent.json").exists()
    assert import_json(hurt, "claude-code", env=env)["imported"] == 0


def _small_files():
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as a full disk fails with ENOSPC
    resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, resource.RLIM_INFINITY))


def test_a_full_disk_stops_the_import_clearly_and_a_rerun_completes_it(tmp_path):
    import subprocess
    import sys

    full, clean, env = _two_data_dirs(tmp_path, "full", seed=5, sessions=120)
    out = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(full), "import", "claude-code"],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_small_files,
        timeout=300,
    )
    assert out.returncode == 1
    assert "cannot write to" in out.stderr and "run the import again" in out.stderr
    # the disk is back: the rerun adds what is missing, and nothing twice
    import_json(full, "claude-code", env=env)
    import_json(clean, "claude-code", env=env)
    assert our_daily(full, "2026-10-01", "2026-12-31", env=env) == our_daily(clean, "2026-10-01", "2026-12-31", env=env)
    assert _all_interactions(full, env) == _all_interactions(clean, env)


def test_import_shows_a_progress_bar_on_a_terminal_only(tmp_path, data):
    """tqdm on standard error when it is a terminal (a pty here); none in a pipe or with --json."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    root = claude_logs(tmp_path / "c", sessions=400, days=30)  # a read that takes a moment
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "import", "claude-code"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 0
    assert b"importing claude-code" in seen and b"%|" in seen, seen[-500:]
    piped = usage_ls(tmp_path / "data2", "import", "claude-code", env=env)
    assert "importing" not in piped.stderr and "%|" not in piped.stderr
