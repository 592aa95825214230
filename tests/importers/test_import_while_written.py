"""Importing logs as the tools write them: while a transcript grows (a response's lines still
to come, a line half-written), and files that start with a UTF-8 byte order mark."""

from __future__ import annotations

import json
import shutil

import orjson
import pytest
from ccusage_compare import FIXTURES, clean_env, import_json, usage_ls, write_config
from synth_logs import claude_logs

SAMPLES = FIXTURES / "samples"
BOM = b"\xef\xbb\xbf"


def _data(tmp_path, name: str):
    d = tmp_path / name
    write_config(d, 'timezone = "UTC"\n')
    return d


def _ledger(data, env) -> tuple[dict, list]:
    """(messages, tokens and cost over the whole range, every record's id and tokens)."""
    days = json.loads(
        usage_ls(data, "report", "daily", "--from", "2026-01-01", "--to", "2030-12-31", "--json", env=env).stdout
    )["days"]
    keys = ("messages", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")
    totals = {k: sum(d[k] for d in days) for k in keys}
    totals["costUsd"] = round(sum(d["costUsd"] for d in days), 6)
    rows = json.loads(
        usage_ls(
            data,
            "report",
            "interactions",
            "--from",
            "2026-01-01",
            "--to",
            "2030-12-31",
            "--limit",
            "5000",
            "--json",
            env=env,
        ).stdout
    )["rows"]
    return totals, sorted(
        (r["id"], r["inputTokens"], r["outputTokens"], r["cacheReadTokens"], r["cacheWriteTokens"], r["session"])
        for r in rows
    )


def _generated_transcript(tmp_path) -> tuple[bytes, list[int]]:
    """A generated session written the way Claude Code before 2.1 wrote one: a line per content
    block as the block ended, the earlier ones with partial output counts and no stop_reason.
    Returns its bytes and where to cut it so that an import falls between the lines of such a
    response, with the next line half-written."""
    root = claude_logs(tmp_path / "gen", seed=11, sessions=6)
    main = max((p for p in root.rglob("*.jsonl") if "subagents" not in p.parts), key=lambda p: p.stat().st_size)
    data = main.read_bytes()
    lines = data.splitlines(keepends=True)
    cuts, at = [], 0
    for i, line in enumerate(lines[:-1]):
        at += len(line)
        obj, nxt = orjson.loads(line), orjson.loads(lines[i + 1])
        msg, nmsg = obj.get("message"), nxt.get("message")
        if (
            obj.get("type") == "assistant"
            and nxt.get("type") == "assistant"
            and msg["id"] == nmsg["id"]
            and msg["usage"]["output_tokens"] < nmsg["usage"]["output_tokens"]
        ):
            cuts.append(at + len(lines[i + 1]) // 2)  # the partial line, and half of the next
            if len(cuts) == 2:
                break
    assert len(cuts) == 2, "the generated session should have responses streamed over several lines"
    return data, cuts


@pytest.mark.parametrize("source", ["generated", "real"])
def test_ten_imports_while_a_transcript_is_written_count_what_one_import_counts(tmp_path, source, request):
    if source == "real":
        home, _answered = request.getfixturevalue("claude_run")
        (main,) = [p for p in (home / ".claude" / "projects").glob("*/*.jsonl") if p.stem.startswith("5e551013")]
        full, cuts = main.read_bytes(), []
    else:
        full, cuts = _generated_transcript(tmp_path)
    # ten imports: at the cuts above and elsewhere, mostly in the middle of a line, the last one
    # when the file is complete
    step = len(full) // 10
    cuts = sorted(set(cuts) | {step * k + 17 for k in range(1, 10)})[:9] + [len(full)]
    assert len(cuts) == 10
    root = tmp_path / "live"
    path = root / "projects" / "-home-dev-src-app" / "6a0e6d1e-5e55-4000-8000-00000000beef.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    data = _data(tmp_path, "data")
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    left = 0
    for cut in cuts:
        with open(path, "ab") as f:
            f.write(full[path.stat().st_size : cut])
        res = import_json(data, "claude-code", env=env)
        # a line the tool is still writing is not unreadable: it is read next time
        assert res["unreadable"] == 0, res["tools"][0]["firstReason"]
        left += res["leftForNextTime"]
    assert left >= 2 if source == "generated" else left >= 1
    once = _data(tmp_path, "once")
    import_json(once, "claude-code", env=env)
    assert _ledger(data, env) == _ledger(once, env)


def test_a_half_written_last_line_is_left_for_next_time_not_unreadable(tmp_path):
    root = tmp_path / "codex"
    shutil.copytree(SAMPLES / "codex", root)
    path = next(root.rglob("*.jsonl"))
    path.chmod(0o644)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:50])  # Codex is writing the last event
    data = _data(tmp_path, "data")
    env = clean_env(tmp_path, CODEX_HOME=root)
    out = usage_ls(data, "import", "codex", env=env).stdout.strip()
    assert out == (
        "codex: imported 1, skipped 0 as duplicate, 0 as unreadable, 1 line(s) left for next time "
        "(still being written); 1 of 1 file(s) read"
    )
    path.write_bytes(b"".join(lines))  # ... and finishes it
    res = import_json(data, "codex", env=env)
    assert (res["imported"], res["unreadable"], res["leftForNextTime"]) == (1, 0, 0)


def _claude_bom_file(tmp_path):
    # a transcript whose first line is a response (the sample's from its fifth line on)
    src = next((SAMPLES / "claude").rglob("*.jsonl"))
    dest = tmp_path / "claude" / "projects" / src.parent.name / src.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"".join(src.read_bytes().splitlines(keepends=True)[5:]))
    return dest, {"CLAUDE_CONFIG_DIR": tmp_path / "claude"}


def _codex_bom_file(tmp_path):
    shutil.copytree(SAMPLES / "codex", tmp_path / "codex")
    return next((tmp_path / "codex").rglob("*.jsonl")), {"CODEX_HOME": tmp_path / "codex"}


def _gemini_bom_file(tmp_path):
    chats = tmp_path / "gemini" / "project" / "chats"
    chats.mkdir(parents=True)
    lines = [
        {"sessionId": "sess-bom", "projectHash": "abc", "startTime": "2026-11-19T07:59:00Z", "kind": "main"},
        {
            "id": "m1",
            "timestamp": "2026-11-19T08:00:00.000Z",
            "type": "gemini",
            "model": "gemini-2.5-pro",
            "tokens": {"input": 1200, "output": 30, "cached": 800, "thoughts": 5, "tool": 0, "total": 1235},
        },
    ]
    path = chats / "session-2026-11-19T07-59-bom.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return path, {"GEMINI_DATA_DIR": tmp_path / "gemini"}


def _aider_bom_file(tmp_path):
    repo = tmp_path / "widget"
    repo.mkdir(parents=True)
    path = repo / ".aider.chat.history.md"
    path.write_text(
        "# aider chat started at 2026-11-19 09:00:00\n\n> Main model: gpt-4.1 with diff edit format\n"
        "\n#### fix it\n\n> Tokens: 1,200 sent, 80 received. Cost: $0.0048 message, $0.0048 session.\n"
    )
    return path, {}


@pytest.mark.parametrize(
    "tool, make",
    [
        ("claude-code", _claude_bom_file),
        ("codex", _codex_bom_file),
        ("gemini", _gemini_bom_file),
        ("aider", _aider_bom_file),
    ],
)
def test_a_byte_order_mark_at_the_start_of_a_log_loses_nothing(tmp_path, tool, make):
    path, dirs = make(tmp_path / "plain")
    args = [path.parent] if tool == "aider" else []
    env = clean_env(tmp_path / "plain", **dirs)
    plain = _data(tmp_path, "plain-data")
    want = import_json(plain, tool, *args, env=env)
    assert want["imported"] >= 1 and want["unreadable"] == 0
    path.chmod(0o644)
    path.write_bytes(BOM + path.read_bytes())  # as some editors and Windows tools save
    data = _data(tmp_path, "bom-data")
    got = import_json(data, tool, *args, env=env)
    assert (got["imported"], got["unreadable"]) == (want["imported"], 0), got["tools"][0]["firstReason"]
    assert _ledger(data, env) == _ledger(plain, env)  # same sessions and projects, too
